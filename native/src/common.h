// Shared state of the addon: one CPU engine and stream, a cache of primitives keyed by shape,
// and helpers to read Float32Arrays from JS without copying.
#pragma once
#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"
#include "op_codes.h"

namespace senet {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;
using dims = dnnl::memory::dims;

// The process-wide CPU engine.
dnnl::engine& engine();
// The in-order stream every primitive runs on (calls are synchronous).
dnnl::stream& stream();

// A cached entry: anything a kernel needs to run again for the same shapes.
struct CacheEntry {
  virtual ~CacheEntry() = default;
};

// Returns the entry cached under key, or nullptr.
CacheEntry* cacheGet(const std::string& key);
// Stores entry under key (the cache owns it) and returns it.
CacheEntry* cachePut(const std::string& key, std::unique_ptr<CacheEntry> entry);
// Number of cached entries.
size_t cacheSize();
// Drops every cached primitive.
void cacheClear();

// Builds a cache key from an op name and integer parameters.
std::string makeKey(const char* op, const std::vector<int64_t>& params);

// Reads argument i as a Float32Array of exactly `expected` elements (throws a JS TypeError).
float* floatArg(const Napi::CallbackInfo& info, size_t i, size_t expected, const char* what);
// Like floatArg, but null/undefined gives nullptr.
float* optionalFloatArg(const Napi::CallbackInfo& info, size_t i, size_t expected,
                        const char* what);
// Reads argument i as an array of integers.
std::vector<int64_t> intsArg(const Napi::CallbackInfo& info, size_t i, size_t expected,
                             const char* what);

// The geometry of one 2-D convolution or pooling window over NHWC data, read by field name from
// the descriptor TypeScript builds (convGeometry in src/backend/onednn-kernels/util.ts): conv,
// depthwise conv and pooling share it. Pooling has OC = C, dilations 1 and G = 1.
struct Geometry {
  int64_t N, H, W, C, KH, KW, OC, OH, OW, sh, sw, dh, dw, pt, pl, pb, pr, G;
  // The fields in declaration order, for cache keys.
  std::vector<int64_t> params() const { return {N, H, W, C, KH, KW, OC, OH, OW, sh, sw, dh, dw, pt, pl, pb, pr, G}; }
};
// Reads argument i as a Geometry descriptor (an object with every field named; throws a JS
// TypeError naming a missing or non-numeric field).
Geometry geometryArg(const Napi::CallbackInfo& info, size_t i);

// Primitive attributes applying the activation (an Activation code, op_codes.h) after the op
// (empty for linear).
dnnl::primitive_attr activationAttr(int activation, float alpha);

// A memory object over a user buffer (no copy).
inline dnnl::memory userMemory(const dnnl::memory::desc& md, float* data) {
  return dnnl::memory(md, engine(), data);
}

// Cached reorder between two descs, or an empty primitive when they are equal.
struct Reorder {
  dnnl::reorder prim;
  bool needed = false;
};
// Makes a reorder from `from` to `to` if their layouts differ.
Reorder makeReorder(const dnnl::memory::desc& from, const dnnl::memory::desc& to);

// Registers the kernels of each file on the exports object.
void initConv(Napi::Env env, Napi::Object exports);
void initMatmul(Napi::Env env, Napi::Object exports);
void initPool(Napi::Env env, Napi::Object exports);
void initBnorm(Napi::Env env, Napi::Object exports);
void initElementwise(Napi::Env env, Napi::Object exports);
void initAttention(Napi::Env env, Napi::Object exports);

// Wraps a kernel so that C++ exceptions (bad shapes, oneDNN errors) become JS exceptions.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value guarded(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(info.Env(), std::string("oneDNN: ") + e.what());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

// Converts a oneDNN error into a JS exception.
[[noreturn]] void rethrow(Napi::Env env, const dnnl::error& e, const char* op);

}  // namespace senet
