// The Squeeze-and-Excitation block as two native passes each way: average squeeze, FC, ReLU,
// FC, sigmoid gate and channel scale forward; and all of its gradients backward. In tfjs ops the
// same block is ~30 kernel calls per step (mean, two matmuls, relu, sigmoid, multiply, each with
// its gradient kernels); here it is one call forward and one backward, two passes over the
// activation each (pool, scale; Σ dy·x, dx), and the FC layers (N × C × C/r multiply-adds, tiny)
// as plain loops. Activations NHWC viewed as [N, HW, C]; FC kernels as tfjs stores them,
// w1 [C, Cr] and w2 [Cr, C] (y = x·W).
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

}  // namespace

void initAttention(Napi::Env env, Napi::Object exports) {
  exports.Set("seForward", Napi::Function::New(env, guarded<SeForward>));
  exports.Set("seBackward", Napi::Function::New(env, guarded<SeBackward>));
}

}  // namespace senet
