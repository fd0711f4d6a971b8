// 2-D convolution (plain and depthwise/grouped): forward with bias and activation, backward
// data and backward weights. Activations are NHWC, filters HWIO (tfjs's layouts; depthwise
// filters are [KH, KW, C, multiplier]), read and written in place through user memory.
#include <algorithm>
#include <list>

#include "common.h"

namespace senet {
namespace {

// One convolution: its Geometry, checked, with the memory descriptors oneDNN needs.
struct ConvShape : Geometry {
  // The type the convolution multiplies in: f32, or bf16 (activations, filters and gradients
  // rounded on the way in; outputs, filter gradients and bias stay f32).
  dt cdt = dt::f32;
  ConvShape(const Geometry& g, dt compute) : Geometry(g), cdt(compute) {
    if (N < 1 || H < 1 || W < 1 || C < 1 || KH < 1 || KW < 1 || OC < 1 || OH < 1 || OW < 1 ||
        sh < 1 || sw < 1 || dh < 1 || dw < 1 || G < 1 || C % G != 0 || OC % G != 0) {
      throw std::invalid_argument("invalid convolution shape");
    }
  }
  size_t srcSize() const { return N * H * W * C; }
  size_t dstSize() const { return N * OH * OW * OC; }
  size_t weightsSize() const { return KH * KW * (C / G) * OC; }
  dnnl::memory::desc src() const { return {{N, C, H, W}, dt::f32, tag::nhwc}; }
  dnnl::memory::desc dst() const { return {{N, OC, OH, OW}, dt::f32, tag::nhwc}; }
  dnnl::memory::desc bias() const { return {{OC}, dt::f32, tag::x}; }
  // The activations and output gradients in the compute type (the user's when f32).
  dnnl::memory::desc srcC() const { return {{N, C, H, W}, cdt, tag::nhwc}; }
  dnnl::memory::desc dstC() const { return {{N, OC, OH, OW}, cdt, tag::nhwc}; }
  // The filter as tfjs stores it.
  dnnl::memory::desc userWeights() const {
    if (G == 1) return {{OC, C, KH, KW}, dt::f32, tag::hwio};
    // [KH, KW, C, mult] with out channel g*mult+m: dims {G, mult, C/G, KH, KW}.
    int64_t m = OC / G;
    return {{G, m, C / G, KH, KW}, dt::f32, dims{m, 1, OC, KW * C * m, C * m}};
  }
  // The filter in whatever layout oneDNN prefers, in type t.
  dnnl::memory::desc anyWeights(dt t) const {
    if (G == 1) return {{OC, C, KH, KW}, t, tag::any};
    return {{G, OC / G, C / G, KH, KW}, t, tag::any};
  }
  dims strides() const { return {sh, sw}; }
  dims dilates() const { return {dh - 1, dw - 1}; }
  dims padL() const { return {pt, pl}; }
  dims padR() const { return {pb, pr}; }

  dnnl::convolution_forward::primitive_desc forwardPd(bool withBias, dnnl::prop_kind prop,
                                                     const dnnl::primitive_attr& attr) const {
    auto d = withBias ? dnnl::convolution_forward::desc(
                            prop, dnnl::algorithm::convolution_direct, srcC(), anyWeights(cdt),
                            bias(), dst(), strides(), dilates(), padL(), padR())
                      : dnnl::convolution_forward::desc(
                            prop, dnnl::algorithm::convolution_direct, srcC(), anyWeights(cdt),
                            dst(), strides(), dilates(), padL(), padR());
    return {d, attr, engine()};
  }
};


// Filters already reordered into oneDNN's layout, by the JS side's id of the filter array.
// tfjs tensors never change after they are written (a variable update makes a new array with a
// new id), so a filter seen before needs no reorder: at inference every call after the first
// skips it (24 of ResNet-50's 90 native ms at batch 1 were these reorders). Layers that share a
// shape share the primitive, so a slot keeps the most recent kMaxPacked filters (LRU); in
// training each step brings new ids and the oldest entries are overwritten in place.
constexpr size_t kMaxPacked = 64;
struct PackedWeights {
  std::vector<std::pair<double, dnnl::memory>> lru;  // most recently used first

  // The filter `wUser` in layout `md`: cached under `id` (> 0), or reordered into `scratch`.
  dnnl::memory get(double id, Reorder& r, const dnnl::memory::desc& md, dnnl::memory& wUser,
                   dnnl::memory& scratch, dnnl::stream& st) {
    if (!r.needed) return wUser;
    if (!(id > 0)) {
      r.prim.execute(st, wUser, scratch);
      return scratch;
    }
    for (size_t i = 0; i < lru.size(); ++i) {
      if (lru[i].first == id) {
        std::rotate(lru.begin(), lru.begin() + i, lru.begin() + i + 1);
        return lru[0].second;
      }
    }
    dnnl::memory m;
    if (lru.size() >= kMaxPacked) {
      m = lru.back().second;  // reuse the least recently used buffer
      lru.pop_back();
    } else {
      m = dnnl::memory(md, engine());
    }
    r.prim.execute(st, wUser, m);
    lru.insert(lru.begin(), {id, m});
    return m;
  }
};

// An f32 user buffer rounded into the compute type before a bf16 primitive reads it (a reorder
// into a buffer the entry owns); nothing at f32.
struct Convert {
  Reorder r;
  dnnl::memory::desc compute;
  dnnl::memory mem;  // made on first use: calls that pass an array id use RoundedCopies instead
  void init(const dnnl::memory::desc& user, const dnnl::memory::desc& computeDesc) {
    r = makeReorder(user, computeDesc);
    compute = computeDesc;
  }
  // The memory the primitive reads: `user` itself, or its rounded copy.
  dnnl::memory operator()(dnnl::memory user, dnnl::stream& st) {
    if (!r.needed) return user;
    if (!mem) mem = dnnl::memory(compute, engine());
    r.prim.execute(st, user, mem);
    return mem;
  }
};

// bf16 copies of activations and output gradients, by the JS side's id of their f32 array
// (weightIdOf: unique per array contents, never reused). A convolution's input x is rounded
// in the forward and again in the filter gradient, and dy in the input gradient and again in
// the filter gradient; keeping the copies halves those conversions (each a pass over the
// tensor). At most kMaxRounded copies are kept, least recently used first out; a new copy takes
// the buffer of the oldest one of its layout, so a training step reuses the previous step's
// buffers instead of allocating (and page-faulting) new ones.
constexpr size_t kMaxRounded = 96;
struct RoundedCopies {
  std::list<std::pair<double, dnnl::memory>> lru;  // most recently used first

  // The copy of array `id` in layout md, converted from `user` by `r` unless already there.
  dnnl::memory get(double id, const dnnl::memory::desc& md, Reorder& r, dnnl::memory user,
                   dnnl::stream& st) {
    for (auto it = lru.begin(); it != lru.end(); ++it) {
      if (it->first == id && it->second.get_desc() == md) {
        lru.splice(lru.begin(), lru, it);
        return lru.front().second;
      }
    }
    dnnl::memory m;
    if (lru.size() >= kMaxRounded) {
      auto victim = lru.end();
      for (auto it = lru.rbegin(); it != lru.rend(); ++it) {
        if (it->second.get_desc() == md) {
          victim = std::next(it).base();
          break;
        }
      }
      if (victim == lru.end()) victim = std::prev(lru.end());
      if (victim->second.get_desc() == md) m = victim->second;
      lru.erase(victim);
    }
    if (!m) m = dnnl::memory(md, engine());
    r.prim.execute(st, user, m);
    lru.emplace_front(id, m);
    return m;
  }
};
RoundedCopies& roundedCopies() {
  static RoundedCopies c;
  return c;
}

// The memory a bf16 primitive reads for user buffer `user` (array id `id`): the shared rounded
// copy when the id is known, else `conv`'s own buffer; `user` itself at f32.
dnnl::memory rounded(Convert& conv, double id, dnnl::memory user, dnnl::stream& st) {
  if (!conv.r.needed) return user;
  if (!(id > 0)) return conv(user, st);
  return roundedCopies().get(id, conv.compute, conv.r, user, st);
}

// Reads argument i as an array id (0 when absent).
double idArg(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : 0;
}

// Reads the trailing precision argument i: 0 (absent) f32, 1 bf16.
dt computeArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsNumber()) return dt::f32;
  int p = info[i].As<Napi::Number>().Int32Value();
  if (p == 0) return dt::f32;
  if (p == 1) return dt::bf16;
  throw Napi::RangeError::New(info.Env(), "precision must be 0 (f32) or 1 (bf16); got " + std::to_string(p));
}

// Forward: primitive plus the reorder of tfjs's filter into oneDNN's layout.
struct FwdEntry : CacheEntry {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward prim;
  Reorder wReorder;
  dnnl::memory wMem;  // oneDNN-layout filter when a reorder is needed
  PackedWeights packed;
  Convert x;  // x rounded to bf16
};

struct BwdDataEntry : CacheEntry {
  dnnl::convolution_backward_data::primitive_desc pd;
  dnnl::convolution_backward_data prim;
  Reorder wReorder;
  dnnl::memory wMem;
  PackedWeights packed;
  Convert dy;
};

struct BwdWeightsEntry : CacheEntry {
  dnnl::convolution_backward_weights::primitive_desc pd;
  dnnl::convolution_backward_weights prim;
  Reorder dwReorder;  // oneDNN layout -> tfjs layout
  dnnl::memory dwMem;
  Convert x, dy;
};

// conv2dForward(x, w, bias|null, y, geometry, activation, alpha, weightId, precision, xId)
Napi::Value Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ConvShape s(geometryArg(info, 4), computeArg(info, 8));
  auto p = s.params();
  float* x = floatArg(info, 0, s.srcSize(), "x");
  float* w = floatArg(info, 1, s.weightsSize(), "filter");
  float* b = optionalFloatArg(info, 2, s.OC, "bias");
  float* y = floatArg(info, 3, s.dstSize(), "y");
  int act = info[5].As<Napi::Number>().Int32Value();
  float alpha = info[6].As<Napi::Number>().FloatValue();
  double wid = info.Length() > 7 && info[7].IsNumber() ? info[7].As<Napi::Number>().DoubleValue() : 0;
  try {
    auto params = p;
    params.push_back(b != nullptr);
    params.push_back(act);
    params.push_back(static_cast<int64_t>(s.cdt));
    std::string key = makeKey("conv_fwd", params) + "," + std::to_string(alpha);
    auto* e = static_cast<FwdEntry*>(cacheGet(key));
    if (!e) {
      auto ne = std::make_unique<FwdEntry>();
      ne->pd = s.forwardPd(b != nullptr, dnnl::prop_kind::forward_training,
                           activationAttr(act, alpha));
      ne->prim = dnnl::convolution_forward(ne->pd);
      ne->wReorder = makeReorder(s.userWeights(), ne->pd.weights_desc());
      if (ne->wReorder.needed) ne->wMem = dnnl::memory(ne->pd.weights_desc(), engine());
      ne->x.init(s.src(), s.srcC());
      e = static_cast<FwdEntry*>(cachePut(key, std::move(ne)));
    }
    auto& st = stream();
    dnnl::memory wUser = userMemory(s.userWeights(), w);
    dnnl::memory wUse = e->packed.get(wid, e->wReorder, e->pd.weights_desc(), wUser, e->wMem, st);
    std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, rounded(e->x, idArg(info, 9), userMemory(s.src(), x), st)},
                                               {DNNL_ARG_WEIGHTS, wUse},
                                               {DNNL_ARG_DST, userMemory(s.dst(), y)}};
    if (b) args[DNNL_ARG_BIAS] = userMemory(s.bias(), b);
    e->prim.execute(st, args);
    st.wait();
    return Napi::String::New(env, e->pd.impl_info_str());
  } catch (const dnnl::error& err) {
    rethrow(env, err, "conv2dForward");
  }
}

// conv2dBackwardData(dy, w, dx, geometry, weightId, precision, dyId)
Napi::Value BackwardData(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ConvShape s(geometryArg(info, 3), computeArg(info, 5));
  auto p = s.params();
  p.push_back(static_cast<int64_t>(s.cdt));
  float* dy = floatArg(info, 0, s.dstSize(), "dy");
  float* w = floatArg(info, 1, s.weightsSize(), "filter");
  float* dx = floatArg(info, 2, s.srcSize(), "dx");
  double wid = info.Length() > 4 && info[4].IsNumber() ? info[4].As<Napi::Number>().DoubleValue() : 0;
  try {
    std::string key = makeKey("conv_bwd_d", p);
    auto* e = static_cast<BwdDataEntry*>(cacheGet(key));
    if (!e) {
      auto ne = std::make_unique<BwdDataEntry>();
      auto hint = s.forwardPd(false, dnnl::prop_kind::forward_training, {});
      dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, s.src(),
                                               s.anyWeights(s.cdt), s.dstC(), s.strides(),
                                               s.dilates(), s.padL(), s.padR());
      ne->pd = dnnl::convolution_backward_data::primitive_desc(d, engine(), hint);
      ne->prim = dnnl::convolution_backward_data(ne->pd);
      ne->wReorder = makeReorder(s.userWeights(), ne->pd.weights_desc());
      if (ne->wReorder.needed) ne->wMem = dnnl::memory(ne->pd.weights_desc(), engine());
      ne->dy.init(s.dst(), s.dstC());
      e = static_cast<BwdDataEntry*>(cachePut(key, std::move(ne)));
    }
    auto& st = stream();
    dnnl::memory wUser = userMemory(s.userWeights(), w);
    dnnl::memory wUse = e->packed.get(wid, e->wReorder, e->pd.weights_desc(), wUser, e->wMem, st);
    e->prim.execute(st, {{DNNL_ARG_DIFF_DST, rounded(e->dy, idArg(info, 6), userMemory(s.dst(), dy), st)},
                         {DNNL_ARG_WEIGHTS, wUse},
                         {DNNL_ARG_DIFF_SRC, userMemory(s.src(), dx)}});
    st.wait();
    return Napi::String::New(env, e->pd.impl_info_str());
  } catch (const dnnl::error& err) {
    rethrow(env, err, "conv2dBackwardData");
  }
}

// conv2dBackwardWeights(x, dy, dw, dbias|null, geometry, precision, xId, dyId)
Napi::Value BackwardWeights(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ConvShape s(geometryArg(info, 4), computeArg(info, 5));
  auto p = s.params();
  float* x = floatArg(info, 0, s.srcSize(), "x");
  float* dy = floatArg(info, 1, s.dstSize(), "dy");
  float* dw = floatArg(info, 2, s.weightsSize(), "dw");
  float* db = optionalFloatArg(info, 3, s.OC, "dbias");
  try {
    auto params = p;
    params.push_back(db != nullptr);
    params.push_back(static_cast<int64_t>(s.cdt));
    std::string key = makeKey("conv_bwd_w", params);
    auto* e = static_cast<BwdWeightsEntry*>(cacheGet(key));
    if (!e) {
      auto ne = std::make_unique<BwdWeightsEntry>();
      auto hint = s.forwardPd(db != nullptr, dnnl::prop_kind::forward_training, {});
      auto d = db ? dnnl::convolution_backward_weights::desc(
                        dnnl::algorithm::convolution_direct, s.srcC(), s.anyWeights(dt::f32),
                        s.bias(), s.dstC(), s.strides(), s.dilates(), s.padL(), s.padR())
                  : dnnl::convolution_backward_weights::desc(
                        dnnl::algorithm::convolution_direct, s.srcC(), s.anyWeights(dt::f32),
                        s.dstC(), s.strides(), s.dilates(), s.padL(), s.padR());
      ne->pd = dnnl::convolution_backward_weights::primitive_desc(d, engine(), hint);
      ne->prim = dnnl::convolution_backward_weights(ne->pd);
      ne->dwReorder = makeReorder(ne->pd.diff_weights_desc(), s.userWeights());
      if (ne->dwReorder.needed) ne->dwMem = dnnl::memory(ne->pd.diff_weights_desc(), engine());
      ne->x.init(s.src(), s.srcC());
      ne->dy.init(s.dst(), s.dstC());
      e = static_cast<BwdWeightsEntry*>(cachePut(key, std::move(ne)));
    }
    auto& st = stream();
    dnnl::memory dwUser = userMemory(s.userWeights(), dw);
    std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, rounded(e->x, idArg(info, 6), userMemory(s.src(), x), st)},
        {DNNL_ARG_DIFF_DST, rounded(e->dy, idArg(info, 7), userMemory(s.dst(), dy), st)},
        {DNNL_ARG_DIFF_WEIGHTS, e->dwReorder.needed ? e->dwMem : dwUser}};
    if (db) args[DNNL_ARG_DIFF_BIAS] = userMemory(s.bias(), db);
    e->prim.execute(st, args);
    if (e->dwReorder.needed) e->dwReorder.prim.execute(st, e->dwMem, dwUser);
    st.wait();
    return Napi::String::New(env, e->pd.impl_info_str());
  } catch (const dnnl::error& err) {
    rethrow(env, err, "conv2dBackwardWeights");
  }
}

}  // namespace

void initConv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2dForward", Napi::Function::New(env, guarded<Forward>));
  exports.Set("conv2dBackwardData", Napi::Function::New(env, guarded<BackwardData>));
  exports.Set("conv2dBackwardWeights", Napi::Function::New(env, guarded<BackwardWeights>));
}

}  // namespace senet
