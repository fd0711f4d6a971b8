// The attention blocks as native passes. The Squeeze-and-Excitation block, two passes each way: average squeeze, FC, ReLU,
// FC, sigmoid gate and channel scale forward; and all of its gradients backward. In tfjs ops the
// same block is ~30 kernel calls per step (mean, two matmuls, relu, sigmoid, multiply, each with
// its gradient kernels); here it is one call forward and one backward, two passes over the
// activation each (pool, scale; Σ dy·x, dx), and the FC layers (N × C × C/r multiply-adds, tiny)
// as plain loops. Activations NHWC viewed as [N, HW, C]; FC kernels as tfjs stores them,
// w1 [C, Cr] and w2 [Cr, C] (y = x·W). Spatial Group-wise Enhance, three passes each way instead
// of ~90 kernel calls per block and step.
#include <cmath>

#include "common.h"

namespace senet {
namespace {

// The shape [N, HW, C, Cr] from argument i.
struct SeShape {
  int64_t N, HW, C, Cr;
};
SeShape seShapeArg(const Napi::CallbackInfo& info, size_t i) {
  auto s = intsArg(info, i, 4, "shape");
  if (s[0] < 1 || s[1] < 1 || s[2] < 1 || s[3] < 1) {
    throw Napi::RangeError::New(info.Env(), "SE shape [N, HW, C, Cr] must be positive");
  }
  return {s[0], s[1], s[2], s[3]};
}

// seForward(x, w1, b1|null, w2, b2|null, y, gate, hidden, pooled, [N, HW, C, Cr]):
// pooled = mean over HW of x; hidden = relu(pooled·w1 + b1); gate = sigmoid(hidden·w2 + b2);
// y = x · gate (broadcast over HW). gate, hidden and pooled are kept for the backward.
Napi::Value SeForward(const Napi::CallbackInfo& info) {
  const SeShape s = seShapeArg(info, 9);
  const int64_t N = s.N, HW = s.HW, C = s.C, Cr = s.Cr;
  const float* x = floatArg(info, 0, N * HW * C, "x");
  const float* w1 = floatArg(info, 1, C * Cr, "w1");
  const float* b1 = optionalFloatArg(info, 2, Cr, "b1");
  const float* w2 = floatArg(info, 3, Cr * C, "w2");
  const float* b2 = optionalFloatArg(info, 4, C, "b2");
  float* y = floatArg(info, 5, N * HW * C, "y");
  float* gate = floatArg(info, 6, N * C, "gate");
  float* hidden = floatArg(info, 7, N * Cr, "hidden");
  float* pooled = floatArg(info, 8, N * C, "pooled");
  const float inv = 1.f / static_cast<float>(HW);
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    float* pn = pooled + n * C;
    for (int64_t c = 0; c < C; ++c) pn[c] = 0.f;
    for (int64_t q = 0; q < HW; ++q) {
      const float* xr = x + (n * HW + q) * C;
      for (int64_t c = 0; c < C; ++c) pn[c] += xr[c];
    }
    for (int64_t c = 0; c < C; ++c) pn[c] *= inv;
    float* hn = hidden + n * Cr;
    for (int64_t j = 0; j < Cr; ++j) hn[j] = b1 ? b1[j] : 0.f;
    for (int64_t c = 0; c < C; ++c) {
      const float p = pn[c];
      const float* w = w1 + c * Cr;
      for (int64_t j = 0; j < Cr; ++j) hn[j] += p * w[j];
    }
    for (int64_t j = 0; j < Cr; ++j) hn[j] = hn[j] > 0.f ? hn[j] : 0.f;
    float* gn = gate + n * C;
    for (int64_t c = 0; c < C; ++c) gn[c] = b2 ? b2[c] : 0.f;
    for (int64_t j = 0; j < Cr; ++j) {
      const float h = hn[j];
      const float* w = w2 + j * C;
      for (int64_t c = 0; c < C; ++c) gn[c] += h * w[c];
    }
    for (int64_t c = 0; c < C; ++c) gn[c] = 1.f / (1.f + std::exp(-gn[c]));
  }
#pragma omp parallel for schedule(static) collapse(2)
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t q = 0; q < HW; ++q) {
      const int64_t o = (n * HW + q) * C;
      const float* gn = gate + n * C;
      for (int64_t c = 0; c < C; ++c) y[o + c] = x[o + c] * gn[c];
    }
  }
  return info.Env().Undefined();
}

// seBackward(dy, x, w1, w2, gate, hidden, pooled, dx, dw1, db1|null, dw2, db2|null,
// [N, HW, C, Cr]): every gradient of the block for the upstream dy. Per image, dgate = Σ_HW dy·x
// (one pass over dy and x); then the FC layers' gradients in [N, C] space; then
// dx = dy·gate + dpooled / HW (a second pass). dw/db are summed over the batch in image order.
Napi::Value SeBackward(const Napi::CallbackInfo& info) {
  const SeShape s = seShapeArg(info, 12);
  const int64_t N = s.N, HW = s.HW, C = s.C, Cr = s.Cr;
  const float* dy = floatArg(info, 0, N * HW * C, "dy");
  const float* x = floatArg(info, 1, N * HW * C, "x");
  const float* w1 = floatArg(info, 2, C * Cr, "w1");
  const float* w2 = floatArg(info, 3, Cr * C, "w2");
  const float* gate = floatArg(info, 4, N * C, "gate");
  const float* hidden = floatArg(info, 5, N * Cr, "hidden");
  const float* pooled = floatArg(info, 6, N * C, "pooled");
  float* dx = floatArg(info, 7, N * HW * C, "dx");
  float* dw1 = floatArg(info, 8, C * Cr, "dw1");
  float* db1 = optionalFloatArg(info, 9, Cr, "db1");
  float* dw2 = floatArg(info, 10, Cr * C, "dw2");
  float* db2 = optionalFloatArg(info, 11, C, "db2");
  // ds: the gradient at the gate's input; dh: at the hidden layer's input; dp: at pooled / HW.
  std::vector<float> ds(N * C), dh(N * Cr), dp(N * C);
  const float inv = 1.f / static_cast<float>(HW);
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    float* dsn = ds.data() + n * C;
    for (int64_t c = 0; c < C; ++c) dsn[c] = 0.f;
    for (int64_t q = 0; q < HW; ++q) {
      const int64_t o = (n * HW + q) * C;
      for (int64_t c = 0; c < C; ++c) dsn[c] += dy[o + c] * x[o + c];
    }
    const float* gn = gate + n * C;
    for (int64_t c = 0; c < C; ++c) dsn[c] *= gn[c] * (1.f - gn[c]);
    const float* hn = hidden + n * Cr;
    float* dhn = dh.data() + n * Cr;
    for (int64_t j = 0; j < Cr; ++j) {
      float acc = 0.f;
      const float* w = w2 + j * C;
      for (int64_t c = 0; c < C; ++c) acc += dsn[c] * w[c];
      dhn[j] = hn[j] > 0.f ? acc : 0.f;
    }
    float* dpn = dp.data() + n * C;
    for (int64_t c = 0; c < C; ++c) {
      float acc = 0.f;
      const float* w = w1 + c * Cr;
      for (int64_t j = 0; j < Cr; ++j) acc += dhn[j] * w[j];
      dpn[c] = acc * inv;
    }
  }
  // The weight gradients: sums over the batch (small: N·C·Cr each).
  for (int64_t i = 0; i < C * Cr; ++i) dw1[i] = 0.f;
  for (int64_t i = 0; i < Cr * C; ++i) dw2[i] = 0.f;
  if (db1) for (int64_t j = 0; j < Cr; ++j) db1[j] = 0.f;
  if (db2) for (int64_t c = 0; c < C; ++c) db2[c] = 0.f;
  for (int64_t n = 0; n < N; ++n) {
    const float* pn = pooled + n * C;
    const float* hn = hidden + n * Cr;
    const float* dsn = ds.data() + n * C;
    const float* dhn = dh.data() + n * Cr;
    for (int64_t c = 0; c < C; ++c) {
      float* row = dw1 + c * Cr;
      for (int64_t j = 0; j < Cr; ++j) row[j] += pn[c] * dhn[j];
    }
    for (int64_t j = 0; j < Cr; ++j) {
      float* row = dw2 + j * C;
      for (int64_t c = 0; c < C; ++c) row[c] += hn[j] * dsn[c];
    }
    if (db1) for (int64_t j = 0; j < Cr; ++j) db1[j] += dhn[j];
    if (db2) for (int64_t c = 0; c < C; ++c) db2[c] += dsn[c];
  }
#pragma omp parallel for schedule(static) collapse(2)
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t q = 0; q < HW; ++q) {
      const int64_t o = (n * HW + q) * C;
      const float* gn = gate + n * C;
      const float* dpn = dp.data() + n * C;
      for (int64_t c = 0; c < C; ++c) dx[o + c] = dy[o + c] * gn[c] + dpn[c];
    }
  }
  return info.Env().Undefined();
}


// A cached oneDNN logistic (sigmoid) over n floats in place: its JIT kernel is vectorised and
// threaded, where a scalar exp per gate value cost more than the rest of the SGE block (the
// CIFAR SGE nets have one channel per group, so the gate is as large as the activation).
struct LogisticEntry : CacheEntry {
  dnnl::eltwise_forward prim;
};
void logisticInPlace(float* p, int64_t n) {
  std::string k = makeKey("sge_logistic", {n});
  auto* e = static_cast<LogisticEntry*>(cacheGet(k));
  dnnl::memory::desc md({n}, dt::f32, tag::a);
  if (!e) {
    auto ne = std::make_unique<LogisticEntry>();
    dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference,
                                  dnnl::algorithm::eltwise_logistic, md, 0.f, 0.f);
    ne->prim = dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(d, engine()));
    e = static_cast<LogisticEntry*>(cachePut(k, std::move(ne)));
  }
  auto& st = stream();
  e->prim.execute(st, {{DNNL_ARG_SRC, userMemory(md, p)}, {DNNL_ARG_DST, userMemory(md, p)}});
  st.wait();
}

// The shape [N, HW, C, G] from argument i (C divisible by G, HW >= 2).
struct SgeShape {
  int64_t N, HW, C, G;
};
SgeShape sgeShapeArg(const Napi::CallbackInfo& info, size_t i) {
  auto s = intsArg(info, i, 4, "shape");
  if (s[0] < 1 || s[1] < 2 || s[2] < 1 || s[3] < 1 || s[2] % s[3] != 0) {
    throw Napi::RangeError::New(info.Env(),
                                "SGE shape [N, HW, C, G] needs N >= 1, HW >= 2, G dividing C");
  }
  return {s[0], s[1], s[2], s[3]};
}

// sgeForward(x, gamma, beta, y, gate, t, avg, sigma, [N, HW, C, G], epsilon): Spatial Group-wise
// Enhance over x [N, HW, G, C/G]. avg = mean over HW of x (per channel); sim = Σ over a group's
// channels of x·avg; t = sim − mean_HW(sim); σ = unbiased std of t over HW;
// gate = sigmoid(γ·t/(σ + ε) + β); y = x·gate. Three passes over x (avg, sim, y); gate, t, avg
// and σ are kept for the backward. Group statistics are summed in double.
Napi::Value SgeForward(const Napi::CallbackInfo& info) {
  const SgeShape s = sgeShapeArg(info, 8);
  const int64_t N = s.N, HW = s.HW, C = s.C, G = s.G, K = C / G;
  const float* x = floatArg(info, 0, N * HW * C, "x");
  const float* gamma = floatArg(info, 1, G, "gamma");
  const float* beta = floatArg(info, 2, G, "beta");
  float* y = floatArg(info, 3, N * HW * C, "y");
  float* gate = floatArg(info, 4, N * HW * G, "gate");
  float* t = floatArg(info, 5, N * HW * G, "t");
  float* avg = floatArg(info, 6, N * C, "avg");
  float* sigma = floatArg(info, 7, N * G, "sigma");
  const double eps = info[9].As<Napi::Number>().DoubleValue();
  const float inv = 1.f / static_cast<float>(HW);
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    float* an = avg + n * C;
    for (int64_t c = 0; c < C; ++c) an[c] = 0.f;
    for (int64_t q = 0; q < HW; ++q) {
      const float* xr = x + (n * HW + q) * C;
      for (int64_t c = 0; c < C; ++c) an[c] += xr[c];
    }
    for (int64_t c = 0; c < C; ++c) an[c] *= inv;
    float* tn = t + n * HW * G;
    std::vector<double> mean(G, 0.0), ss(G, 0.0);
    for (int64_t q = 0; q < HW; ++q) {
      const float* xr = x + (n * HW + q) * C;
      float* tq = tn + q * G;
      if (K == 1) {
        for (int64_t g = 0; g < G; ++g) tq[g] = xr[g] * an[g];
      } else {
        for (int64_t g = 0; g < G; ++g) {
          float acc = 0.f;
          for (int64_t k = 0; k < K; ++k) acc += xr[g * K + k] * an[g * K + k];
          tq[g] = acc;
        }
      }
      for (int64_t g = 0; g < G; ++g) mean[g] += tq[g];
    }
    for (int64_t g = 0; g < G; ++g) mean[g] /= static_cast<double>(HW);
    for (int64_t q = 0; q < HW; ++q) {
      for (int64_t g = 0; g < G; ++g) {
        const float d = static_cast<float>(tn[q * G + g] - mean[g]);
        tn[q * G + g] = d;
        ss[g] += static_cast<double>(d) * d;
      }
    }
    std::vector<float> scale(G);
    for (int64_t g = 0; g < G; ++g) {
      const double sd = std::sqrt(ss[g] / static_cast<double>(HW - 1));
      sigma[n * G + g] = static_cast<float>(sd);
      scale[g] = static_cast<float>(gamma[g] / (sd + eps));
    }
    float* gn = gate + n * HW * G;  // the gate's input here; the sigmoid follows
    for (int64_t q = 0; q < HW; ++q) {
      for (int64_t g = 0; g < G; ++g) gn[q * G + g] = tn[q * G + g] * scale[g] + beta[g];
    }
  }
  logisticInPlace(gate, N * HW * G);
#pragma omp parallel for schedule(static) collapse(2)
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t q = 0; q < HW; ++q) {
      const int64_t o = (n * HW + q) * C;
      const float* gq = gate + (n * HW + q) * G;
      if (K == 1) {
        for (int64_t c = 0; c < C; ++c) y[o + c] = x[o + c] * gq[c];
        continue;
      }
      for (int64_t g = 0; g < G; ++g) {
        const float v = gq[g];
        for (int64_t k = 0; k < K; ++k) y[o + g * K + k] = x[o + g * K + k] * v;
      }
    }
  }
  return info.Env().Undefined();
}

// sgeBackward(dy, x, gamma, gate, t, avg, sigma, dx, dgamma, dbeta, [N, HW, C, G], epsilon):
// every gradient of sgeForward for upstream dy. Per image: ds = Σ over a group's channels of
// dy·x and da = ds·gate·(1 − gate) (pass 1 over dy and x); through a = γ·t/k + β, k = σ + ε,
// σ² = Σ t²/(HW − 1): dt = u/k − t·Σ(u·t)/(k²·(HW − 1)·σ) with u = γ·da, and dsim = dt − mean(dt);
// davg = Σ_HW dsim·x (pass 2 over x); dx = dy·gate + dsim·avg + davg/HW (pass 3).
Napi::Value SgeBackward(const Napi::CallbackInfo& info) {
  const SgeShape s = sgeShapeArg(info, 10);
  const int64_t N = s.N, HW = s.HW, C = s.C, G = s.G, K = C / G;
  const float* dy = floatArg(info, 0, N * HW * C, "dy");
  const float* x = floatArg(info, 1, N * HW * C, "x");
  const float* gamma = floatArg(info, 2, G, "gamma");
  const float* gate = floatArg(info, 3, N * HW * G, "gate");
  const float* t = floatArg(info, 4, N * HW * G, "t");
  const float* avg = floatArg(info, 5, N * C, "avg");
  const float* sigma = floatArg(info, 6, N * G, "sigma");
  float* dx = floatArg(info, 7, N * HW * C, "dx");
  float* dgamma = floatArg(info, 8, G, "dgamma");
  float* dbeta = floatArg(info, 9, G, "dbeta");
  const double eps = info[11].As<Napi::Number>().DoubleValue();
  const float inv = 1.f / static_cast<float>(HW);
  std::vector<float> dsim(N * HW * G), davg(N * C);
  std::vector<double> pg(N * G, 0.0), pb(N * G, 0.0);  // per-image dgamma, dbeta
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const float* tn = t + n * HW * G;
    const float* gn = gate + n * HW * G;
    float* dn = dsim.data() + n * HW * G;  // holds da, then u, then dsim
    for (int64_t q = 0; q < HW; ++q) {
      const int64_t o = (n * HW + q) * C;
      float* dq = dn + q * G;
      const float* gq = gn + q * G;
      if (K == 1) {
        for (int64_t g = 0; g < G; ++g) dq[g] = dy[o + g] * x[o + g] * gq[g] * (1.f - gq[g]);
        continue;
      }
      for (int64_t g = 0; g < G; ++g) {
        float acc = 0.f;
        for (int64_t k = 0; k < K; ++k) acc += dy[o + g * K + k] * x[o + g * K + k];
        dq[g] = acc * gq[g] * (1.f - gq[g]);
      }
    }
    // Group sums, position-major so the inner loop runs over contiguous groups.
    std::vector<double> sDa(G, 0.0), sDaT(G, 0.0), mDt(G, 0.0);
    std::vector<float> coefA(G), coefT(G);
    for (int64_t q = 0; q < HW; ++q) {
      const float* dq = dn + q * G;
      const float* tq = tn + q * G;
      for (int64_t g = 0; g < G; ++g) {
        sDa[g] += dq[g];
        sDaT[g] += static_cast<double>(dq[g]) * tq[g];
      }
    }
    for (int64_t g = 0; g < G; ++g) {
      const double sd = sigma[n * G + g];
      const double k = sd + eps;
      pb[n * G + g] = sDa[g];
      pg[n * G + g] = sDaT[g] / k;
      coefA[g] = static_cast<float>(gamma[g] / k);
      coefT[g] = sd > 0.0
                     ? static_cast<float>(gamma[g] * sDaT[g] /
                                          (k * k * static_cast<double>(HW - 1) * sd))
                     : 0.f;
    }
    for (int64_t q = 0; q < HW; ++q) {
      float* dq = dn + q * G;
      const float* tq = tn + q * G;
      for (int64_t g = 0; g < G; ++g) {
        const float dt = coefA[g] * dq[g] - tq[g] * coefT[g];
        dq[g] = dt;
        mDt[g] += dt;
      }
    }
    std::vector<float> mean(G);
    for (int64_t g = 0; g < G; ++g) mean[g] = static_cast<float>(mDt[g] / static_cast<double>(HW));
    for (int64_t q = 0; q < HW; ++q) {
      float* dq = dn + q * G;
      for (int64_t g = 0; g < G; ++g) dq[g] -= mean[g];
    }
    float* dan = davg.data() + n * C;
    for (int64_t c = 0; c < C; ++c) dan[c] = 0.f;
    for (int64_t q = 0; q < HW; ++q) {
      const float* xr = x + (n * HW + q) * C;
      const float* dq = dn + q * G;
      if (K == 1) {
        for (int64_t c = 0; c < C; ++c) dan[c] += dq[c] * xr[c];
        continue;
      }
      for (int64_t g = 0; g < G; ++g) {
        const float d = dq[g];
        for (int64_t k = 0; k < K; ++k) dan[g * K + k] += d * xr[g * K + k];
      }
    }
    for (int64_t c = 0; c < C; ++c) dan[c] *= inv;
  }
  for (int64_t g = 0; g < G; ++g) {
    double a = 0.0, b = 0.0;
    for (int64_t n = 0; n < N; ++n) {
      a += pg[n * G + g];
      b += pb[n * G + g];
    }
    dgamma[g] = static_cast<float>(a);
    dbeta[g] = static_cast<float>(b);
  }
#pragma omp parallel for schedule(static) collapse(2)
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t q = 0; q < HW; ++q) {
      const int64_t o = (n * HW + q) * C;
      const float* gq = gate + (n * HW + q) * G;
      const float* dq = dsim.data() + (n * HW + q) * G;
      const float* an = avg + n * C;
      const float* dan = davg.data() + n * C;
      if (K == 1) {
        for (int64_t c = 0; c < C; ++c) dx[o + c] = dy[o + c] * gq[c] + dq[c] * an[c] + dan[c];
        continue;
      }
      for (int64_t g = 0; g < G; ++g) {
        const float v = gq[g];
        const float d = dq[g];
        for (int64_t k = 0; k < K; ++k) {
          const int64_t c = g * K + k;
          dx[o + c] = dy[o + c] * v + d * an[c] + dan[c];
        }
      }
    }
  }
  return info.Env().Undefined();
}

}  // namespace

void initAttention(Napi::Env env, Napi::Object exports) {
  exports.Set("seForward", Napi::Function::New(env, guarded<SeForward>));
  exports.Set("seBackward", Napi::Function::New(env, guarded<SeBackward>));
  exports.Set("sgeForward", Napi::Function::New(env, guarded<SgeForward>));
  exports.Set("sgeBackward", Napi::Function::New(env, guarded<SgeBackward>));
}

}  // namespace senet
