// RNN, GRU and LSTM (ONNX, opset 14/22): recurrent layers over a sequence,
// forward, reverse or both directions, with per-batch sequence lengths.
// Gate order in W/R/B is ONNX's: GRU z,r,h; LSTM i,o,f,c (peepholes P are
// i,o,f). Per step t and direction, with f/g/h the configured activations:
//   RNN : H = f(x W^T + H R^T + Wb + Rb)
//   GRU : z = f(..z), r = f(..r), h~ = g(x Wh^T + (r*H) Rh^T + Rbh + Wbh)
//         (linear_before_reset: g(x Wh^T + r*(H Rh^T + Rbh) + Wbh)),
//         H = (1-z)*h~ + z*H
//   LSTM: i = f(..+Pi*C), f = f(..+Pf*C) (or 1-i with input_forget),
//         c~ = g(..), C = f*C + i*c~, o = f(..+Po*C), H = o*h(C)
// `clip` bounds every gate pre-activation to [-clip, clip]. Steps at or past
// a batch entry's sequence length leave its Y at 0 and its state unchanged.
// layout 1 puts batch first in X, Y, the initial and the final states.
// NAIVE: per step, per batch entry, each gate row is a dot product over the
// input and over the hidden state, accumulated in double:
// O(S * D * B * G*H * (I + H)), no workspace.
#include <algorithm>
#include <cmath>
#include <cctype>

#include "ops/common.h"

namespace loadrun {

namespace {

enum class Cell { kRnn, kGru, kLstm };

struct ActFn {
  enum Kind { kRelu, kTanh, kSigmoid, kAffine, kLeakyRelu, kThresholdedRelu, kScaledTanh,
              kHardSigmoid, kElu, kSoftsign, kSoftplus } kind;
  double alpha = 0, beta = 0;
  double operator()(double x) const {
    switch (kind) {
      case kRelu: return x > 0 ? x : 0;
      case kTanh: return std::tanh(x);
      case kSigmoid: return 1.0 / (1.0 + std::exp(-x));
      case kAffine: return alpha * x + beta;
      case kLeakyRelu: return x >= 0 ? x : alpha * x;
      case kThresholdedRelu: return x > alpha ? x : 0;
      case kScaledTanh: return alpha * std::tanh(beta * x);
      case kHardSigmoid: return std::max(0.0, std::min(1.0, alpha * x + beta));
      case kElu: return x >= 0 ? x : alpha * (std::exp(x) - 1.0);
      case kSoftsign: return x / (1.0 + std::fabs(x));
      case kSoftplus: return std::log1p(std::exp(x));
    }
    return x;
  }
};

// Parses `activations` with `activation_alpha` / `activation_beta`: each
// function that takes an alpha (beta) consumes the next list entry, or gets
// its ONNX default when the list is exhausted.
std::vector<ActFn> parse_acts(const std::vector<std::string>& names,
                              const std::vector<double>& alphas,
                              const std::vector<double>& betas) {
  struct Spec { const char* name; ActFn::Kind kind; int n_alpha, n_beta; double a, b; };
  static const Spec specs[] = {
      {"relu", ActFn::kRelu, 0, 0, 0, 0},
      {"tanh", ActFn::kTanh, 0, 0, 0, 0},
      {"sigmoid", ActFn::kSigmoid, 0, 0, 0, 0},
      {"affine", ActFn::kAffine, 1, 1, 1.0, 0.0},
      {"leakyrelu", ActFn::kLeakyRelu, 1, 0, 0.01, 0},
      {"thresholdedrelu", ActFn::kThresholdedRelu, 1, 0, 1.0, 0},
      {"scaledtanh", ActFn::kScaledTanh, 1, 1, 1.0, 1.0},
      {"hardsigmoid", ActFn::kHardSigmoid, 1, 1, 0.2, 0.5},
      {"elu", ActFn::kElu, 1, 0, 1.0, 0},
      {"softsign", ActFn::kSoftsign, 0, 0, 0, 0},
      {"softplus", ActFn::kSoftplus, 0, 0, 0, 0},
  };
  std::vector<ActFn> r;
  size_t ai = 0, bi = 0;
  for (const std::string& n : names) {
    std::string low;
    for (char c : n) low += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const Spec* s = nullptr;
    for (const Spec& cand : specs)
      if (low == cand.name) s = &cand;
    LR_CHECK(s, ModelError, "unknown activation '", n, "'");
    ActFn f{s->kind, s->a, s->b};
    if (s->n_alpha && ai < alphas.size()) f.alpha = alphas[ai++];
    if (s->n_beta && bi < betas.size()) f.beta = betas[bi++];
    r.push_back(f);
  }
  return r;
}

struct RnnOp final : Op {
  Cell cell;
  int64_t hidden;  // 0: take it from W
  std::string direction;
  int64_t layout;
  double clip;  // 0: no clipping
  bool input_forget, linear_before_reset;
  std::vector<ActFn> acts;  // gate functions per direction, forward first

  RnnOp(const Attrs& a, Cell c)
      : cell(c),
        hidden(a.get_int("hidden_size", 0)),
        direction(a.get_string("direction", "forward")),
        layout(a.get_int("layout", 0)),
        clip(a.get_float("clip", 0.0)),
        input_forget(a.get_int("input_forget", 0) != 0),
        linear_before_reset(a.get_int("linear_before_reset", 0) != 0) {
    LR_CHECK(direction == "forward" || direction == "reverse" || direction == "bidirectional",
             ModelError, "direction must be forward, reverse or bidirectional, got '", direction,
             "'");
    LR_CHECK(layout == 0 || layout == 1, ModelError, "layout must be 0 or 1, got ", layout);
    LR_CHECK(clip >= 0, ModelError, "clip must be positive, got ", clip);
    std::vector<std::string> names = a.get_strings("activations");
    size_t per = funcs_per_direction();
    if (names.empty()) {
      static const char* defaults[] = {"Sigmoid", "Tanh", "Tanh"};
      for (size_t i = 0; i < per; ++i) names.push_back(cell == Cell::kRnn ? "Tanh" : defaults[i]);
    }
    LR_CHECK(names.size() == per || names.size() == per * num_dir(), ModelError,
             "activations has ", names.size(), " entries, expected ", per * num_dir());
    acts = parse_acts(names, a.get_floats("activation_alpha"), a.get_floats("activation_beta"));
    if (acts.size() == per && num_dir() == 2) acts.insert(acts.end(), acts.begin(), acts.end());
  }
  size_t funcs_per_direction() const {
    return cell == Cell::kRnn ? 1 : cell == Cell::kGru ? 2 : 3;
  }
  int64_t gates() const { return cell == Cell::kRnn ? 1 : cell == Cell::kGru ? 3 : 4; }
  int64_t num_dir() const { return direction == "bidirectional" ? 2 : 1; }
  const char* type() const {
    return cell == Cell::kRnn ? "RNN" : cell == Cell::kGru ? "GRU" : "LSTM";
  }
  std::string param_key() const override {
    std::string k = str_cat(hidden, ";", direction, ";", layout, ";", clip, ";", input_forget,
                            ";", linear_before_reset);
    for (const ActFn& f : acts) k += str_cat(";", static_cast<int>(f.kind), ",", f.alpha, ",", f.beta);
    return k;
  }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& w = ctx.input(1);
    const Layout& r = ctx.input(2);
    LR_CHECK(x.dtype == DType::Float32 || x.dtype == DType::Float64, UnsupportedError, type(),
             " on ", dtype_name(x.dtype), ": only float32 and float64 are supported");
    LR_CHECK(x.ndim() == 3 && w.ndim() == 3 && r.ndim() == 3, ModelError,
             "X, W and R must be 3-D, got ", shape_str(x.shape), ", ", shape_str(w.shape), ", ",
             shape_str(r.shape));
    int64_t d = num_dir(), g = gates();
    LR_CHECK(w.shape[1] % g == 0, ModelError, "W dim 1 (", w.shape[1], ") is not a multiple of ",
             g, " gates");
    int64_t h = hidden ? hidden : w.shape[1] / g;
    int64_t s = layout ? x.shape[1] : x.shape[0], b = layout ? x.shape[0] : x.shape[1];
    int64_t in = x.shape[2];
    auto expect = [&](size_t i, const Shape& want, const char* what) {
      if (!ctx.has(i)) return;
      const Layout& l = ctx.input(i);
      LR_CHECK(l.shape == want, ModelError, what, " has shape ", shape_str(l.shape), ", expected ",
               shape_str(want));
      LR_CHECK(i == 4 ? (l.dtype == DType::Int32 || l.dtype == DType::Int64) : l.dtype == x.dtype,
               ModelError, what, " has dtype ", dtype_name(l.dtype));
    };
    expect(1, {d, g * h, in}, "W");
    expect(2, {d, g * h, h}, "R");
    expect(3, {d, 2 * g * h}, "B");
    expect(4, {b}, "sequence_lens");
    Shape state = layout ? Shape{b, d, h} : Shape{d, b, h};
    expect(5, state, "initial_h");
    if (cell == Cell::kLstm) {
      expect(6, state, "initial_c");
      expect(7, {d, 3 * h}, "P");
    }
    Shape y = layout ? Shape{b, s, d, h} : Shape{s, d, b, h};
    if (ctx.out.size() > 0) ctx.set_output(0, y, x.dtype);
    for (size_t o = 1; o < ctx.out.size(); ++o) ctx.set_output(o, state, x.dtype);
  }
};

template <typename T>
void rnn_naive_t(const RnnOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const Shape& xs = xt.shape();
  const int64_t d_n = op.num_dir(), g_n = op.gates();
  const int64_t h_n = ctx.input(1).shape()[1] / g_n;
  const int64_t s_n = op.layout ? xs[1] : xs[0], b_n = op.layout ? xs[0] : xs[1];
  const int64_t i_n = xs[2];
  const T* x = xt.ptr<T>();
  const T* w = ctx.input(1).ptr<T>();
  const T* r = ctx.input(2).ptr<T>();
  const T* bias = ctx.has(3) ? ctx.input(3).ptr<T>() : nullptr;
  const T* h0 = ctx.has(5) ? ctx.input(5).ptr<T>() : nullptr;
  const bool lstm = op.cell == Cell::kLstm;
  const T* c0 = lstm && ctx.has(6) ? ctx.input(6).ptr<T>() : nullptr;
  const T* peep = lstm && ctx.has(7) ? ctx.input(7).ptr<T>() : nullptr;
  std::vector<int64_t> lens(static_cast<size_t>(b_n), s_n);
  if (ctx.has(4)) {
    const Tensor& lt = ctx.input(4);
    for (int64_t b = 0; b < b_n; ++b) {
      lens[b] = lt.dtype() == DType::Int32 ? lt.ptr<int32_t>()[b] : lt.ptr<int64_t>()[b];
      LR_CHECK(lens[b] >= 0 && lens[b] <= s_n, InputError, "sequence_lens[", b, "] = ", lens[b],
               " is outside [0, ", s_n, "]");
    }
  }
  T* y = ctx.out.size() > 0 ? ctx.output(0).ptr<T>() : nullptr;
  T* y_h = ctx.out.size() > 1 ? ctx.output(1).ptr<T>() : nullptr;
  T* y_c = ctx.out.size() > 2 ? ctx.output(2).ptr<T>() : nullptr;
  if (y) std::fill(y, y + ctx.output(0).numel(), T(0));

  // Offsets in [layout-dependent] state tensors and Y.
  auto state_at = [&](int64_t d, int64_t b) {
    return (op.layout ? (b * d_n + d) : (d * b_n + b)) * h_n;
  };
  auto x_at = [&](int64_t t, int64_t b) { return (op.layout ? b * s_n + t : t * b_n + b) * i_n; };
  auto y_at = [&](int64_t t, int64_t d, int64_t b) {
    return (op.layout ? ((b * s_n + t) * d_n + d) : ((t * d_n + d) * b_n + b)) * h_n;
  };
  auto clip = [&](double v) { return op.clip > 0 ? std::min(std::max(v, -op.clip), op.clip) : v; };

  std::vector<double> hs(static_cast<size_t>(h_n)), cs(static_cast<size_t>(h_n));
  std::vector<double> xw(static_cast<size_t>(g_n * h_n)), hr(static_cast<size_t>(g_n * h_n));
  std::vector<double> rh(static_cast<size_t>(h_n)), hnew(static_cast<size_t>(h_n));
  for (int64_t d = 0; d < d_n; ++d) {
    const bool reverse = op.direction == "reverse" || d == 1;
    const ActFn* f = &op.acts[static_cast<size_t>(d) * op.funcs_per_direction()];
    const T* wd = w + d * g_n * h_n * i_n;
    const T* rd = r + d * g_n * h_n * h_n;
    const T* wb = bias ? bias + d * 2 * g_n * h_n : nullptr;
    const T* rb = bias ? wb + g_n * h_n : nullptr;
    const T* pd = peep ? peep + d * 3 * h_n : nullptr;
    for (int64_t b = 0; b < b_n; ++b) {
      for (int64_t j = 0; j < h_n; ++j) {
        hs[j] = h0 ? static_cast<double>(h0[state_at(d, b) + j]) : 0.0;
        cs[j] = c0 ? static_cast<double>(c0[state_at(d, b) + j]) : 0.0;
      }
      for (int64_t step = 0; step < lens[b]; ++step) {
        const int64_t t = reverse ? lens[b] - 1 - step : step;
        const T* xr = x + x_at(t, b);
        for (int64_t row = 0; row < g_n * h_n; ++row) {
          double a = wb ? static_cast<double>(wb[row]) : 0.0;
          const T* wr = wd + row * i_n;
          for (int64_t k = 0; k < i_n; ++k) a += static_cast<double>(xr[k]) * wr[k];
          xw[row] = a;
          double c = rb ? static_cast<double>(rb[row]) : 0.0;
          const T* rr = rd + row * h_n;
          for (int64_t k = 0; k < h_n; ++k) c += hs[k] * rr[k];
          hr[row] = c;
        }
        if (op.cell == Cell::kRnn) {
          for (int64_t j = 0; j < h_n; ++j) hnew[j] = f[0](clip(xw[j] + hr[j]));
        } else if (op.cell == Cell::kGru) {
          // Gate rows: z [0, H), r [H, 2H), h [2H, 3H).
          for (int64_t j = 0; j < h_n; ++j) rh[j] = f[0](clip(xw[h_n + j] + hr[h_n + j]));
          for (int64_t j = 0; j < h_n; ++j) {
            double z = f[0](clip(xw[j] + hr[j]));
            double pre;
            if (op.linear_before_reset) {
              pre = xw[2 * h_n + j] + rh[j] * hr[2 * h_n + j];
            } else {
              // (r*H) Rh^T + Rbh: the recurrent product over the reset state.
              double c = rb ? static_cast<double>(rb[2 * h_n + j]) : 0.0;
              const T* rr = rd + (2 * h_n + j) * h_n;
              for (int64_t k = 0; k < h_n; ++k) c += rh[k] * hs[k] * rr[k];
              pre = xw[2 * h_n + j] + c;
            }
            double hc = f[1](clip(pre));
            hnew[j] = (1.0 - z) * hc + z * hs[j];
          }
        } else {
          // Gate rows: i [0, H), o [H, 2H), f [2H, 3H), c [3H, 4H).
          for (int64_t j = 0; j < h_n; ++j) {
            double pi = pd ? static_cast<double>(pd[j]) : 0.0;
            double po = pd ? static_cast<double>(pd[h_n + j]) : 0.0;
            double pf = pd ? static_cast<double>(pd[2 * h_n + j]) : 0.0;
            double ig = f[0](clip(xw[j] + hr[j] + pi * cs[j]));
            double fg = op.input_forget ? 1.0 - ig
                                        : f[0](clip(xw[2 * h_n + j] + hr[2 * h_n + j] + pf * cs[j]));
            double cc = f[1](clip(xw[3 * h_n + j] + hr[3 * h_n + j]));
            double c_new = fg * cs[j] + ig * cc;
            double og = f[0](clip(xw[h_n + j] + hr[h_n + j] + po * c_new));
            cs[j] = c_new;
            hnew[j] = og * f[2](c_new);
          }
        }
        hs.swap(hnew);
        if (y)
          for (int64_t j = 0; j < h_n; ++j) y[y_at(t, d, b) + j] = static_cast<T>(hs[j]);
      }
      for (int64_t j = 0; j < h_n; ++j) {
        if (y_h) y_h[state_at(d, b) + j] = static_cast<T>(hs[j]);
        if (y_c) y_c[state_at(d, b) + j] = static_cast<T>(cs[j]);
      }
    }
  }
}

void rnn_naive(const RnnOp& op, const KernCtx& ctx) {
  LR_DISPATCH_FLOAT(ctx.input(0).dtype(), op.type(), rnn_naive_t<T>(op, ctx));
}

const auto kNaive = naive_algo<RnnOp>(rnn_naive);

template <Cell C>
void register_cell(OpRegistry& r, const char* type, int max_inputs) {
  OpDef d;
  d.type = type;
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<RnnOp>(a, C); };
  d.algos = {&kNaive};
  d.min_inputs = 3;
  d.max_inputs = max_inputs;
  r.add(std::move(d));
}

}  // namespace

void register_op_RNN(OpRegistry& r) { register_cell<Cell::kRnn>(r, "RNN", 6); }
void register_op_GRU(OpRegistry& r) { register_cell<Cell::kGru>(r, "GRU", 6); }
void register_op_LSTM(OpRegistry& r) { register_cell<Cell::kLstm>(r, "LSTM", 8); }

}  // namespace loadrun
