// Batched matrix multiply C[b] = op(A[b]) op(B[b]) (+ bias[N], activation), with tfjs's
// row-major layouts and transpose flags expressed as strides, and batch broadcasting of 1.
#include "common.h"

namespace senet {
namespace {

struct MatmulEntry : CacheEntry {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul prim;
};

// matmul(a, b, bias|null, c, {batchA, batchB, m, k, n, transposeA, transposeB}, activation,
// alpha): the shape is a named descriptor (MatmulShape in src/backend/onednn-addon.ts).
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[4].IsObject()) throw Napi::TypeError::New(env, "matmul shape must be an object");
  Napi::Object o = info[4].As<Napi::Object>();
  auto field = [&](const char* name) -> int64_t {
    Napi::Value v = o.Get(name);
    if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1 : 0;
    if (!v.IsNumber()) {
      throw Napi::TypeError::New(env, std::string("matmul shape.") + name + " must be a number");
    }
    return v.As<Napi::Number>().Int64Value();
  };
  std::vector<int64_t> p = {field("batchA"), field("batchB"), field("m"), field("k"),
                            field("n"), field("transposeA"), field("transposeB")};
  int64_t Ba = p[0], Bb = p[1], M = p[2], K = p[3], N = p[4];
  bool ta = p[5] != 0, tb = p[6] != 0;
  if (Ba < 1 || Bb < 1 || M < 1 || K < 1 || N < 1 || (Ba != Bb && Ba != 1 && Bb != 1)) {
    throw Napi::RangeError::New(env, "invalid matmul shape");
  }
  int64_t B = Ba > Bb ? Ba : Bb;
  float* a = floatArg(info, 0, Ba * M * K, "a");
  float* b = floatArg(info, 1, Bb * K * N, "b");
  float* bias = optionalFloatArg(info, 2, N, "bias");
  float* c = floatArg(info, 3, B * M * N, "c");
  int act = info[5].As<Napi::Number>().Int32Value();
  float alpha = info[6].As<Napi::Number>().FloatValue();
  // A is stored [Ba, M, K] or, transposed, [Ba, K, M]; likewise B.
  dnnl::memory::desc aMd({Ba, M, K}, dt::f32, ta ? dims{M * K, 1, M} : dims{M * K, K, 1});
  dnnl::memory::desc bMd({Bb, K, N}, dt::f32, tb ? dims{K * N, 1, K} : dims{K * N, N, 1});
  dnnl::memory::desc cMd({B, M, N}, dt::f32, dims{M * N, N, 1});
  dnnl::memory::desc biasMd({1, 1, N}, dt::f32, dims{N, N, 1});
  auto params = p;
  params.push_back(bias != nullptr);
  params.push_back(act);
  std::string key = makeKey("matmul", params) + "," + std::to_string(alpha);
  auto* e = static_cast<MatmulEntry*>(cacheGet(key));
  if (!e) {
    auto ne = std::make_unique<MatmulEntry>();
    auto d = bias ? dnnl::matmul::desc(aMd, bMd, biasMd, cMd) : dnnl::matmul::desc(aMd, bMd, cMd);
    ne->pd = dnnl::matmul::primitive_desc(d, activationAttr(act, alpha), engine());
    ne->prim = dnnl::matmul(ne->pd);
    e = static_cast<MatmulEntry*>(cachePut(key, std::move(ne)));
  }
  auto& st = stream();
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, userMemory(aMd, a)},
                                             {DNNL_ARG_WEIGHTS, userMemory(bMd, b)},
                                             {DNNL_ARG_DST, userMemory(cMd, c)}};
  if (bias) args[DNNL_ARG_BIAS] = userMemory(biasMd, bias);
  e->prim.execute(st, args);
  st.wait();
  return Napi::String::New(env, e->pd.impl_info_str());
}

}  // namespace

void initMatmul(Napi::Env env, Napi::Object exports) {
  exports.Set("matmul", Napi::Function::New(env, guarded<Matmul>));
}

}  // namespace senet
