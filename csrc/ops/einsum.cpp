// Einsum (ONNX, opsets 12 and 28): Einstein summation over any number of
// operands. The equation "term1,term2,...[->out]" names each operand's dims
// with letters (a-z, A-Z distinct); "..." stands for the same run of
// broadcast dims in every term that has it (right-aligned, size-1 dims
// broadcast). A letter repeated inside one term reads that operand's
// diagonal. Output dims: the explicit right-hand side, or in implicit form
// (no "->") the ellipsis dims followed by the letters that occur exactly once
// in the whole equation, sorted by ASCII code. Every letter not in the output
// is summed over. Spaces are ignored. Types: every numeric dtype (integers
// wrap on overflow; float16 and bfloat16 compute in float32 and round once).
// NAIVE: an explicit loop over the whole index space (every output and every
// summed label): each operand's element offset is the dot product of the
// index vector with that operand's per-label strides (repeated labels add
// their strides, broadcast dims have stride 0); the product of the operands
// is added into the output element (float accumulation in double). O(product
// of all label sizes * operands), no workspace.
#include <algorithm>
#include <array>

#include "ops/elementwise.h"

namespace loadrun {

namespace {

constexpr int kLetters = 52;  // a-z then A-Z; ellipsis dims get ids from 52 up

int letter_id(char c) { return c >= 'a' && c <= 'z' ? c - 'a' : c - 'A' + 26; }
char letter_char(int id) { return static_cast<char>(id < 26 ? 'a' + id : 'A' + id - 26); }

// One term of the equation: letter ids, with kEllipsis where "..." stands.
constexpr int kEllipsis = -1;
using Term = std::vector<int>;

Term parse_term(const std::string& eq, const std::string& t) {
  Term out;
  bool has_ellipsis = false;
  for (size_t i = 0; i < t.size();) {
    char c = t[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      out.push_back(letter_id(c));
      ++i;
    } else if (t.compare(i, 3, "...") == 0) {
      LR_CHECK(!has_ellipsis, ModelError, "Einsum equation '", eq, "': term '", t,
               "' has more than one ellipsis");
      has_ellipsis = true;
      out.push_back(kEllipsis);
      i += 3;
    } else {
      LR_THROW(ModelError, "Einsum equation '", eq, "': unexpected character '", c, "' in term '",
               t, "'");
    }
  }
  return out;
}

// The index space of one call: label sizes, each operand's strides per label,
// the output's labels.
struct EinsumGeo {
  std::vector<int64_t> size;                 // per label id (letters, then ellipsis dims)
  std::vector<std::vector<int64_t>> stride;  // [operand][label]
  std::vector<int> out_labels;               // output dims in order
  Shape out_shape;
  std::vector<int> loop_labels;              // every used label: output first, then summed
};

struct EinsumOp final : Op {
  std::string equation;
  std::vector<Term> inputs;
  bool explicit_out = false;
  Term output;

  explicit EinsumOp(const Attrs& a) {
    LR_CHECK(a.has("equation"), ModelError, "Einsum needs the equation attribute");
    equation = a.get_string("equation", "");
    std::string eq;
    for (char c : equation)
      if (c != ' ') eq += c;
    std::string lhs = eq;
    size_t arrow = eq.find("->");
    if (arrow != std::string::npos) {
      explicit_out = true;
      lhs = eq.substr(0, arrow);
      output = parse_term(equation, eq.substr(arrow + 2));
    }
    size_t start = 0;
    while (true) {
      size_t comma = lhs.find(',', start);
      inputs.push_back(parse_term(equation, lhs.substr(start, comma - start)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (explicit_out) {
      std::array<bool, kLetters> seen{};
      for (int l : output) {
        if (l == kEllipsis) continue;
        LR_CHECK(!seen[l], ModelError, "Einsum equation '", equation, "': output label '",
                 letter_char(l), "' appears twice");
        seen[l] = true;
        bool found = false;
        for (const Term& t : inputs) found = found || std::count(t.begin(), t.end(), l) > 0;
        LR_CHECK(found, ModelError, "Einsum equation '", equation, "': output label '",
                 letter_char(l), "' is not in any input term");
      }
    }
  }
  std::string param_key() const override { return equation; }

  EinsumGeo geometry(const std::vector<Shape>& shapes) const {
    LR_CHECK(shapes.size() == inputs.size(), ModelError, "Einsum equation '", equation, "' has ",
             inputs.size(), " input terms but the node has ", shapes.size(), " inputs");
    // Ellipsis rank: the widest run any operand gives it.
    size_t ell = 0;
    bool any_ell = false;
    std::vector<size_t> ell_k(shapes.size(), 0);
    for (size_t k = 0; k < shapes.size(); ++k) {
      const Term& t = inputs[k];
      size_t letters = static_cast<size_t>(std::count_if(t.begin(), t.end(), [](int l) {
        return l != kEllipsis;
      }));
      bool has = letters != t.size();
      LR_CHECK(has ? shapes[k].size() >= letters : shapes[k].size() == letters, ModelError,
               "Einsum equation '", equation, "': operand ", k, " has shape ",
               shape_str(shapes[k]), ", which does not fit its term of ", letters, " labels",
               has ? " and an ellipsis" : "");
      if (has) {
        any_ell = true;
        ell_k[k] = shapes[k].size() - letters;
        ell = std::max(ell, ell_k[k]);
      }
    }
    EinsumGeo g;
    const size_t nl = kLetters + ell;
    g.size.assign(nl, -1);
    g.stride.assign(shapes.size(), std::vector<int64_t>(nl, 0));
    std::vector<int> count(nl, 0);
    for (size_t k = 0; k < shapes.size(); ++k) {
      const Shape& s = shapes[k];
      Shape cs = contiguous_strides(s);
      size_t d = 0;
      auto bind = [&](int label, bool broadcast) {
        int64_t dim = s[d];
        int64_t& sz = g.size[label];
        if (broadcast) {
          LR_CHECK(sz == -1 || sz == 1 || dim == 1 || sz == dim, ModelError, "Einsum equation '",
                   equation, "': ellipsis dims of operand ", k, " (", shape_str(s),
                   ") do not broadcast with the other operands");
          if (sz == -1 || sz == 1) sz = dim;
          if (dim != 1) g.stride[k][label] += cs[d];
        } else {
          LR_CHECK(sz == -1 || sz == dim, ModelError, "Einsum equation '", equation,
                   "': label '", letter_char(label), "' has size ", sz,
                   " elsewhere but size ", dim, " in operand ", k, " (", shape_str(s), ")");
          sz = dim;
          g.stride[k][label] += cs[d];
        }
        ++d;
      };
      for (int l : inputs[k]) {
        if (l == kEllipsis) {
          for (size_t e = 0; e < ell_k[k]; ++e) bind(static_cast<int>(kLetters + ell - ell_k[k] + e), true);
        } else {
          bind(l, false);
          ++count[l];
        }
      }
    }
    // Output labels.
    auto push_ellipsis = [&] {
      for (size_t e = 0; e < ell; ++e) g.out_labels.push_back(static_cast<int>(kLetters + e));
    };
    if (explicit_out) {
      bool out_ell = false;
      for (int l : output) {
        if (l == kEllipsis) {
          out_ell = true;
          push_ellipsis();
        } else {
          g.out_labels.push_back(l);
        }
      }
      (void)out_ell;  // ellipsis dims missing from the output are summed
    } else {
      if (any_ell) push_ellipsis();
      std::vector<char> once;
      for (int l = 0; l < kLetters; ++l)
        if (count[l] == 1) once.push_back(letter_char(l));
      std::sort(once.begin(), once.end());
      for (char c : once) g.out_labels.push_back(letter_id(c));
    }
    std::vector<bool> in_out(nl, false);
    for (int l : g.out_labels) {
      in_out[l] = true;
      g.out_shape.push_back(g.size[l]);
      g.loop_labels.push_back(l);
    }
    for (size_t l = 0; l < nl; ++l)
      if (!in_out[l] && g.size[l] != -1) g.loop_labels.push_back(static_cast<int>(l));
    return g;
  }

  void infer(InferCtx& ctx) const override {
    LR_CHECK(ctx.num_inputs() >= 1, ModelError, "Einsum needs at least one input");
    std::vector<Shape> shapes;
    DType dt = ctx.input(0).dtype;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      const Layout& l = ctx.input(i);
      LR_CHECK(l.dtype == dt, ModelError, "Einsum: input ", i, " is ", dtype_name(l.dtype),
               " but input 0 is ", dtype_name(dt));
      shapes.push_back(l.shape);
    }
    LR_CHECK(dt != DType::Bool, UnsupportedError, "Einsum: dtype bool is not supported");
    ctx.set_output(0, geometry(shapes).out_shape, dt);
  }
};

// Accumulator: double for floats, the wrapping unsigned type for integers.
template <typename C, bool = std::is_floating_point_v<C>>
struct AccOf { using type = double; };
template <typename C>
struct AccOf<C, false> { using type = WrapU<C>; };

template <typename T>
void einsum_naive_t(const EinsumOp& op, const KernCtx& ctx) {
  using C = typename Num<T>::C;
  using Acc = typename AccOf<C>::type;
  std::vector<Shape> shapes;
  std::vector<const T*> ptrs;
  for (size_t i = 0; i < ctx.in.size(); ++i) {
    shapes.push_back(ctx.input(i).shape());
    ptrs.push_back(ctx.input(i).ptr<T>());
  }
  EinsumGeo g = op.geometry(shapes);
  Tensor& yt = ctx.output(0);
  T* y = yt.ptr<T>();
  const int64_t out_n = yt.numel();
  std::vector<Acc> acc(static_cast<size_t>(out_n), Acc(0));
  const size_t nloop = g.loop_labels.size();
  int64_t total = 1;
  for (int l : g.loop_labels) total *= g.size[l];
  Shape out_strides = contiguous_strides(g.out_shape);
  std::vector<int64_t> idx(nloop, 0);
  for (int64_t it = 0; it < total; ++it) {
    int64_t out_off = 0;
    for (size_t d = 0; d < g.out_labels.size(); ++d) out_off += idx[d] * out_strides[d];
    Acc prod = Acc(1);
    for (size_t k = 0; k < ptrs.size(); ++k) {
      int64_t off = 0;
      for (size_t d = 0; d < nloop; ++d) off += idx[d] * g.stride[k][g.loop_labels[d]];
      Acc v = static_cast<Acc>(Num<T>::ld(ptrs[k][off]));
      prod = static_cast<Acc>(prod * v);
    }
    acc[out_off] = static_cast<Acc>(acc[out_off] + prod);
    // Odometer over the loop labels, last one fastest.
    for (size_t d = nloop; d-- > 0;) {
      if (++idx[d] < g.size[g.loop_labels[d]]) break;
      idx[d] = 0;
    }
  }
  for (int64_t i = 0; i < out_n; ++i) y[i] = Num<T>::st(static_cast<C>(acc[i]));
}

void einsum_naive(const EinsumOp& op, const KernCtx& ctx) {
  LR_EW_DISPATCH_NUMERIC(ctx.input(0).dtype(), "Einsum", einsum_naive_t<T>(op, ctx));
}

const auto kNaive = naive_algo<EinsumOp>(einsum_naive);

}  // namespace

void register_op_Einsum(OpRegistry& r) { register_simple<EinsumOp>(r, "Einsum", {&kNaive}, 1); }

}  // namespace loadrun
