// Conv's parsed params and 2-D geometry, shared by the NAIVE algorithm
// (conv.cpp) and the fast ones (conv_*.cpp). A Conv may carry a fused
// activation that the graph pass passes/fuse_conv.cpp sets through the
// loadrun-internal attributes kActAttr / kActParamsAttr; every algorithm
// applies bias and activation before its output leaves the cache.
#pragma once
#include <cmath>
#include <string>

#include "fastrun/algo.h"
#include "graph/attrs.h"
#include "kernels/sgemm.h"
#include "ops/spatial.h"
#include "runtime/comp_node.h"

namespace loadrun {

// Attribute names the fusion pass writes; not ONNX attributes.
constexpr const char* kActAttr = "__loadrun_activation";       // "Relu", "Relu6", ...
constexpr const char* kActParamsAttr = "__loadrun_act_params";  // floats: Clip bounds, slope
// Int 1: input 3 is a residual added after the bias, before the activation
// (Conv + Add fusion). It may broadcast like ONNX Add; the fast algorithms
// take only one of the output's exact shape (conv_residual_ok).
constexpr const char* kResidualAttr = "__loadrun_residual";

struct ConvOp final : Op {
  SpatialParams sp;
  int64_t group;
  kernels::Act act = kernels::Act::kNone;
  float act_p0 = 0.f, act_p1 = 0.f;  // its parameters (kernels/activation.h)
  bool residual = false;             // input 3: fused Add (kResidualAttr)

  explicit ConvOp(const Attrs& a);
  std::string param_key() const override;
  void infer(InferCtx& ctx) const override;

  // Bias (may be null) and the fused activation, as the kernels take them.
  // res: the residual at the GEMM's C origin, res_ld its row stride.
  kernels::Epilogue epilogue(const float* bias, const float* res = nullptr,
                             int64_t res_ld = 0) const {
    kernels::Epilogue ep;
    ep.residual = res;
    ep.res_ld = res_ld;
    ep.bias = bias;
    ep.bias_mode = kernels::Epilogue::kPerRow;
    ep.act = act;
    ep.p0 = act_p0;
    ep.p1 = act_p1;
    return ep;
  }
};

// The fused activation in T: the scalar definition of kernels/activation.h
// (the one every algorithm's kernels share).
template <typename T>
T conv_activate(const ConvOp& op, T v) {
  return kernels::activate(op.act, v, op.act_p0, op.act_p1);
}

// 2-D geometry of one conv call (1-D mapped to H = 1); ph, pw are the begin
// pads (the end pads only shape the output size).
struct ConvGeo {
  int64_t n, ic, ih, iw, oc, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw;
  int64_t group;
  int64_t icg() const { return ic / group; }
  int64_t ocg() const { return oc / group; }
};

ConvGeo conv_geometry(const ConvOp& op, const Shape& x, const Shape& w, const Shape& y);
// From layouts; false when the conv is not a float32 one a fast algo handles
// (other dtype, non-contiguous, or the weight is missing).
bool conv_geometry_f32(const ConvOp& op, const InLayouts& in, const OutLayouts& out,
                       ConvGeo* g);

const ConvOp& as_conv(const Op& op);
// True when the conv has no residual, or a float32 contiguous one of the
// output's shape (what the fast algorithms handle).
bool conv_residual_ok(const ConvOp& op, const InLayouts& in, const OutLayouts& out);
// The residual input's data (null without one).
const float* conv_residual(const ConvOp& op, const KernCtx& ctx);
// For algorithms whose kernels apply bias and activation but no residual:
// y[c][i] = act(y[c][i] + r[c][i]) over a plane of hw (r null: nothing).
void conv_residual_act(const ConvOp& op, const float* r, float* y, int64_t hw);

// GEMM helpers of CONV1x1_GEMM and IM2COL_GEMM (conv_im2col_gemm.cpp). Per
// image and group, Y_grp[ocg x n] = W_grp[ocg x k] * B[k x n] (B: the input
// plane or its im2col columns). Small planes (n <= kConvGemmSmallN) run it
// transposed, Y^T[n x ocg] = B^T W^T, into scratch and transpose back: the
// 6x16 micro-kernel then spans 16 channels instead of the few positions
// (7x7 x 512: 64 against 91 GFLOP/s). Preprocess packs every group's
// weights, one after another, as the GEMM's A operand (or, transposed, its B
// operand); unprepared, the GEMM reads them raw.
constexpr int64_t kConvGemmSmallN = 256;
inline bool conv_gemm_transposed(int64_t n) { return n <= kConvGemmSmallN; }
// oh*ow of the conv's output, from its input layouts.
int64_t conv_out_hw(const ConvOp& op, const InLayouts& in);
Prepared conv_pack_weights(const float* w, int64_t group, int64_t ocg, int64_t k, bool transposed);
// The weights (shape w_shape) back from conv_pack_weights' form.
Tensor conv_unpack_weights(const Prepared& p, const Shape& w_shape, int64_t group, bool transposed);
// C[ocg x n] (leading dim ldc) = W_grp * B[k x n] (leading dim ldb), then ep
// (whose bias already points at the group's first channel). Transposed, it
// needs scratch of n*ocg floats.
void conv_group_gemm(const float* w, const void* prepared, bool transposed, int64_t grp,
                     int64_t ocg, int64_t k, const float* b, int64_t ldb, float* c, int64_t ldc,
                     int64_t n, const kernels::Epilogue& ep, float* scratch,
                     CompNode* cn = nullptr);

// Threads for the GEMM-based algorithms: their independent tasks (image x
// group x column block) go one per thread when there are enough of them to
// share evenly (a multiple of the threads, or 4 per thread or more); else the
// tasks run one after another and each GEMM splits over the threads.
inline bool conv_split_tasks(const CompNode* cn, int64_t tasks) {
  const int64_t t = cn ? cn->num_threads() : 1;
  return t > 1 && tasks >= t && (tasks % t == 0 || tasks >= 4 * t);
}

// One conv call as a fast algorithm runs it: the geometry (worked out once
// at bind, or per call by exec) and the call's context.
struct ConvCall {
  const ConvOp& op;
  const ConvGeo& g;
  const KernCtx& ctx;
};

// Base of the fast conv algorithms. bind works the geometry out once for the
// step's layouts and keeps it in the BoundKernel; exec (profiling, a call
// outside a plan) works it out per call; both end in run().
class ConvAlgo : public Algo {
 public:
  void exec(const Op& op, const KernCtx& ctx) const final;
  BoundKernel bind(const Op& op, const InLayouts& in, const OutLayouts& out,
                   CompNode& cn) const final;

 protected:
  virtual void run(const ConvCall& c) const = 0;
};

// The fast algorithms (one file each), in the order the heuristic tries them.
const Algo* conv_depthwise_direct_algo();
const Algo* conv_direct_small_ic_algo();
const Algo* conv1x1_gemm_algo();
const Algo* conv_winograd_f63_algo();
const Algo* conv_winograd_f43_algo();
const Algo* conv_im2col_gemm_algo();

}  // namespace loadrun
