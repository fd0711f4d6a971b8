#include "common.h"

#include <sstream>

namespace senet {

dnnl::engine& engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::stream& stream() {
  static dnnl::stream s(engine());
  return s;
}

static std::unordered_map<std::string, std::unique_ptr<CacheEntry>>& cache() {
  static std::unordered_map<std::string, std::unique_ptr<CacheEntry>> c;
  return c;
}

CacheEntry* cacheGet(const std::string& key) {
  auto it = cache().find(key);
  return it == cache().end() ? nullptr : it->second.get();
}

CacheEntry* cachePut(const std::string& key, std::unique_ptr<CacheEntry> entry) {
  CacheEntry* raw = entry.get();
  cache()[key] = std::move(entry);
  return raw;
}

size_t cacheSize() { return cache().size(); }

void cacheClear() { cache().clear(); }

std::string makeKey(const char* op, const std::vector<int64_t>& params) {
  std::string key(op);
  for (int64_t p : params) {
    key += ',';
    key += std::to_string(p);
  }
  return key;
}

static float* floatData(const Napi::CallbackInfo& info, size_t i, size_t expected,
                        const char* what) {
  Napi::Env env = info.Env();
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, std::string(what) + " must be a Float32Array");
  }
  auto arr = v.As<Napi::Float32Array>();
  if (arr.ElementLength() != expected) {
    std::ostringstream msg;
    msg << what << " has " << arr.ElementLength() << " elements; expected " << expected;
    throw Napi::RangeError::New(env, msg.str());
  }
  return arr.Data();
}

float* floatArg(const Napi::CallbackInfo& info, size_t i, size_t expected, const char* what) {
  return floatData(info, i, expected, what);
}

float* optionalFloatArg(const Napi::CallbackInfo& info, size_t i, size_t expected,
                        const char* what) {
  if (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined()) return nullptr;
  return floatData(info, i, expected, what);
}

std::vector<int64_t> intsArg(const Napi::CallbackInfo& info, size_t i, size_t expected,
                             const char* what) {
  Napi::Env env = info.Env();
  if (!info[i].IsArray()) throw Napi::TypeError::New(env, std::string(what) + " must be an array");
  auto arr = info[i].As<Napi::Array>();
  if (arr.Length() != expected) {
    std::ostringstream msg;
    msg << what << " has " << arr.Length() << " entries; expected " << expected;
    throw Napi::RangeError::New(env, msg.str());
  }
  std::vector<int64_t> out(expected);
  for (uint32_t k = 0; k < expected; ++k) {
    Napi::Value e = arr.Get(k);
    if (!e.IsNumber()) throw Napi::TypeError::New(env, std::string(what) + " must hold numbers");
    out[k] = e.As<Napi::Number>().Int64Value();
  }
  return out;
}

Geometry geometryArg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  if (!info[i].IsObject()) throw Napi::TypeError::New(env, "geometry must be an object");
  Napi::Object o = info[i].As<Napi::Object>();
  auto field = [&](const char* name) -> int64_t {
    Napi::Value v = o.Get(name);
    if (!v.IsNumber()) {
      throw Napi::TypeError::New(env, std::string("geometry.") + name + " must be a number");
    }
    return v.As<Napi::Number>().Int64Value();
  };
  Geometry g;
  g.N = field("batch");
  g.H = field("inHeight");
  g.W = field("inWidth");
  g.C = field("inChannels");
  g.KH = field("filterHeight");
  g.KW = field("filterWidth");
  g.OC = field("outChannels");
  g.OH = field("outHeight");
  g.OW = field("outWidth");
  g.sh = field("strideHeight");
  g.sw = field("strideWidth");
  g.dh = field("dilationHeight");
  g.dw = field("dilationWidth");
  g.pt = field("padTop");
  g.pl = field("padLeft");
  g.pb = field("padBottom");
  g.pr = field("padRight");
  g.G = field("groups");
  return g;
}

dnnl::primitive_attr activationAttr(int activation, float alpha) {
  dnnl::primitive_attr attr;
  if (activation == static_cast<int>(Activation::linear)) return attr;
  dnnl::post_ops ops;
  switch (static_cast<Activation>(activation)) {
    case Activation::relu:
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      break;
    case Activation::relu6:
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, 0.f, 6.f);
      break;
    case Activation::leakyrelu:
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, alpha, 0.f);
      break;
    case Activation::elu:
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_elu, 1.f, 0.f);
      break;
    case Activation::sigmoid:
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_logistic, 0.f, 0.f);
      break;
    default:
      throw std::invalid_argument("unknown activation code " + std::to_string(activation));
  }
  attr.set_post_ops(ops);
  return attr;
}

Reorder makeReorder(const dnnl::memory::desc& from, const dnnl::memory::desc& to) {
  Reorder r;
  if (from == to) return r;
  r.needed = true;
  r.prim = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), from, engine(), to));
  return r;
}

void rethrow(Napi::Env env, const dnnl::error& e, const char* op) {
  throw Napi::Error::New(env, std::string("oneDNN ") + op + ": " + e.what());
}

}  // namespace senet
