// Node-API entry point: version, threads and cache control, plus the kernels of each file.
#include <omp.h>

#include "common.h"

namespace senet {

static Napi::Value Version(const Napi::CallbackInfo& info) {
  const dnnl_version_t* v = dnnl_version();
  std::string s = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                  std::to_string(v->patch) + " (" + (v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other") + ")";
  return Napi::String::New(info.Env(), s);
}

static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "setThreads(n) needs a number");
  }
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) throw Napi::RangeError::New(info.Env(), "threads must be >= 1");
  omp_set_num_threads(n);
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

static Napi::Value Threads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

static Napi::Value CacheSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(cacheSize()));
}

static Napi::Value CacheClear(const Napi::CallbackInfo& info) {
  cacheClear();
  return info.Env().Undefined();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::Function::New(env, guarded<Version>));
  exports.Set("setThreads", Napi::Function::New(env, guarded<SetThreads>));
  exports.Set("threads", Napi::Function::New(env, Threads));
  exports.Set("cacheSize", Napi::Function::New(env, CacheSize));
  exports.Set("cacheClear", Napi::Function::New(env, CacheClear));
  initConv(env, exports);
  initMatmul(env, exports);
  initPool(env, exports);
  initBnorm(env, exports);
  initElementwise(env, exports);
  initAttention(env, exports);
  return exports;
}

}  // namespace senet

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return senet::Init(env, exports);
}

NODE_API_MODULE(senet_onednn, InitModule)
