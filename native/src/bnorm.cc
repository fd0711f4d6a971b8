// Batch normalisation over every axis but the last (channels-last data seen as [rows, C]):
// training forward (returns batch mean and biased variance) and backward (dx, dgamma, dbeta).
#include "common.h"

namespace senet {
namespace {

const auto kFlags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;

// Data as {N, C, rows/N, 1} in nhwc order: the same bytes as [rows, C] row-major, with the
// batch kept separate so oneDNN parallelises over it (one {rows, C} image ran single-threaded).
dnnl::memory::desc dataMd(int64_t rows, int64_t C, int64_t N) {
  return {{N, C, rows / N, 1}, dt::f32, tag::nhwc};
}
dnnl::memory::desc vecMd(int64_t C) { return {{C}, dt::f32, tag::x}; }

struct FwdEntry : CacheEntry {
  dnnl::batch_normalization_forward::primitive_desc pd;
  dnnl::batch_normalization_forward prim;
};

struct BwdEntry : CacheEntry {
  dnnl::batch_normalization_backward::primitive_desc pd;
  dnnl::batch_normalization_backward prim;
  dnnl::memory shift;  // oneDNN 2.6 asks for the shift argument in backward; its value is unused
};

dnnl::batch_normalization_forward::primitive_desc forwardPd(int64_t rows, int64_t C, int64_t N,
                                                            float eps) {
  dnnl::batch_normalization_forward::desc d(dnnl::prop_kind::forward_training, dataMd(rows, C, N),
                                            eps, kFlags);
  return {d, engine()};
}

float epsArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "epsilon must be a number");
  float eps = info[i].As<Napi::Number>().FloatValue();
  if (!(eps > 0)) throw Napi::RangeError::New(info.Env(), "epsilon must be > 0");
  return eps;
}

// batchNormForward(x, gamma, beta, y, mean, variance, [rows, C, N], epsilon)
Napi::Value Forward(const Napi::CallbackInfo& info) {
  auto p = intsArg(info, 6, 3, "shape");
  int64_t rows = p[0], C = p[1], N = p[2];
  if (rows < 1 || C < 1 || N < 1 || rows % N != 0) throw Napi::RangeError::New(info.Env(), "invalid batch-norm shape");
  float eps = epsArg(info, 7);
  float* x = floatArg(info, 0, rows * C, "x");
  float* g = floatArg(info, 1, C, "gamma");
  float* b = floatArg(info, 2, C, "beta");
  float* y = floatArg(info, 3, rows * C, "y");
  float* mean = floatArg(info, 4, C, "mean");
  float* var = floatArg(info, 5, C, "variance");
  std::string key = makeKey("bn_fwd", p) + "," + std::to_string(eps);
  auto* e = static_cast<FwdEntry*>(cacheGet(key));
  if (!e) {
    auto ne = std::make_unique<FwdEntry>();
    ne->pd = forwardPd(rows, C, N, eps);
    ne->prim = dnnl::batch_normalization_forward(ne->pd);
    e = static_cast<FwdEntry*>(cachePut(key, std::move(ne)));
  }
  auto& st = stream();
  auto md = dataMd(rows, C, N);
  e->prim.execute(st, {{DNNL_ARG_SRC, userMemory(md, x)},
                       {DNNL_ARG_DST, userMemory(md, y)},
                       {DNNL_ARG_SCALE, userMemory(vecMd(C), g)},
                       {DNNL_ARG_SHIFT, userMemory(vecMd(C), b)},
                       {DNNL_ARG_MEAN, userMemory(vecMd(C), mean)},
                       {DNNL_ARG_VARIANCE, userMemory(vecMd(C), var)}});
  st.wait();
  return Napi::String::New(info.Env(), e->pd.impl_info_str());
}

// batchNormBackward(x, dy, gamma, mean, variance, dx, dgamma, dbeta, [rows, C, N], epsilon)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  auto p = intsArg(info, 8, 3, "shape");
  int64_t rows = p[0], C = p[1], N = p[2];
  if (rows < 1 || C < 1 || N < 1 || rows % N != 0) throw Napi::RangeError::New(info.Env(), "invalid batch-norm shape");
  float eps = epsArg(info, 9);
  float* x = floatArg(info, 0, rows * C, "x");
  float* dy = floatArg(info, 1, rows * C, "dy");
  float* g = floatArg(info, 2, C, "gamma");
  float* mean = floatArg(info, 3, C, "mean");
  float* var = floatArg(info, 4, C, "variance");
  float* dx = floatArg(info, 5, rows * C, "dx");
  float* dg = floatArg(info, 6, C, "dgamma");
  float* db = floatArg(info, 7, C, "dbeta");
  std::string key = makeKey("bn_bwd", p) + "," + std::to_string(eps);
  auto* e = static_cast<BwdEntry*>(cacheGet(key));
  if (!e) {
    auto ne = std::make_unique<BwdEntry>();
    auto md = dataMd(rows, C, N);
    dnnl::batch_normalization_backward::desc d(dnnl::prop_kind::backward, md, md, eps, kFlags);
    ne->pd = dnnl::batch_normalization_backward::primitive_desc(d, engine(),
                                                                forwardPd(rows, C, N, eps));
    ne->prim = dnnl::batch_normalization_backward(ne->pd);
    ne->shift = dnnl::memory(vecMd(C), engine());
    e = static_cast<BwdEntry*>(cachePut(key, std::move(ne)));
  }
  auto& st = stream();
  auto md = dataMd(rows, C, N);
  e->prim.execute(st, {{DNNL_ARG_SRC, userMemory(md, x)},
                       {DNNL_ARG_DIFF_DST, userMemory(md, dy)},
                       {DNNL_ARG_SCALE, userMemory(vecMd(C), g)},
                       {DNNL_ARG_SHIFT, e->shift},
                       {DNNL_ARG_MEAN, userMemory(vecMd(C), mean)},
                       {DNNL_ARG_VARIANCE, userMemory(vecMd(C), var)},
                       {DNNL_ARG_DIFF_SRC, userMemory(md, dx)},
                       {DNNL_ARG_DIFF_SCALE, userMemory(vecMd(C), dg)},
                       {DNNL_ARG_DIFF_SHIFT, userMemory(vecMd(C), db)}});
  st.wait();
  return Napi::String::New(info.Env(), e->pd.impl_info_str());
}

// channelAffine(x, scale, shift, y, [rows, C]): y[r, c] = x[r, c] * scale[c] + shift[c], the
// inference batch norm once the moving statistics are folded into scale and shift (a plain
// loop: it is memory-bound, and one pass beats oneDNN's binary primitive applied twice).
Napi::Value ChannelAffine(const Napi::CallbackInfo& info) {
  auto rc = intsArg(info, 4, 2, "shape");
  const int64_t rows = rc[0], C = rc[1];
  if (rows < 1 || C < 1) throw std::invalid_argument("channelAffine: rows and C must be >= 1");
  const float* x = floatArg(info, 0, rows * C, "x");
  const float* sc = floatArg(info, 1, C, "scale");
  const float* sh = floatArg(info, 2, C, "shift");
  float* y = floatArg(info, 3, rows * C, "y");
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) yr[c] = xr[c] * sc[c] + sh[c];
  }
  return info.Env().Undefined();
}

}  // namespace

void initBnorm(Napi::Env env, Napi::Object exports) {
  exports.Set("batchNormForward", Napi::Function::New(env, guarded<Forward>));
  exports.Set("batchNormBackward", Napi::Function::New(env, guarded<Backward>));
  exports.Set("channelAffine", Napi::Function::New(env, guarded<ChannelAffine>));
}

}  // namespace senet
