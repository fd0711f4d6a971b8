// Max and average 2-D pooling on NHWC data, forward and backward. Average pooling excludes
// padding (as tfjs's forward does); max-pool backward recomputes the forward pass to get
// oneDNN's argmax workspace, since tfjs does not keep one between the passes.
#include "common.h"

namespace senet {
namespace {

// One pooling: its Geometry (OC = C), checked, and whether it takes the max or the average.
struct PoolShape : Geometry {
  bool isMax;
  PoolShape(const Geometry& g, bool max) : Geometry(g), isMax(max) {
    if (N < 1 || H < 1 || W < 1 || C < 1 || OH < 1 || OW < 1 || KH < 1 || KW < 1 || sh < 1 ||
        sw < 1 || OC != C) {
      throw std::invalid_argument("invalid pooling shape");
    }
  }
  // Cache-key parameters: the geometry and the kind.
  std::vector<int64_t> key() const {
    auto p = params();
    p.push_back(isMax);
    return p;
  }
  size_t srcSize() const { return N * H * W * C; }
  size_t dstSize() const { return N * OH * OW * C; }
  dnnl::memory::desc src() const { return {{N, C, H, W}, dt::f32, tag::nhwc}; }
  dnnl::memory::desc dst() const { return {{N, C, OH, OW}, dt::f32, tag::nhwc}; }
  dnnl::algorithm alg() const {
    return isMax ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding;
  }
  dnnl::pooling_forward::desc fwd(dnnl::prop_kind prop) const {
    return {prop, alg(), src(), dst(), {sh, sw}, {KH, KW}, {pt, pl}, {pb, pr}};
  }
};

struct FwdEntry : CacheEntry {
  dnnl::pooling_forward::primitive_desc pd;
  dnnl::pooling_forward prim;
};

struct BwdEntry : CacheEntry {
  dnnl::pooling_forward::primitive_desc fpd;
  dnnl::pooling_forward fprim;  // max only: recomputes the workspace
  dnnl::memory ws, scratchDst;
  dnnl::pooling_backward::primitive_desc pd;
  dnnl::pooling_backward prim;
};

// pool2dForward(x, y, geometry, isMax)
Napi::Value Forward(const Napi::CallbackInfo& info) {
  PoolShape s(geometryArg(info, 2), info[3].ToBoolean().Value());
  auto p = s.key();
  float* x = floatArg(info, 0, s.srcSize(), "x");
  float* y = floatArg(info, 1, s.dstSize(), "y");
  std::string key = makeKey("pool_fwd", p);
  auto* e = static_cast<FwdEntry*>(cacheGet(key));
  if (!e) {
    auto ne = std::make_unique<FwdEntry>();
    ne->pd = dnnl::pooling_forward::primitive_desc(s.fwd(dnnl::prop_kind::forward_inference),
                                                   engine());
    ne->prim = dnnl::pooling_forward(ne->pd);
    e = static_cast<FwdEntry*>(cachePut(key, std::move(ne)));
  }
  auto& st = stream();
  e->prim.execute(st, {{DNNL_ARG_SRC, userMemory(s.src(), x)},
                       {DNNL_ARG_DST, userMemory(s.dst(), y)}});
  st.wait();
  return Napi::String::New(info.Env(), e->pd.impl_info_str());
}

// pool2dBackward(dy, x|null, dx, geometry, isMax); x is needed for max pooling.
Napi::Value Backward(const Napi::CallbackInfo& info) {
  PoolShape s(geometryArg(info, 3), info[4].ToBoolean().Value());
  auto p = s.key();
  float* dy = floatArg(info, 0, s.dstSize(), "dy");
  float* x = s.isMax ? floatArg(info, 1, s.srcSize(), "x") : nullptr;
  float* dx = floatArg(info, 2, s.srcSize(), "dx");
  std::string key = makeKey("pool_bwd", p);
  auto* e = static_cast<BwdEntry*>(cacheGet(key));
  if (!e) {
    auto ne = std::make_unique<BwdEntry>();
    ne->fpd = dnnl::pooling_forward::primitive_desc(s.fwd(dnnl::prop_kind::forward_training),
                                                    engine());
    if (s.isMax) {
      ne->fprim = dnnl::pooling_forward(ne->fpd);
      ne->ws = dnnl::memory(ne->fpd.workspace_desc(), engine());
      ne->scratchDst = dnnl::memory(s.dst(), engine());
    }
    dnnl::pooling_backward::desc d(s.alg(), s.src(), s.dst(), {s.sh, s.sw}, {s.KH, s.KW},
                                   {s.pt, s.pl}, {s.pb, s.pr});
    ne->pd = dnnl::pooling_backward::primitive_desc(d, engine(), ne->fpd);
    ne->prim = dnnl::pooling_backward(ne->pd);
    e = static_cast<BwdEntry*>(cachePut(key, std::move(ne)));
  }
  auto& st = stream();
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_DIFF_DST, userMemory(s.dst(), dy)},
                                             {DNNL_ARG_DIFF_SRC, userMemory(s.src(), dx)}};
  if (s.isMax) {
    e->fprim.execute(st, {{DNNL_ARG_SRC, userMemory(s.src(), x)},
                          {DNNL_ARG_DST, e->scratchDst},
                          {DNNL_ARG_WORKSPACE, e->ws}});
    args[DNNL_ARG_WORKSPACE] = e->ws;
  }
  e->prim.execute(st, args);
  st.wait();
  return Napi::String::New(info.Env(), e->pd.impl_info_str());
}

}  // namespace

void initPool(Napi::Env env, Napi::Object exports) {
  exports.Set("pool2dForward", Napi::Function::New(env, guarded<Forward>));
  exports.Set("pool2dBackward", Napi::Function::New(env, guarded<Backward>));
}

}  // namespace senet
