// Signal processing (ONNX opset 17/20): DFT, STFT, the Hann, Hamming and
// Blackman windows, and MelWeightMatrix.
// - DFT: along `axis` (an input since opset 20; -2 by default) of a signal
//   whose last dim is 1 (real) or 2 (complex as re, im). dft_length pads
//   with zeros or truncates; onesided keeps bins [0, n/2]; inverse scales by
//   1/n, and inverse + onesided is the real inverse (irfft: the spectrum is
//   taken as Hermitian, the imaginary parts of bin 0 and bin n/2 ignored),
//   whose output has a last dim of 1.
// - STFT: frames of frame_length every frame_step samples of a [batch, len,
//   1|2] signal, each times the window, then a DFT (onesided by default):
//   [batch, frames, bins, 2], frames = (len - frame_length) / frame_step + 1.
// - Windows: w[n] over N = size (periodic) or size - 1 (symmetric).
// - MelWeightMatrix: [dft_length/2 + 1, num_mel_bins] triangles peaking at 1
//   on the mel scale mel(f) = 2595 log10(1 + f/700), with the bin edges as
//   ONNX's reference computes them.
// NAIVE: DFTs are direct O(n^2) sums per transform, accumulated in double
// with twiddles from exact (k*j mod n) angles. No workspace.
#include <cmath>

#include "ops/common.h"

namespace loadrun {

namespace {

constexpr double kPi = 3.14159265358979323846;

DType float_dtype_of_onnx(int64_t code, const char* op) {
  switch (code) {
    case 1: return DType::Float32;
    case 10: return DType::Float16;
    case 11: return DType::Float64;
    default:
      LR_THROW(UnsupportedError, op, ": output_datatype ", code,
               " is not supported (float, float16 and double are)");
  }
}

void check_float(const Layout& l, const char* op, const char* what) {
  LR_CHECK(l.dtype == DType::Float32 || l.dtype == DType::Float64 || l.dtype == DType::Float16,
           UnsupportedError, op, " ", what, " of dtype ", dtype_name(l.dtype),
           ": only float16, float32 and float64 are supported");
}

int64_t scalar_value(const Tensor& t, const char* what) {
  LR_CHECK(t.numel() == 1, ModelError, what, " must hold one value, got shape ",
           shape_str(t.shape()));
  return t.get_i64(0);
}

// One transform of n_in complex samples x (stride xs, im null for real input)
// to n_out bins of a length-n DFT; sign -1 forward, +1 inverse.
void dft_1d(const double* re, const double* im, int64_t n_in, int64_t n, int64_t n_out, int sign,
            double scale, double* out_re, double* out_im) {
  int64_t m = std::min(n_in, n);
  for (int64_t k = 0; k < n_out; ++k) {
    double sr = 0, si = 0;
    for (int64_t j = 0; j < m; ++j) {
      double ang = sign * 2.0 * kPi * static_cast<double>((k * j) % n) / static_cast<double>(n);
      double c = std::cos(ang), s = std::sin(ang);
      double xr = re[j], xi = im ? im[j] : 0.0;
      sr += xr * c - xi * s;
      si += xr * s + xi * c;
    }
    out_re[k] = sr * scale;
    out_im[k] = si * scale;
  }
}

// Real inverse of a one-sided spectrum of n_in bins to n real samples.
void irfft_1d(const double* re, const double* im, int64_t n_in, int64_t n, double* out) {
  int64_t half = n / 2;
  for (int64_t t = 0; t < n; ++t) {
    double s = n_in > 0 ? re[0] : 0.0;
    for (int64_t k = 1; k <= half; ++k) {
      double xr = k < n_in ? re[k] : 0.0, xi = k < n_in ? im[k] : 0.0;
      double ang = 2.0 * kPi * static_cast<double>((k * t) % n) / static_cast<double>(n);
      if (n % 2 == 0 && k == half) {
        s += xr * std::cos(ang);  // the Nyquist bin counts once, real part only
      } else {
        s += 2.0 * (xr * std::cos(ang) - xi * std::sin(ang));
      }
    }
    out[t] = s / static_cast<double>(n);
  }
}

// ------------------------------------------------------------------- DFT
struct DftOp final : Op {
  bool inverse, onesided;
  explicit DftOp(const Attrs& a)
      : inverse(a.get_int("inverse", 0) != 0), onesided(a.get_int("onesided", 0) != 0) {}
  std::string param_key() const override { return str_cat(inverse, ";", onesided); }

  struct Dims { int64_t axis, n_in, n; };
  Dims dims(const Shape& x, const Tensor* len, const Tensor* axis_t) const {
    int64_t rank = static_cast<int64_t>(x.size());
    int64_t axis = axis_t ? scalar_value(*axis_t, "DFT axis") : -2;
    LR_CHECK(axis >= -rank && axis < rank - 1, ModelError, "DFT axis ", axis,
             " is out of range for rank ", rank, " (the last dim holds re/im)");
    if (axis < 0) axis += rank;
    int64_t n_in = x[axis];
    int64_t n = len ? scalar_value(*len, "DFT dft_length")
                    : (inverse && onesided ? 2 * (n_in - 1) : n_in);
    LR_CHECK(n >= 1, ModelError, "DFT length must be positive, got ", n);
    return {axis, n_in, n};
  }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    check_float(x, "DFT", "input");
    LR_CHECK(x.ndim() >= 2 && (x.shape.back() == 1 || x.shape.back() == 2), ModelError,
             "DFT input must end in a dim of 1 (real) or 2 (complex), got ", shape_str(x.shape));
    const Tensor* len = ctx.has(1) ? &ctx.value(1, "DFT dft_length") : nullptr;
    const Tensor* ax = ctx.has(2) ? &ctx.value(2, "DFT axis") : nullptr;
    Dims d = dims(x.shape, len, ax);
    Shape y = x.shape;
    if (inverse && onesided) {
      y[d.axis] = d.n;
      y.back() = 1;
    } else {
      y[d.axis] = onesided ? d.n / 2 + 1 : d.n;
      y.back() = 2;
    }
    ctx.set_output(0, y, x.dtype);
  }
};

void dft_naive(const DftOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const Shape& xs = xt.shape();
  auto d = op.dims(xs, ctx.has(1) ? &ctx.input(1) : nullptr, ctx.has(2) ? &ctx.input(2) : nullptr);
  Tensor& yt = ctx.output(0);
  const Shape& ys = yt.shape();
  const int64_t comp_in = xs.back(), comp_out = ys.back();
  const int64_t outer = dims_product(xs, 0, d.axis);
  const int64_t inner = dims_product(xs, d.axis + 1, xs.size() - 1);  // between axis and re/im
  const int64_t n_out = ys[d.axis];
  std::vector<double> re(d.n_in), im(d.n_in), ore(n_out), oim(n_out);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      for (int64_t j = 0; j < d.n_in; ++j) {
        int64_t base = ((o * d.n_in + j) * inner + i) * comp_in;
        re[j] = xt.get_f64(base);
        im[j] = comp_in == 2 ? xt.get_f64(base + 1) : 0.0;
      }
      if (op.inverse && op.onesided) {
        irfft_1d(re.data(), im.data(), d.n_in, d.n, ore.data());
        for (int64_t k = 0; k < n_out; ++k) yt.set_f64((o * n_out + k) * inner + i, ore[k]);
        continue;
      }
      dft_1d(re.data(), comp_in == 2 ? im.data() : nullptr, d.n_in, d.n, n_out,
             op.inverse ? 1 : -1, op.inverse ? 1.0 / static_cast<double>(d.n) : 1.0, ore.data(),
             oim.data());
      for (int64_t k = 0; k < n_out; ++k) {
        int64_t base = ((o * n_out + k) * inner + i) * comp_out;
        yt.set_f64(base, ore[k]);
        yt.set_f64(base + 1, oim[k]);
      }
    }
  }
}

// ------------------------------------------------------------------ STFT
struct StftOp final : Op {
  bool onesided;
  explicit StftOp(const Attrs& a) : onesided(a.get_int("onesided", 1) != 0) {}
  std::string param_key() const override { return str_cat(onesided); }

  struct Dims { int64_t step, frame_len, frames; };
  static Dims dims(const Shape& x, const Tensor& step_t, const Layout* window,
                   const Tensor* len_t) {
    int64_t step = scalar_value(step_t, "STFT frame_step");
    LR_CHECK(step >= 1, ModelError, "STFT frame_step must be positive, got ", step);
    int64_t frame_len = len_t ? scalar_value(*len_t, "STFT frame_length")
                              : window ? window->shape[0] : x[1];
    LR_CHECK(frame_len >= 1 && frame_len <= x[1], ModelError, "STFT frame_length ", frame_len,
             " must be in [1, signal length ", x[1], "]");
    LR_CHECK(!window || window->shape[0] == frame_len, ModelError, "STFT window has length ",
             window ? window->shape[0] : 0, " but frame_length is ", frame_len);
    return {step, frame_len, (x[1] - frame_len) / step + 1};
  }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    check_float(x, "STFT", "signal");
    LR_CHECK(x.ndim() == 3 && (x.shape[2] == 1 || x.shape[2] == 2), ModelError,
             "STFT signal must be [batch, length, 1 or 2], got ", shape_str(x.shape));
    const Layout* window = ctx.has(2) ? &ctx.input(2) : nullptr;
    LR_CHECK(!window || window->ndim() == 1, ModelError, "STFT window must be 1-D, got ",
             shape_str(window ? window->shape : Shape{}));
    Dims d = dims(x.shape, ctx.value(1, "STFT frame_step"), window,
                  ctx.has(3) ? &ctx.value(3, "STFT frame_length") : nullptr);
    LR_CHECK(!onesided || x.shape[2] == 1, ModelError, "STFT onesided needs a real signal");
    ctx.set_output(0, {x.shape[0], d.frames, onesided ? d.frame_len / 2 + 1 : d.frame_len, 2},
                   x.dtype);
  }
};

void stft_naive(const StftOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const Shape& xs = xt.shape();
  const Tensor* win = ctx.has(2) ? &ctx.input(2) : nullptr;
  auto d = StftOp::dims(xs, ctx.input(1), win ? &win->layout() : nullptr,
                        ctx.has(3) ? &ctx.input(3) : nullptr);
  Tensor& yt = ctx.output(0);
  const int64_t bins = yt.shape()[2], comp = xs[2];
  std::vector<double> re(d.frame_len), im(d.frame_len), ore(bins), oim(bins);
  for (int64_t b = 0; b < xs[0]; ++b) {
    for (int64_t f = 0; f < d.frames; ++f) {
      for (int64_t j = 0; j < d.frame_len; ++j) {
        int64_t base = (b * xs[1] + f * d.step + j) * comp;
        double w = win ? win->get_f64(j) : 1.0;
        re[j] = xt.get_f64(base) * w;
        im[j] = comp == 2 ? xt.get_f64(base + 1) * w : 0.0;
      }
      dft_1d(re.data(), comp == 2 ? im.data() : nullptr, d.frame_len, d.frame_len, bins, -1, 1.0,
             ore.data(), oim.data());
      for (int64_t k = 0; k < bins; ++k) {
        int64_t base = ((b * d.frames + f) * bins + k) * 2;
        yt.set_f64(base, ore[k]);
        yt.set_f64(base + 1, oim[k]);
      }
    }
  }
}

// --------------------------------------------------------------- windows
enum class Window { kHann, kHamming, kBlackman };

struct WindowOp final : Op {
  Window kind;
  bool periodic;
  DType out;
  WindowOp(const Attrs& a, Window k)
      : kind(k),
        periodic(a.get_int("periodic", 1) != 0),
        out(float_dtype_of_onnx(a.get_int("output_datatype", 1), "window")) {}
  std::string param_key() const override { return str_cat(periodic, ";", static_cast<int>(out)); }
  void infer(InferCtx& ctx) const override {
    int64_t n = scalar_value(ctx.value(0, "window size"), "window size");
    LR_CHECK(n >= 0, ModelError, "window size must not be negative, got ", n);
    ctx.set_output(0, {n}, out);
  }
};

void window_naive(const WindowOp& op, const KernCtx& ctx) {
  Tensor& y = ctx.output(0);
  const int64_t size = y.numel();
  const double n = static_cast<double>(op.periodic ? size : size - 1);
  for (int64_t i = 0; i < size; ++i) {
    double x = static_cast<double>(i), v;
    switch (op.kind) {
      case Window::kHann: {
        double s = std::sin(kPi * x / n);
        v = s * s;
        break;
      }
      case Window::kHamming: {
        const double alpha = 25.0 / 46.0;
        v = alpha - (1.0 - alpha) * std::cos(2.0 * kPi * x / n);
        break;
      }
      default:
        v = 0.42 - 0.5 * std::cos(2.0 * kPi * x / n) + 0.08 * std::cos(4.0 * kPi * x / n);
    }
    y.set_f64(i, v);
  }
}

// -------------------------------------------------------- MelWeightMatrix
struct MelOp final : Op {
  DType out;
  explicit MelOp(const Attrs& a)
      : out(float_dtype_of_onnx(a.get_int("output_datatype", 1), "MelWeightMatrix")) {}
  std::string param_key() const override { return str_cat(static_cast<int>(out)); }
  void infer(InferCtx& ctx) const override {
    int64_t mels = scalar_value(ctx.value(0, "MelWeightMatrix num_mel_bins"), "num_mel_bins");
    int64_t dft = scalar_value(ctx.value(1, "MelWeightMatrix dft_length"), "dft_length");
    LR_CHECK(mels >= 1 && dft >= 1, ModelError, "num_mel_bins (", mels, ") and dft_length (", dft,
             ") must be positive");
    ctx.set_output(0, {dft / 2 + 1, mels}, out);
  }
};

void mel_naive(const MelOp& op, const KernCtx& ctx) {
  const int64_t mels = ctx.input(0).get_i64(0), dft = ctx.input(1).get_i64(0);
  const int64_t rate = ctx.input(2).get_i64(0);
  const double lo = ctx.input(3).get_f64(0), hi = ctx.input(4).get_f64(0);
  LR_CHECK(rate > 0, InputError, "MelWeightMatrix sample_rate must be positive, got ", rate);
  Tensor& y = ctx.output(0);
  const int64_t bins = dft / 2 + 1;
  for (int64_t i = 0; i < y.numel(); ++i) y.set_f64(i, 0.0);
  auto mel = [](double f) { return 2595.0 * std::log1p(f / 700.0) / std::log(10.0); };
  const double lo_mel = mel(lo), step = (mel(hi) - lo_mel) / static_cast<double>(mels + 2);
  std::vector<int64_t> edge(static_cast<size_t>(mels + 2));
  for (int64_t i = 0; i < mels + 2; ++i) {
    double hz = 700.0 * std::expm1((static_cast<double>(i) * step + lo_mel) / 2595.0 * std::log(10.0));
    edge[i] = static_cast<int64_t>(std::floor(static_cast<double>(dft + 1) * hz / static_cast<double>(rate)));
  }
  auto put = [&](int64_t j, int64_t m, double v) {
    LR_CHECK(j >= 0 && j < bins, InputError, "MelWeightMatrix: a filter edge (bin ", j,
             ") falls outside the ", bins, " spectrogram bins");
    y.set_f64(j * mels + m, v);
  };
  for (int64_t m = 0; m < mels; ++m) {
    int64_t left = edge[m], center = edge[m + 1], right = edge[m + 2];
    if (center == left) {
      put(center, m, 1.0);
    } else {
      for (int64_t j = left; j <= center; ++j)
        put(j, m, static_cast<double>(j - left) / static_cast<double>(center - left));
    }
    for (int64_t j = center; j < right; ++j)
      put(j, m, static_cast<double>(right - j) / static_cast<double>(right - center));
  }
}

const auto kDftNaive = naive_algo<DftOp>(dft_naive);
const auto kStftNaive = naive_algo<StftOp>(stft_naive);
const auto kWindowNaive = naive_algo<WindowOp>(window_naive);
const auto kMelNaive = naive_algo<MelOp>(mel_naive);

template <Window W>
void register_window(OpRegistry& r, const char* type) {
  OpDef d;
  d.type = type;
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<WindowOp>(a, W); };
  d.algos = {&kWindowNaive};
  d.min_inputs = 1;
  d.max_inputs = 1;
  r.add(std::move(d));
}

}  // namespace

void register_op_DFT(OpRegistry& r) { register_simple<DftOp>(r, "DFT", {&kDftNaive}, 1, 3); }
void register_op_STFT(OpRegistry& r) { register_simple<StftOp>(r, "STFT", {&kStftNaive}, 2, 4); }
void register_op_HannWindow(OpRegistry& r) { register_window<Window::kHann>(r, "HannWindow"); }
void register_op_HammingWindow(OpRegistry& r) {
  register_window<Window::kHamming>(r, "HammingWindow");
}
void register_op_BlackmanWindow(OpRegistry& r) {
  register_window<Window::kBlackman>(r, "BlackmanWindow");
}
void register_op_MelWeightMatrix(OpRegistry& r) {
  register_simple<MelOp>(r, "MelWeightMatrix", {&kMelNaive}, 5, 5);
}

}  // namespace loadrun
