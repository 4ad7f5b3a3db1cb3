// The int8 NCHW44 convolution (kernels/conv_int8_nchw44.h) and the op that
// runs it (ops/qlinear_conv_nchw44.cpp), exactly: integer results must be
// equal, bit for bit.
//  1. Kernels: the row kernels (s8 and u8) of every ISA level this CPU runs
//     (portable, neon_dotprod under qemu on the aarch64 build) against a
//     scalar sum over the OIHW weights: input channels 1, 3, 4, 5, 8, 13
//     (partial last blocks), output channels 1, 4, 6, 9, 3x3 / 1x1 / 2x5
//     kernels, strides 1 and 2, dilation 1 and 2, output widths around the
//     8- and 4-pixel tiles (1, 3, 4, 7, 8, 9, 17), one output block per
//     call and two (the odd one out alone); inputs cover the whole
//     byte range (0, 127, 128, 255 and random), and the accumulator buffer
//     is pre-filled with a sentinel (every lane must be written). The
//     packing's per-channel sums are checked too.
//  2. The op at the level in use: QLinearConvNCHW44 with NCHW44_DOT (weights
//     preprocessed or not, 1 or 3 threads) against its NAIVE and against
//     QLinearConv's NAIVE on the unblocked input: uint8 / int8 inputs and
//     weights in all four pairings, zero points 0 and not 0, w_scale and
//     w_zero_point per channel, B, pads, strides, dilation, group 1 and
//     depthwise (6, 8, 11 channels), channel counts
//     that are not multiples of 4, scales that saturate the output; the
//     input's lanes past the real channels hold random bytes (they must not
//     reach the output) and output lanes past OC must be y_zero_point.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "expect.h"
#include "graph/graph.h"
#include "kernels/conv_int8_nchw44.h"
#include "kernels/isa.h"
#include "kernels/kernel_table.h"
#include "runtime/comp_node.h"
#include "runtime/network.h"

#if defined(__aarch64__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-vectorize")  // as test_model_fast_vs_naive.cpp: GCC 12 ICE
#endif

using namespace loadrun;
using namespace loadrun::kernels;

namespace {

uint32_t g_seed = 44;
uint32_t rnd() {
  g_seed = g_seed * 1664525u + 1013904223u;
  return g_seed >> 8;
}
uint8_t rnd_byte() {
  static const uint8_t kEdge[] = {0, 127, 128, 255};
  uint32_t r = rnd();
  return r % 5 == 0 ? kEdge[(r / 5) % 4] : static_cast<uint8_t>(r >> 4);
}

// ------------------------------------------------------------------ kernels
void kernel_case(const KernelTable& t, int64_t ic, int64_t oc, int64_t kh, int64_t kw, int64_t s,
                 int64_t d, int64_t oh, int64_t ow, bool sgn) {
  ++g_cases;
  const int64_t icb = (ic + 3) / 4, ocb = (oc + 3) / 4;
  ConvInt8Nchw44Geo g{icb, kh, kw, s, s, d, d, ow,
                      conv_int8_nchw44_rows(oh, kh, s, d), conv_int8_nchw44_rows(ow, kw, s, d)};
  std::vector<uint8_t> xp(icb * g.rows * g.ld * 4), w(oc * ic * kh * kw);
  for (auto& v : xp) v = rnd_byte();
  for (auto& v : w) v = rnd_byte();
  std::vector<uint8_t> wp(conv_int8_nchw44_packed_bytes(oc, ic, kh, kw));
  std::vector<int32_t> sum_w(oc);
  conv_int8_nchw44_pack(w.data(), sgn, oc, ic, kh, kw, wp.data(), sum_w.data());
  auto val = [sgn](uint8_t b) { return sgn ? int64_t(int8_t(b)) : int64_t(b); };
  for (int64_t o = 0; o < oc; ++o) {
    int64_t s_ref = 0;
    for (int64_t i = 0; i < ic * kh * kw; ++i) s_ref += val(w[o * ic * kh * kw + i]);
    if (sum_w[o] != int32_t(s_ref)) fail(isa_level_name(t.level), "packed weight sums");
  }
  const ConvInt8Nchw44RowFn fn = sgn ? t.conv_int8_nchw44.row_s8 : t.conv_int8_nchw44.row_u8;
  std::vector<int32_t> accs(2 * ow * 4 + 4);
  // Blocks one at a time, then in pairs (the last alone when ocb is odd).
  for (int per : {1, 2})
  for (int64_t ob0 = 0; ob0 < ocb; ob0 += per)
    for (int64_t oy = 0; oy < oh; ++oy) {
      const int nb = static_cast<int>(std::min<int64_t>(per, ocb - ob0));
      std::fill(accs.begin(), accs.end(), 0x5a5a5a5a);
      fn(g, xp.data(), wp.data() + ob0 * icb * kh * kw * 16, nb, oy, accs.data());
      if (accs[nb * ow * 4] != 0x5a5a5a5a) fail(isa_level_name(t.level), "wrote past the row");
      for (int64_t ob = ob0; ob < ob0 + nb; ++ob) {
      const int32_t* acc = accs.data() + (ob - ob0) * ow * 4;
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t l = 0; l < 4; ++l) {
          const int64_t o = ob * 4 + l;
          int64_t ref = 0;
          if (o < oc)
            for (int64_t i = 0; i < ic; ++i)
              for (int64_t ky = 0; ky < kh; ++ky)
                for (int64_t kx = 0; kx < kw; ++kx) {
                  const int64_t r = oy * s + ky * d, c = ox * s + kx * d;
                  ref += val(xp[((i / 4 * g.rows + r) * g.ld + c) * 4 + i % 4]) *
                         val(w[((o * ic + i) * kh + ky) * kw + kx]);
                }
          if (acc[ox * 4 + l] != int32_t(ref)) {
            char buf[200];
            std::snprintf(buf, sizeof buf,
                          "%s ic %lld oc %lld k %lldx%lld s %lld d %lld oy %lld ox %lld lane "
                          "%lld: %d != %lld",
                          sgn ? "s8" : "u8", (long long)ic, (long long)oc, (long long)kh,
                          (long long)kw, (long long)s, (long long)d, (long long)oy,
                          (long long)ox, (long long)l, acc[ox * 4 + l], (long long)ref);
            fail(isa_level_name(t.level), buf);
            return;
          }
        }
      }
    }
}

void kernels_all() {
  for (IsaLevel level : isa_levels_supported()) {
    const KernelTable& t = kernel_table_for(level);
    for (bool sgn : {true, false})
      for (int64_t ic : {1, 3, 4, 5, 8, 13})
        for (int64_t oc : {1, 4, 6, 9})
          for (int64_t ow : {1, 3, 4, 7, 8, 9, 17}) {
            kernel_case(t, ic, oc, 3, 3, 1, 1, 2, ow, sgn);
            kernel_case(t, ic, oc, 1, 1, 2, 1, 1, ow, sgn);
            kernel_case(t, ic, oc, 2, 5, 2, 2, 2, ow, sgn);
          }
    std::printf("kernels at %s checked\n", isa_level_name(level));
  }
}

// ------------------------------------------------------------------ the op
AttrValue ints(std::vector<int64_t> v) {
  AttrValue a;
  a.kind = AttrValue::kInts;
  a.ints = std::move(v);
  return a;
}

Tensor bytes_tensor(const Shape& shape, DType dt, bool random, uint8_t value = 0) {
  Tensor t(Layout(shape, dt));
  uint8_t* p = static_cast<uint8_t*>(t.raw());
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = random ? rnd_byte() : value;
  return t;
}
Tensor f32(const Shape& shape, std::vector<float> v) {
  Tensor t(Layout(shape, DType::Float32));
  std::memcpy(t.raw(), v.data(), v.size() * 4);
  return t;
}

struct OpCase {
  int64_t n, ic, oc, h, w, k, s, d, pad;
  DType xt, wt, yt;
  bool zps, per_oc, bias;
  float y_scale;  // small: the output saturates
  int64_t group = 1;  // or depthwise: ic = oc = group
};

// The graph: QLinearConv or QLinearConvNCHW44 on input x, output y.
std::shared_ptr<Graph> op_graph(const OpCase& c, bool blocked, const Shape& xshape,
                                const std::vector<Tensor>& params) {
  auto g = std::make_shared<Graph>();
  g->add_input("x", c.xt, xshape);
  const char* names[] = {"xs", "xzp", "w", "ws", "wzp", "ys", "yzp", "b"};
  std::vector<std::string> ins{"x"};
  for (size_t i = 0; i < params.size(); ++i) {
    g->add_const(names[i], params[i]);
    ins.push_back(names[i]);
  }
  Attrs a;
  a.set("pads", ints({c.pad, c.pad, c.pad, c.pad}));
  a.set("strides", ints({c.s, c.s}));
  a.set("dilations", ints({c.d, c.d}));
  AttrValue grp;
  grp.kind = AttrValue::kInt;
  grp.i = c.group;
  a.set("group", grp);
  if (blocked)
    g->add_opr("QLinearConvNCHW44", "loadrun", "conv", a, ins, {"y"});
  else
    g->add_opr("QLinearConv", "", "conv", a, ins, {"y"});
  g->add_output("y");
  return g;
}

void op_case(const OpCase& c) {
  ++g_cases;
  const int64_t icb = (c.ic + 3) / 4, ocb = (c.oc + 3) / 4, q = c.per_oc ? c.oc : 1;
  Tensor x = bytes_tensor({c.n, c.ic, c.h, c.w}, c.xt, true);
  Tensor xb = bytes_tensor({c.n, icb, c.h, c.w, 4}, c.xt, true);  // junk lanes stay random
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t i = 0; i < c.ic; ++i)
      for (int64_t p = 0; p < c.h * c.w; ++p)
        static_cast<uint8_t*>(xb.raw())[((n * icb + i / 4) * c.h * c.w + p) * 4 + i % 4] =
            static_cast<uint8_t*>(x.raw())[(n * c.ic + i) * c.h * c.w + p];
  std::vector<float> ws(q);
  for (int64_t i = 0; i < q; ++i) ws[i] = 0.002f + 0.001f * float(rnd() % 16);
  std::vector<Tensor> params{f32({}, {0.05f}),
                             bytes_tensor({}, c.xt, false, c.zps ? 0x93 : 0),
                             bytes_tensor({c.oc, c.ic / c.group, c.k, c.k}, c.wt, true),
                             f32(c.per_oc ? Shape{c.oc} : Shape{}, ws),
                             bytes_tensor(c.per_oc ? Shape{c.oc} : Shape{}, c.wt, c.zps),
                             f32({}, {c.y_scale}),
                             bytes_tensor({}, c.yt, false, c.zps ? 0x85 : 0)};
  if (c.bias) {
    Tensor b(Layout({c.oc}, DType::Int32));
    for (int64_t i = 0; i < c.oc; ++i) b.ptr<int32_t>()[i] = int32_t(rnd() % 20001) - 10000;
    params.push_back(b);
  }
  NetworkOptions naive_opt;
  naive_opt.chooser.prefer_algo = "NAIVE";
  Tensor ref = Network(op_graph(c, false, x.shape(), params), naive_opt).run({x}).at(0);
  auto gb = op_graph(c, true, xb.shape(), params);
  Tensor naive = Network(gb, naive_opt).run({xb}).at(0);
  const int64_t oh = ref.shape()[2], ow = ref.shape()[3];
  const uint8_t yzp = static_cast<const uint8_t*>(params[6].raw())[0];
  char what[200];
  std::snprintf(what, sizeof what,
                "n %lld ic %lld oc %lld group %lld %lldx%lld k %lld s %lld d %lld pad %lld "
                "%s x %s -> %s%s%s%s",
                (long long)c.n, (long long)c.ic, (long long)c.oc, (long long)c.group,
                (long long)c.h, (long long)c.w, (long long)c.k, (long long)c.s, (long long)c.d,
                (long long)c.pad,
                dtype_name(c.xt), dtype_name(c.wt), dtype_name(c.yt), c.zps ? " zp" : "",
                c.per_oc ? " per-oc" : "", c.bias ? " B" : "");
  // NAIVE of the blocked op = QLinearConv's NAIVE, padded lanes y_zero_point.
  auto check = [&](const Tensor& got, const std::string& who) {
    EXPECT(got.shape() == (Shape{c.n, ocb, oh, ow, 4}));
    const uint8_t* gp = static_cast<const uint8_t*>(got.raw());
    const uint8_t* rp = static_cast<const uint8_t*>(ref.raw());
    for (int64_t n = 0; n < c.n; ++n)
      for (int64_t o = 0; o < ocb * 4; ++o)
        for (int64_t p = 0; p < oh * ow; ++p) {
          uint8_t want = o < c.oc ? rp[(n * c.oc + o) * oh * ow + p] : yzp;
          if (gp[((n * ocb + o / 4) * oh * ow + p) * 4 + o % 4] != want) {
            fail(isa_level_name(), who + ": " + what);
            return;
          }
        }
  };
  check(naive, "NAIVE");
  for (bool pre : {false, true})
    for (int threads : {1, 3}) {
      NetworkOptions opt;
      opt.chooser.prefer_algo = "NCHW44_DOT";
      opt.weight_preprocess = pre;
      if (threads > 1) opt.comp_node = std::make_shared<SerialSplitCompNode>(threads);
      Network net(gb, opt);
      Tensor got = net.run({xb}).at(0);
      bool ran = false;
      for (const StepInfo& s : net.steps()) ran = ran || s.algo == "NCHW44_DOT";
      EXPECT(ran);
      check(got, std::string("NCHW44_DOT") + (pre ? " prepared" : "") +
                     (threads > 1 ? " 3 threads" : ""));
    }
}

void ops_all() {
  const DType u8 = DType::Uint8, s8 = DType::Int8;
  const std::pair<DType, DType> pairs[] = {{u8, s8}, {s8, s8}, {u8, u8}, {s8, u8}};
  int i = 0;
  for (auto [xt, wt] : pairs)
    for (bool zps : {false, true}) {
      const DType yt = (i++ % 2) ? s8 : u8;
      op_case({1, 5, 6, 7, 9, 3, 1, 1, 1, xt, wt, yt, zps, zps, true, 0.5f});
      op_case({2, 3, 9, 8, 11, 3, 2, 1, 1, xt, wt, yt, zps, !zps, !zps, 0.3f});
      op_case({1, 8, 4, 6, 6, 1, 1, 1, 0, xt, wt, yt, zps, true, false, 0.7f});
      op_case({1, 13, 5, 9, 10, 3, 1, 2, 2, xt, wt, yt, zps, false, true, 0.6f});
      op_case({1, 4, 7, 5, 17, 5, 1, 1, 2, xt, wt, yt, zps, true, true, 0.02f});  // saturates
      // depthwise
      op_case({2, 6, 6, 9, 10, 3, 1, 1, 1, xt, wt, yt, zps, zps, true, 0.05f, 6});
      op_case({1, 11, 11, 8, 7, 3, 2, 1, 1, xt, wt, yt, zps, !zps, !zps, 0.08f, 11});
      op_case({1, 8, 8, 6, 9, 5, 1, 2, 3, xt, wt, yt, zps, true, false, 0.1f, 8});
    }
  std::printf("op at %s checked\n", isa_level_name());
}

}  // namespace

int main() {
  try {
    std::printf("isa level %s\n", isa_level_name());
    kernels_all();
    ops_all();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "exception: %s\n", e.what());
    return 1;
  }
  std::printf("%d cases\n", g_cases);
  return expect_exit("test_kernels_conv_int8_nchw44 OK");
}
