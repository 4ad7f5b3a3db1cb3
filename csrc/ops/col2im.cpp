// Col2Im(input, image_shape, block_shape; strides, pads, dilations): the
// inverse of im2col ("fold"). input is [N, C * prod(block_shape), L], one
// column per sliding-block position, L the number of positions of the block
// over the padded image; the output [N, C, *image_shape] sums every column
// entry into the image pixel it came from (entries over padding are dropped).
// Any number of spatial dims; image_shape and block_shape decide the output
// shape (and C), so they are read at compile time. Floats (float16 through
// float32).
// NAIVE: zero the output, then for each (n, c, kernel offset, block
// position) add the one input element to its pixel when it is inside the
// image. O(numel(input) * dims), no workspace.
#include <cstring>

#include "ops/common.h"
#include "ops/elementwise.h"

namespace loadrun {

namespace {

struct Col2ImOp final : Op {
  std::vector<int64_t> strides, pads, dilations;  // empty: defaults
  explicit Col2ImOp(const Attrs& a)
      : strides(a.get_ints("strides")), pads(a.get_ints("pads")), dilations(a.get_ints("dilations")) {}
  std::string param_key() const override {
    return shape_str(strides) + shape_str(pads) + shape_str(dilations);
  }

  struct Geo {
    Shape image, block, stride, pad_begin, dil, blocks;  // per spatial dim
  };
  Geo geometry(const std::vector<int64_t>& image, const std::vector<int64_t>& block) const {
    size_t nd = image.size();
    LR_CHECK(nd >= 1 && block.size() == nd, ModelError, "image_shape ", shape_str(image),
             " and block_shape ", shape_str(block), " must be 1-D of the same non-zero length");
    LR_CHECK(strides.empty() || strides.size() == nd, ModelError, "strides ", shape_str(strides),
             " must have ", nd, " entries");
    LR_CHECK(dilations.empty() || dilations.size() == nd, ModelError, "dilations ",
             shape_str(dilations), " must have ", nd, " entries");
    LR_CHECK(pads.empty() || pads.size() == 2 * nd, ModelError, "pads ", shape_str(pads), " must have ",
             2 * nd, " entries");
    Geo g;
    g.image = image;
    g.block = block;
    for (size_t d = 0; d < nd; ++d) {
      int64_t s = strides.empty() ? 1 : strides[d];
      int64_t dl = dilations.empty() ? 1 : dilations[d];
      int64_t pb = pads.empty() ? 0 : pads[d], pe = pads.empty() ? 0 : pads[d + nd];
      LR_CHECK(s >= 1 && dl >= 1 && pb >= 0 && pe >= 0, ModelError,
               "strides and dilations must be >= 1 and pads >= 0");
      LR_CHECK(image[d] >= 1 && block[d] >= 1, ModelError, "image_shape ", shape_str(image),
               " and block_shape ", shape_str(block), " must be positive");
      int64_t span = dl * (block[d] - 1) + 1;
      int64_t nb = (image[d] + pb + pe - span) / s + 1;
      LR_CHECK(image[d] + pb + pe >= span, ModelError, "block ", block[d], " (dilation ", dl,
               ") does not fit image dim ", image[d], " with pads ", pb, "+", pe);
      g.stride.push_back(s);
      g.dil.push_back(dl);
      g.pad_begin.push_back(pb);
      g.blocks.push_back(nb);
    }
    return g;
  }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(x.ndim() == 3, ModelError, "input must be 3-D [N, C * prod(block_shape), L], got shape ",
             shape_str(x.shape));
    Geo g = geometry(ctx.value(1, "Col2Im image_shape").to_i64_vector(),
                     ctx.value(2, "Col2Im block_shape").to_i64_vector());
    int64_t ksize = shape_numel(g.block);
    LR_CHECK(x.shape[1] % ksize == 0, ModelError, "input dim 1 (", x.shape[1],
             ") is not a multiple of prod(block_shape) = ", ksize);
    LR_CHECK(x.shape[2] == shape_numel(g.blocks), ModelError, "input dim 2 (", x.shape[2],
             ") must be the number of block positions ", shape_str(g.blocks), " = ",
             shape_numel(g.blocks));
    Shape out = {x.shape[0], x.shape[1] / ksize};
    out.insert(out.end(), g.image.begin(), g.image.end());
    ctx.set_output(0, out, x.dtype);
  }
};

template <typename T>
void col2im_t(const Col2ImOp& op, const KernCtx& ctx) {
  using N = Num<T>;
  using C = typename N::C;
  const Tensor& xt = ctx.input(0);
  Tensor& yt = ctx.output(0);
  Col2ImOp::Geo g = op.geometry(ctx.input(1).to_i64_vector(), ctx.input(2).to_i64_vector());
  size_t nd = g.image.size();
  int64_t batch = xt.shape()[0];
  int64_t ksize = shape_numel(g.block), npos = shape_numel(g.blocks), npix = shape_numel(g.image);
  int64_t chans = xt.shape()[1] / ksize;
  LR_CHECK(Shape(yt.shape().begin() + 2, yt.shape().end()) == g.image && chans == yt.shape()[1] &&
               chans * ksize == xt.shape()[1] && npos == xt.shape()[2],
           ModelError, "image_shape ", shape_str(g.image), " / block_shape ", shape_str(g.block),
           " differ from the compiled ones");
  std::vector<C> acc(static_cast<size_t>(npix));
  const T* x = xt.ptr<T>();
  T* y = yt.ptr<T>();
  std::vector<int64_t> kc(nd), bc(nd);
  for (int64_t nc = 0; nc < batch * chans; ++nc) {
    std::fill(acc.begin(), acc.end(), C(0));
    for (int64_t k = 0; k < ksize; ++k) {
      for (int64_t rem = k, d = static_cast<int64_t>(nd); d-- > 0;) {
        kc[d] = rem % g.block[d];
        rem /= g.block[d];
      }
      for (int64_t p = 0; p < npos; ++p) {
        for (int64_t rem = p, d = static_cast<int64_t>(nd); d-- > 0;) {
          bc[d] = rem % g.blocks[d];
          rem /= g.blocks[d];
        }
        int64_t pix = 0;
        bool inside = true;
        for (size_t d = 0; d < nd; ++d) {
          int64_t c = bc[d] * g.stride[d] - g.pad_begin[d] + kc[d] * g.dil[d];
          if (c < 0 || c >= g.image[d]) inside = false;
          pix = pix * g.image[d] + c;
        }
        if (inside) acc[static_cast<size_t>(pix)] += N::ld(x[(nc * ksize + k) * npos + p]);
      }
    }
    for (int64_t i = 0; i < npix; ++i) y[nc * npix + i] = N::st(acc[static_cast<size_t>(i)]);
  }
}

void col2im_naive(const Col2ImOp& op, const KernCtx& ctx) {
  LR_EW_DISPATCH_FLOAT(ctx.input(0).dtype(), "Col2Im", col2im_t<T>(op, ctx));
}

const auto kNaive = naive_algo<Col2ImOp>(col2im_naive);

}  // namespace

void register_op_Col2Im(OpRegistry& r) { register_simple<Col2ImOp>(r, "Col2Im", {&kNaive}, 3, 3); }

}  // namespace loadrun
