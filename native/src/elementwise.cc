// Elementwise and data-movement primitives on plain row-major tensors of any rank up to 6:
// binary ops with broadcasting of the second operand, unary eltwise ops, reductions over any
// axes, and strided region copies (slice, pad) done as oneDNN reorders between sub-memories.
#include <omp.h>

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "common.h"

namespace senet {
namespace {

// Row-major (plain) desc for the given dims.
dnnl::memory::desc plain(const dims& d) {
  dims strides(d.size());
  int64_t s = 1;
  for (size_t i = d.size(); i-- > 0;) {
    strides[i] = s;
    s *= d[i];
  }
  return {d, dt::f32, strides};
}

int64_t product(const dims& d) {
  int64_t p = 1;
  for (int64_t v : d) p *= v;
  return p;
}

dims dimsArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsArray()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be an array");
  size_t n = info[i].As<Napi::Array>().Length();
  if (n < 1 || n > 6) throw Napi::RangeError::New(info.Env(), std::string(what) + " must have rank 1..6");
  auto v = intsArg(info, i, n, what);
  for (int64_t d : v) {
    if (d < 0) throw Napi::RangeError::New(info.Env(), std::string(what) + " has a negative size");
  }
  return v;
}

// The oneDNN algorithm of a BinaryOp (by name, so the table's order does not matter).
dnnl::algorithm binaryAlgorithm(BinaryOp op) {
  switch (op) {
    case BinaryOp::add: return dnnl::algorithm::binary_add;
    case BinaryOp::sub: return dnnl::algorithm::binary_sub;
    case BinaryOp::mul: return dnnl::algorithm::binary_mul;
    case BinaryOp::div: return dnnl::algorithm::binary_div;
    case BinaryOp::max: return dnnl::algorithm::binary_max;
    case BinaryOp::min: return dnnl::algorithm::binary_min;
  }
  throw std::invalid_argument("unknown binary op");
}

struct BinaryEntry : CacheEntry {
  dnnl::binary prim;
};

// binary(a, b, c, aDims, bDims, op): c has aDims; b broadcasts (its dims are aDims or 1).
Napi::Value Binary(const Napi::CallbackInfo& info) {
  dims ad = dimsArg(info, 3, "aDims");
  dims bd = dimsArg(info, 4, "bDims");
  int op = info[5].As<Napi::Number>().Int32Value();
  if (op < 0 || op >= kBinaryOpCount) throw Napi::RangeError::New(info.Env(), "unknown binary op");
  if (ad.size() != bd.size()) throw Napi::RangeError::New(info.Env(), "aDims and bDims differ in rank");
  for (size_t i = 0; i < ad.size(); ++i) {
    if (bd[i] != ad[i] && bd[i] != 1) throw Napi::RangeError::New(info.Env(), "b does not broadcast to a");
  }
  float* a = floatArg(info, 0, product(ad), "a");
  float* b = floatArg(info, 1, product(bd), "b");
  float* c = floatArg(info, 2, product(ad), "c");
  std::vector<int64_t> key(ad);
  key.insert(key.end(), bd.begin(), bd.end());
  key.push_back(op);
  std::string k = makeKey("binary", key);
  auto* e = static_cast<BinaryEntry*>(cacheGet(k));
  if (!e) {
    auto ne = std::make_unique<BinaryEntry>();
    dnnl::binary::desc d(binaryAlgorithm(static_cast<BinaryOp>(op)), plain(ad), plain(bd), plain(ad));
    ne->prim = dnnl::binary(dnnl::binary::primitive_desc(d, engine()));
    e = static_cast<BinaryEntry*>(cachePut(k, std::move(ne)));
  }
  auto& st = stream();
  e->prim.execute(st, {{DNNL_ARG_SRC_0, userMemory(plain(ad), a)},
                       {DNNL_ARG_SRC_1, userMemory(plain(bd), b)},
                       {DNNL_ARG_DST, userMemory(plain(ad), c)}});
  st.wait();
  return info.Env().Undefined();
}

// The oneDNN algorithm of an EltwiseOp that runs as a primitive (relu and square are loops).
dnnl::algorithm eltwiseAlgorithm(EltwiseOp op) {
  switch (op) {
    case EltwiseOp::sigmoid: return dnnl::algorithm::eltwise_logistic;
    case EltwiseOp::tanh: return dnnl::algorithm::eltwise_tanh;
    case EltwiseOp::exp: return dnnl::algorithm::eltwise_exp;
    case EltwiseOp::relu: return dnnl::algorithm::eltwise_relu;
    case EltwiseOp::square: return dnnl::algorithm::eltwise_square;
  }
  throw std::invalid_argument("unknown eltwise op");
}

struct EltwiseEntry : CacheEntry {
  dnnl::eltwise_forward prim;
};

// eltwise(x, y, op): y = f(x) for relu, sigmoid, tanh, exp, square.
Napi::Value Eltwise(const Napi::CallbackInfo& info) {
  int op = info[2].As<Napi::Number>().Int32Value();
  if (op < 0 || op >= kEltwiseOpCount) throw Napi::RangeError::New(info.Env(), "unknown eltwise op");
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "x must be a Float32Array");
  int64_t n = info[0].As<Napi::TypedArray>().ElementLength();
  float* x = floatArg(info, 0, n, "x");
  float* y = floatArg(info, 1, n, "y");
  if (op == static_cast<int>(EltwiseOp::relu)) {
    // Relu as tfjs defines it, x < 0 ? 0 : x, so NaN stays NaN (oneDNN's relu turns it into 0,
    // which would hide a diverging run from the loss check).
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.f ? 0.f : x[i];
    return info.Env().Undefined();
  }
  if (op == static_cast<int>(EltwiseOp::square)) {
    // Square: a plain loop (oneDNN 2.6's eltwise_square runs no faster for this one-liner).
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * x[i];
    return info.Env().Undefined();
  }
  std::string k = makeKey("eltwise", {n, op});
  auto* e = static_cast<EltwiseEntry*>(cacheGet(k));
  dnnl::memory::desc md({n}, dt::f32, tag::a);
  if (!e) {
    auto ne = std::make_unique<EltwiseEntry>();
    dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, eltwiseAlgorithm(static_cast<EltwiseOp>(op)), md, 0.f, 0.f);
    ne->prim = dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(d, engine()));
    e = static_cast<EltwiseEntry*>(cachePut(k, std::move(ne)));
  }
  auto& st = stream();
  e->prim.execute(st, {{DNNL_ARG_SRC, userMemory(md, x)}, {DNNL_ARG_DST, userMemory(md, y)}});
  st.wait();
  return info.Env().Undefined();
}

// reduce(x, y, [P, Q, S], op): y[p, s] = op over q of x[p, q, s] (callers collapse the axes to
// keep / reduce / keep). oneDNN 2.6 only has a reference reduction for plain layouts (40 ms for
// 4 MB here), so this is a plain OpenMP loop: rows of the output in parallel when there are
// enough, else per-thread partial results over chunks of q.
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto pqs = intsArg(info, 2, 3, "shape");
  int op = info[3].As<Napi::Number>().Int32Value();
  if (op < 0 || op >= kReduceOpCount) throw Napi::RangeError::New(env, "unknown reduction");
  int64_t P = pqs[0], Q = pqs[1], S = pqs[2];
  if (P < 1 || Q < 1 || S < 1) throw Napi::RangeError::New(env, "bad reduction shape");
  const float* x = floatArg(info, 0, P * Q * S, "x");
  float* y = floatArg(info, 1, P * S, "y");
  const auto rop = static_cast<ReduceOp>(op);
  const float init = rop == ReduceOp::max ? -INFINITY : rop == ReduceOp::min ? INFINITY : 0.f;
  auto combine = [rop](float a, float b) {
    return rop == ReduceOp::sum || rop == ReduceOp::mean ? a + b
           : rop == ReduceOp::max                        ? (b > a || b != b ? b : a)
                                                         : (b < a || b != b ? b : a);
  };
  int threads = omp_get_max_threads();
  if (P >= 4 * threads || S * P >= 64 * threads * 16) {
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < P; ++p) {
      float* out = y + p * S;
      for (int64_t s = 0; s < S; ++s) out[s] = init;
      const float* in = x + p * Q * S;
      for (int64_t q = 0; q < Q; ++q) {
        const float* row = in + q * S;
        for (int64_t s = 0; s < S; ++s) out[s] = combine(out[s], row[s]);
      }
    }
  } else {
    std::vector<float> partial(static_cast<size_t>(threads) * P * S, init);
#pragma omp parallel
    {
      float* acc = partial.data() + static_cast<size_t>(omp_get_thread_num()) * P * S;
#pragma omp for schedule(static)
      for (int64_t q = 0; q < Q; ++q) {
        for (int64_t p = 0; p < P; ++p) {
          const float* row = x + (p * Q + q) * S;
          float* out = acc + p * S;
          for (int64_t s = 0; s < S; ++s) out[s] = combine(out[s], row[s]);
        }
      }
    }
    for (int64_t i = 0; i < P * S; ++i) {
      float v = init;
      for (int t = 0; t < threads; ++t) v = combine(v, partial[static_cast<size_t>(t) * P * S + i]);
      y[i] = v;
    }
  }
  if (rop == ReduceOp::mean) {
    for (int64_t i = 0; i < P * S; ++i) y[i] /= static_cast<float>(Q);
  }
  return env.Undefined();
}

struct CopyEntry : CacheEntry {
  dnnl::reorder prim;
  dnnl::memory::desc src, dst;
};

// copyRegion(src, dst, srcDims, dstDims, regionDims, srcOffsets, dstOffsets): copies the
// region of src at srcOffsets into dst at dstOffsets (slice: dst is the region; pad: src is).
Napi::Value CopyRegion(const Napi::CallbackInfo& info) {
  dims sd = dimsArg(info, 2, "srcDims");
  dims dd = dimsArg(info, 3, "dstDims");
  size_t r = sd.size();
  if (dd.size() != r) throw Napi::RangeError::New(info.Env(), "ranks differ");
  auto region = intsArg(info, 4, r, "regionDims");
  auto so = intsArg(info, 5, r, "srcOffsets");
  auto dof = intsArg(info, 6, r, "dstOffsets");
  for (size_t i = 0; i < r; ++i) {
    if (region[i] < 1 || so[i] < 0 || dof[i] < 0 || so[i] + region[i] > sd[i] || dof[i] + region[i] > dd[i]) {
      throw Napi::RangeError::New(info.Env(), "region out of bounds");
    }
  }
  float* src = floatArg(info, 0, product(sd), "src");
  float* dst = floatArg(info, 1, product(dd), "dst");
  std::vector<int64_t> key(sd);
  for (auto* v : {&dd, &region, &so, &dof}) key.insert(key.end(), v->begin(), v->end());
  std::string k = makeKey("copy", key);
  auto* e = static_cast<CopyEntry*>(cacheGet(k));
  if (!e) {
    auto ne = std::make_unique<CopyEntry>();
    ne->src = plain(sd).submemory_desc(region, so);
    ne->dst = plain(dd).submemory_desc(region, dof);
    ne->prim = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), ne->src, engine(), ne->dst));
    e = static_cast<CopyEntry*>(cachePut(k, std::move(ne)));
  }
  auto& st = stream();
  e->prim.execute(st, {{DNNL_ARG_FROM, userMemory(e->src, src)}, {DNNL_ARG_TO, userMemory(e->dst, dst)}});
  st.wait();
  return info.Env().Undefined();
}

// stridedCopy(src, dst, dims, srcStrides, srcOffset, dstStrides, dstOffset): dst[dstOffset +
// sum(i*dstStrides)] = src[srcOffset + sum(i*srcStrides)] over the index box `dims`.
Napi::Value StridedCopy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  dims d = dimsArg(info, 2, "dims");
  size_t r = d.size();
  auto ss = intsArg(info, 3, r, "srcStrides");
  auto ds = intsArg(info, 5, r, "dstStrides");
  int64_t so = info[4].As<Napi::Number>().Int64Value();
  int64_t dof = info[6].As<Napi::Number>().Int64Value();
  if (!info[0].IsTypedArray() || !info[1].IsTypedArray()) throw Napi::TypeError::New(env, "src and dst must be Float32Arrays");
  int64_t sn = info[0].As<Napi::TypedArray>().ElementLength();
  int64_t dn = info[1].As<Napi::TypedArray>().ElementLength();
  float* src = floatArg(info, 0, sn, "src");
  float* dst = floatArg(info, 1, dn, "dst");
  int64_t sMax = so, dMax = dof;
  for (size_t i = 0; i < r; ++i) {
    if (d[i] < 1 || ss[i] < 0 || ds[i] < 0) throw Napi::RangeError::New(env, "bad strided copy");
    sMax += (d[i] - 1) * ss[i];
    dMax += (d[i] - 1) * ds[i];
  }
  if (so < 0 || dof < 0 || sMax >= sn || dMax >= dn) throw Napi::RangeError::New(env, "strided copy out of bounds");
  // oneDNN rejects strided descs whose rows interleave (stride-2 subsampling), so copy here:
  // parallel over all but the innermost dimension, inner loop contiguous when strides are 1.
  int64_t inner = d[r - 1], sIn = ss[r - 1], dIn = ds[r - 1];
  int64_t outer = 1;
  for (size_t i = 0; i + 1 < r; ++i) outer *= d[i];
#pragma omp parallel for schedule(static)
  for (int64_t o = 0; o < outer; ++o) {
    int64_t rem = o, sOff = so, dOff = dof;
    for (size_t i = r - 1; i-- > 0;) {
      int64_t idx = rem % d[i];
      rem /= d[i];
      sOff += idx * ss[i];
      dOff += idx * ds[i];
    }
    const float* sp = src + sOff;
    float* dp = dst + dOff;
    if (sIn == 1 && dIn == 1) {
      std::memcpy(dp, sp, inner * sizeof(float));
    } else {
      for (int64_t j = 0; j < inner; ++j) dp[j * dIn] = sp[j * sIn];
    }
  }
  return env.Undefined();
}

// step(x, y, alpha): y = x > 0 ? 1 : alpha (NaN stays NaN), tfjs's Step (the Relu gradient's mask).
Napi::Value Step(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "x must be a Float32Array");
  int64_t n = info[0].As<Napi::TypedArray>().ElementLength();
  const float* x = floatArg(info, 0, n, "x");
  float* y = floatArg(info, 1, n, "y");
  float alpha = info[2].As<Napi::Number>().FloatValue();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float s = v > 0.f ? 1.f : alpha;  // selects, not a branch (see reluGrad)
    y[i] = v != v ? v : s;
  }
  return info.Env().Undefined();
}

// reluGrad(x, dy, dx): dx = dy · step(x), the Relu gradient tfjs computes with two kernels
// (Step, then Multiply) in one pass; step(NaN) = NaN as in tfjs.
Napi::Value ReluGrad(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "x must be a Float32Array");
  int64_t n = info[0].As<Napi::TypedArray>().ElementLength();
  const float* x = floatArg(info, 0, n, "x");
  const float* dy = floatArg(info, 1, n, "dy");
  float* dx = floatArg(info, 2, n, "dx");
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    // Two selects the compiler turns into vector blends; the nested conditional it compiled to
    // branches, which mispredict on the sign of activations (1.6 ms for 1M floats, now ~0.3).
    const float v = x[i];
    const float s = v > 0.f ? 1.f : 0.f;
    const float m = v != v ? v : s;
    dx[i] = dy[i] * m;
  }
  return info.Env().Undefined();
}

// sigmoidGrad(y, dy, dx): dx = dy · (y · (1 − y)) from the sigmoid's output, in one pass, with
// the rounding order of tfjs's three kernels (Sub, Multiply, Multiply).
Napi::Value SigmoidGrad(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "y must be a Float32Array");
  int64_t n = info[0].As<Napi::TypedArray>().ElementLength();
  const float* y = floatArg(info, 0, n, "y");
  const float* dy = floatArg(info, 1, n, "dy");
  float* dx = floatArg(info, 2, n, "dx");
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    float v = y[i];
    float d = v * (1.f - v);
    dx[i] = dy[i] * d;
  }
  return info.Env().Undefined();
}

// mulGrad(dy, a, b, da, db, [P, Q, S]): the gradient of c = a · b where a and dy are [P, Q, S] and
// b is [P, 1, S] broadcast over Q (the SE block's channel scale, SGE's positional gate):
// da = dy · b, db[p, s] = Σ_q dy · a, in one pass over dy and a. The sum runs over q in order,
// as reduce() does after tfjs's Multiply, so db rounds the same way.
Napi::Value MulGrad(const Napi::CallbackInfo& info) {
  auto pqs = intsArg(info, 5, 3, "shape");
  int64_t P = pqs[0], Q = pqs[1], S = pqs[2];
  if (P < 1 || Q < 1 || S < 1) throw Napi::RangeError::New(info.Env(), "bad mulGrad shape");
  const float* dy = floatArg(info, 0, P * Q * S, "dy");
  const float* a = floatArg(info, 1, P * Q * S, "a");
  const float* b = floatArg(info, 2, P * S, "b");
  float* da = floatArg(info, 3, P * Q * S, "da");
  float* db = floatArg(info, 4, P * S, "db");
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < P; ++p) {
    const float* bp = b + p * S;
    float* dbp = db + p * S;
    for (int64_t s = 0; s < S; ++s) dbp[s] = 0.f;
    for (int64_t q = 0; q < Q; ++q) {
      const int64_t o = (p * Q + q) * S;
      for (int64_t s = 0; s < S; ++s) {
        const float g = dy[o + s];
        da[o + s] = g * bp[s];
        const float prod = g * a[o + s];
        dbp[s] = dbp[s] + prod;
      }
    }
  }
  return info.Env().Undefined();
}

// expand(x, y, [P, Q, S], scale): y[p, q, s] = x[p, s] · scale, the adjoint of reduce(): the
// gradient of Mean (scale 1/Q) and Sum (1) without tfjs's multiply by a tensor of ones.
Napi::Value Expand(const Napi::CallbackInfo& info) {
  auto pqs = intsArg(info, 2, 3, "shape");
  int64_t P = pqs[0], Q = pqs[1], S = pqs[2];
  if (P < 1 || Q < 1 || S < 1) throw Napi::RangeError::New(info.Env(), "bad expand shape");
  const float* x = floatArg(info, 0, P * S, "x");
  float* y = floatArg(info, 1, P * Q * S, "y");
  float scale = info[3].As<Napi::Number>().FloatValue();
#pragma omp parallel for schedule(static) collapse(2)
  for (int64_t p = 0; p < P; ++p) {
    for (int64_t q = 0; q < Q; ++q) {
      const float* in = x + p * S;
      float* out = y + (p * Q + q) * S;
      for (int64_t s = 0; s < S; ++s) out[s] = in[s] * scale;
    }
  }
  return info.Env().Undefined();
}

// sgdUpdate(w, buf|null, g, wOut, bufOut|null, [lr, momentum, weightDecay, nesterov]): one
// SGD-with-momentum step of one weight in one pass, the same arithmetic as src/train/sgd.ts
// (torch.optim.SGD, dampening 0): g' = g + wd·w; b' = μ·b + g'; d = nesterov ? g' + μ·b' : b';
// w' = w − lr·d. Six tfjs kernels per weight otherwise.
Napi::Value SgdUpdate(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "w must be a Float32Array");
  int64_t n = info[0].As<Napi::TypedArray>().ElementLength();
  const float* w = floatArg(info, 0, n, "w");
  const float* b = optionalFloatArg(info, 1, n, "buf");
  const float* g = floatArg(info, 2, n, "g");
  float* wo = floatArg(info, 3, n, "wOut");
  float* bo = optionalFloatArg(info, 4, n, "bufOut");
  if ((b == nullptr) != (bo == nullptr)) {
    throw Napi::TypeError::New(info.Env(), "buf and bufOut must both be given or both be null");
  }
  if (!info[5].IsArray() || info[5].As<Napi::Array>().Length() != 4) {
    throw Napi::TypeError::New(info.Env(), "hyper must be [lr, momentum, weightDecay, nesterov]");
  }
  auto h = info[5].As<Napi::Array>();
  const float lr = h.Get(0u).As<Napi::Number>().FloatValue();
  const float mu = h.Get(1u).As<Napi::Number>().FloatValue();
  const float wd = h.Get(2u).As<Napi::Number>().FloatValue();
  const bool nesterov = h.Get(3u).As<Napi::Number>().Int32Value() != 0;
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    float gi = wd != 0.f ? g[i] + wd * w[i] : g[i];
    float d = gi;
    if (b) {
      float nb = mu * b[i] + gi;
      bo[i] = nb;
      d = nesterov ? gi + mu * nb : nb;
    }
    wo[i] = w[i] - lr * d;
  }
  return info.Env().Undefined();
}

}  // namespace

void initElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, guarded<Binary>));
  exports.Set("eltwise", Napi::Function::New(env, guarded<Eltwise>));
  exports.Set("reduce", Napi::Function::New(env, guarded<Reduce>));
  exports.Set("stridedCopy", Napi::Function::New(env, guarded<StridedCopy>));
  exports.Set("step", Napi::Function::New(env, guarded<Step>));
  exports.Set("copyRegion", Napi::Function::New(env, guarded<CopyRegion>));
  exports.Set("reluGrad", Napi::Function::New(env, guarded<ReluGrad>));
  exports.Set("expand", Napi::Function::New(env, guarded<Expand>));
  exports.Set("sigmoidGrad", Napi::Function::New(env, guarded<SigmoidGrad>));
  exports.Set("mulGrad", Napi::Function::New(env, guarded<MulGrad>));
  exports.Set("sgdUpdate", Napi::Function::New(env, guarded<SgdUpdate>));
}

}  // namespace senet
