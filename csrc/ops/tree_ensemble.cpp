// ai.onnx.ml TreeEnsemble (version 5): a forest of binary decision trees,
// X (N, F) -> Y (N, n_targets). Interior nodes are the nodes_* tuples: node i
// compares feature nodes_featureids[i] of the row with nodes_splits[i] by
// nodes_modes[i] (0 <=, 1 <, 2 >=, 3 >, 4 ==, 5 !=, 6 member of a set) --
// true when the comparison holds, or when the feature is NaN and
// nodes_missing_value_tracks_true[i] is 1 -- and goes to nodes_truenodeids[i]
// (a leaf index if nodes_trueleafs[i], else a node index), likewise false.
// Each tree starts at tree_roots[t]; a one-leaf tree is a root whose true and
// false branches are the same leaf. The sets of the member nodes come from
// membership_values, one NaN-terminated run per member node in node order.
// Each tree's leaf adds leaf_weights[l] to target leaf_targetids[l], combined
// by aggregate_function (0 average over the trees, 1 sum, 2 min, 3 max; a
// target no leaf reached is 0), then post_transform per row (0 none, 1
// softmax, 2 logistic, 3 softmax that keeps zeros zero, 4 probit
// sqrt(2) * erfinv(2y - 1)). Types: float32, float64, float16 (comparisons
// are exact in double; sums in double, rounded once). nodes_hitrates is
// ignored.
// NAIVE: per row, walk every tree from its root to a leaf. O(N * trees *
// depth), no workspace.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/common.h"

namespace loadrun {

namespace {

enum Mode : uint8_t { LEQ = 0, LT, GTE, GT, EQ, NEQ, MEMBER };

std::vector<double> tensor_doubles(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[i] = t.get_f64(i);
  return v;
}

// erfinv: a closed-form start refined by Newton steps on erf (to ~1 ulp).
double erfinv(double y) {
  if (y <= -1) return y == -1 ? -std::numeric_limits<double>::infinity() : NAN;
  if (y >= 1) return y == 1 ? std::numeric_limits<double>::infinity() : NAN;
  // Start: Winitzki's closed-form approximation (a = 0.147), then Newton.
  const double w = -std::log((1.0 - y) * (1.0 + y));
  const double t = 2.0 / (M_PI * 0.147) - w / 2;
  double x = std::copysign(std::sqrt(std::sqrt(t * t + w / 0.147) - t), y);
  for (int it = 0; it < 4; ++it) {
    double err = std::erf(x) - y;
    x -= err / (2.0 / std::sqrt(M_PI) * std::exp(-x * x));
  }
  return x;
}

struct TreeEnsembleOp final : Op {
  std::vector<double> splits;
  std::vector<int64_t> feat, true_id, false_id;
  std::vector<uint8_t> modes, true_leaf, false_leaf, missing_true;
  std::vector<std::vector<double>> members;  // per node; sorted, MEMBER nodes only
  std::vector<double> leaf_w;
  std::vector<int64_t> leaf_t, roots;
  int64_t n_targets, aggregate, post;

  explicit TreeEnsembleOp(const Attrs& a) {
    const char* W = "TreeEnsemble: ";
    splits = tensor_doubles(a.require_tensor("nodes_splits"));
    feat = a.get_ints("nodes_featureids");
    std::vector<double> m = tensor_doubles(a.require_tensor("nodes_modes"));
    true_id = a.get_ints("nodes_truenodeids");
    false_id = a.get_ints("nodes_falsenodeids");
    std::vector<int64_t> tl = a.get_ints("nodes_trueleafs"), fl = a.get_ints("nodes_falseleafs");
    std::vector<int64_t> mt = a.get_ints("nodes_missing_value_tracks_true");
    leaf_w = tensor_doubles(a.require_tensor("leaf_weights"));
    leaf_t = a.get_ints("leaf_targetids");
    roots = a.get_ints("tree_roots");
    aggregate = a.get_int("aggregate_function", 1);
    post = a.get_int("post_transform", 0);
    const size_t n = feat.size();
    LR_CHECK(n > 0, ModelError, W, "nodes_featureids is missing or empty");
    LR_CHECK(splits.size() == n && m.size() == n && true_id.size() == n && false_id.size() == n &&
                 tl.size() == n && fl.size() == n && (mt.empty() || mt.size() == n),
             ModelError, W, "the nodes_* attributes must all have ", n, " entries");
    LR_CHECK(!leaf_w.empty() && leaf_w.size() == leaf_t.size(), ModelError, W,
             "leaf_weights and leaf_targetids must have the same, nonzero length, got ",
             leaf_w.size(), " and ", leaf_t.size());
    LR_CHECK(!roots.empty(), ModelError, W, "tree_roots is empty");
    LR_CHECK(aggregate >= 0 && aggregate <= 3, ModelError, W, "aggregate_function ", aggregate,
             " is not 0..3");
    LR_CHECK(post >= 0 && post <= 4, ModelError, W, "post_transform ", post, " is not 0..4");
    int64_t max_t = *std::max_element(leaf_t.begin(), leaf_t.end());
    n_targets = a.get_int("n_targets", max_t + 1);
    LR_CHECK(n_targets >= 1, ModelError, W, "n_targets must be >= 1, got ", n_targets);
    for (int64_t t : leaf_t)
      LR_CHECK(t >= 0 && t < n_targets, ModelError, W, "leaf target id ", t,
               " is out of range [0, ", n_targets, ")");
    for (int64_t r : roots)
      LR_CHECK(r >= 0 && r < static_cast<int64_t>(n), ModelError, W, "tree root ", r,
               " is out of range for ", n, " nodes");
    modes.resize(n), true_leaf.resize(n), false_leaf.resize(n), missing_true.assign(n, 0);
    members.resize(n);
    std::vector<double> mv;
    if (a.has("membership_values")) mv = tensor_doubles(a.require_tensor("membership_values"));
    size_t mpos = 0;
    for (size_t i = 0; i < n; ++i) {
      LR_CHECK(m[i] >= 0 && m[i] <= 6 && m[i] == std::floor(m[i]), ModelError, W, "node ", i,
               " mode ", m[i], " is not 0..6");
      modes[i] = static_cast<uint8_t>(m[i]);
      true_leaf[i] = tl[i] != 0, false_leaf[i] = fl[i] != 0;
      if (!mt.empty()) missing_true[i] = mt[i] != 0;
      LR_CHECK(feat[i] >= 0, ModelError, W, "node ", i, " feature id ", feat[i], " is negative");
      const int64_t nl = static_cast<int64_t>(leaf_w.size()), nn = static_cast<int64_t>(n);
      LR_CHECK(true_id[i] >= 0 && true_id[i] < (true_leaf[i] ? nl : nn), ModelError, W, "node ", i,
               " true branch ", true_id[i], " is out of range");
      LR_CHECK(false_id[i] >= 0 && false_id[i] < (false_leaf[i] ? nl : nn), ModelError, W, "node ",
               i, " false branch ", false_id[i], " is out of range");
      if (modes[i] == MEMBER) {
        bool ended = false;
        while (mpos < mv.size()) {
          double v = mv[mpos++];
          if (std::isnan(v)) {
            ended = true;
            break;
          }
          members[i].push_back(v);
        }
        LR_CHECK(ended, ModelError, W, "membership_values has no NaN-terminated set for node ", i);
        std::sort(members[i].begin(), members[i].end());
      }
    }
    LR_CHECK(mpos == mv.size(), ModelError, W, "membership_values has ", mv.size() - mpos,
             " values past the last member node's set");
  }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(x.dtype == DType::Float32 || x.dtype == DType::Float64 || x.dtype == DType::Float16,
             UnsupportedError, "TreeEnsemble on ", dtype_name(x.dtype),
             ": supported are float32, float64, float16");
    LR_CHECK(x.ndim() == 2, ModelError, "TreeEnsemble X must be 2-D (N, F), got ",
             shape_str(x.shape));
    int64_t max_f = *std::max_element(feat.begin(), feat.end());
    LR_CHECK(max_f < x.shape[1], ModelError, "TreeEnsemble: feature id ", max_f,
             " is out of range for ", x.shape[1], " features");
    ctx.set_output(0, {x.shape[0], n_targets}, x.dtype);
  }

  bool goes_true(size_t i, double v) const {
    if (std::isnan(v) && missing_true[i]) return true;
    const double s = splits[i];
    switch (modes[i]) {
      case LEQ: return v <= s;
      case LT: return v < s;
      case GTE: return v >= s;
      case GT: return v > s;
      case EQ: return v == s;
      case NEQ: return v != s;
      default:  // (NaN is no member; binary_search cannot tell)
        return !std::isnan(v) && std::binary_search(members[i].begin(), members[i].end(), v);
    }
  }

  // The leaf a row reaches from `root`.
  int64_t leaf_of(int64_t root, const double* row) const {
    size_t i = static_cast<size_t>(root);
    for (size_t steps = 0; steps <= feat.size(); ++steps) {
      bool t = goes_true(i, row[feat[i]]);
      int64_t next = t ? true_id[i] : false_id[i];
      if (t ? true_leaf[i] : false_leaf[i]) return next;
      i = static_cast<size_t>(next);
    }
    LR_THROW(ModelError, "TreeEnsemble: the tree at root ", root, " has a cycle");
  }
};

void tree_ensemble_naive(const TreeEnsembleOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  const int64_t n = x.shape()[0], f = x.shape()[1], nt = op.n_targets;
  std::vector<double> row(static_cast<size_t>(f)), acc(static_cast<size_t>(nt));
  std::vector<uint8_t> hit(static_cast<size_t>(nt));
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t j = 0; j < f; ++j) row[j] = x.get_f64(r * f + j);
    std::fill(acc.begin(), acc.end(), 0.0);
    std::fill(hit.begin(), hit.end(), 0);
    for (int64_t root : op.roots) {
      int64_t l = op.leaf_of(root, row.data());
      const size_t t = static_cast<size_t>(op.leaf_t[l]);
      const double w = op.leaf_w[l];
      if (op.aggregate <= 1) {
        acc[t] += w;
      } else if (!hit[t]) {
        acc[t] = w;
      } else {
        acc[t] = op.aggregate == 2 ? std::min(acc[t], w) : std::max(acc[t], w);
      }
      hit[t] = 1;
    }
    if (op.aggregate == 0)
      for (double& v : acc) v /= static_cast<double>(op.roots.size());
    if (op.post == 1 || op.post == 3) {  // softmax (3: zeros stay zero)
      double mx = -std::numeric_limits<double>::infinity(), sum = 0;
      for (double v : acc)
        if (op.post == 1 || v != 0) mx = std::max(mx, v);
      for (double& v : acc) {
        v = (op.post == 3 && v == 0) ? 0.0 : std::exp(v - mx);
        sum += v;
      }
      if (sum > 0)
        for (double& v : acc) v /= sum;
    } else if (op.post == 2) {
      for (double& v : acc) v = 1.0 / (1.0 + std::exp(-v));
    } else if (op.post == 4) {
      for (double& v : acc) v = std::sqrt(2.0) * erfinv(2.0 * v - 1.0);
    }
    for (int64_t t = 0; t < nt; ++t) store_f64(y, r * nt + t, acc[t]);
  }
}

const auto kNaive = naive_algo<TreeEnsembleOp>(tree_ensemble_naive);

}  // namespace

void register_op_TreeEnsemble(OpRegistry& r) {
  OpDef d;
  d.type = "TreeEnsemble";
  d.domain = "ai.onnx.ml";
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<TreeEnsembleOp>(a); };
  d.algos = {&kNaive};
  d.min_inputs = d.max_inputs = 1;
  r.add(std::move(d));
}

}  // namespace loadrun
