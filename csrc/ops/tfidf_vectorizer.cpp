// TfIdfVectorizer (ONNX, opset 9): n-gram counts of integer token rows.
// The pool holds the n-grams, grouped by size (ngram_counts[i] is where the
// (i+1)-grams start); n-gram number k (in pool order) goes to output column
// ngram_indexes[k]. An n-gram of size n in [min_gram_length, max_gram_length]
// is counted at every start and every skip s in [0, max_skip_count] where
// the tokens at start, start+(s+1), ..., start+(n-1)(s+1) spell it; a 1-gram
// has no gaps, so it is counted once per occurrence. Then mode: TF (counts),
// IDF (weights[col], or 1, where the count is nonzero), TFIDF (count *
// weights[col], or count). X [C] -> Y [cols]; X [N, C] -> Y [N, cols], float.
// NAIVE: for each row, size, skip and start, look the n-gram up in an ordered
// map. O(N * C * grams * skips * n log pool). String pools are not supported.
#include <map>

#include "ops/common.h"

namespace loadrun {

namespace {

struct TfIdfOp final : Op {
  enum Mode { kTf, kIdf, kTfIdf } mode;
  int64_t min_n, max_n, max_skip, cols = 0;
  std::vector<double> weights;
  std::map<std::vector<int64_t>, int64_t> grams;  // n-gram -> output column

  explicit TfIdfOp(const Attrs& a)
      : min_n(a.require_int("min_gram_length")),
        max_n(a.require_int("max_gram_length")),
        max_skip(a.require_int("max_skip_count")),
        weights(a.get_floats("weights")) {
    std::string m = a.get_string("mode", "");
    LR_CHECK(m == "TF" || m == "IDF" || m == "TFIDF", ModelError,
             "mode must be TF, IDF or TFIDF, got '", m, "'");
    mode = m == "TF" ? kTf : m == "IDF" ? kIdf : kTfIdf;
    LR_CHECK(a.get_strings("pool_strings").empty(), UnsupportedError,
             "TfIdfVectorizer over strings (pool_strings) is not supported: string tensors are not");
    LR_CHECK(min_n >= 1 && max_n >= min_n && max_skip >= 0, ModelError,
             "need 1 <= min_gram_length <= max_gram_length and max_skip_count >= 0, got ", min_n,
             ", ", max_n, ", ", max_skip);
    std::vector<int64_t> pool = a.get_ints("pool_int64s");
    std::vector<int64_t> counts = a.get_ints("ngram_counts");
    std::vector<int64_t> indexes = a.get_ints("ngram_indexes");
    for (int64_t c : indexes) {
      LR_CHECK(c >= 0, ModelError, "ngram_indexes holds a negative column ", c);
      cols = std::max(cols, c + 1);
    }
    LR_CHECK(weights.empty() || static_cast<int64_t>(weights.size()) >= cols, ModelError,
             "weights has ", weights.size(), " entries for ", cols, " output columns");
    size_t k = 0;  // n-gram number in pool order
    for (size_t i = 0; i < counts.size(); ++i) {
      int64_t n = static_cast<int64_t>(i) + 1;
      int64_t begin = counts[i];
      int64_t end = i + 1 < counts.size() ? counts[i + 1] : static_cast<int64_t>(pool.size());
      LR_CHECK(begin >= 0 && begin <= end && end <= static_cast<int64_t>(pool.size()) &&
                   (end - begin) % n == 0,
               ModelError, "ngram_counts[", i, "] = ", begin, " does not split the pool of ",
               pool.size(), " into ", n, "-grams");
      for (int64_t p = begin; p < end; p += n, ++k) {
        LR_CHECK(k < indexes.size(), ModelError, "ngram_indexes has ", indexes.size(),
                 " entries but the pool holds more n-grams");
        if (n < min_n || n > max_n) continue;
        grams.emplace(std::vector<int64_t>(pool.begin() + p, pool.begin() + p + n), indexes[k]);
      }
    }
  }
  std::string param_key() const override {
    std::string key = str_cat(mode, ";", min_n, ";", max_n, ";", max_skip, ";", cols);
    for (const auto& g : grams) {
      key += ";";
      for (int64_t t : g.first) key += str_cat(t, ",");
      key += str_cat(":", g.second);
    }
    for (double w : weights) key += str_cat(";w", w);
    return key;
  }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(x.dtype == DType::Int32 || x.dtype == DType::Int64, UnsupportedError,
             "TfIdfVectorizer on ", dtype_name(x.dtype), ": int32 and int64 tokens are supported");
    LR_CHECK(x.ndim() == 1 || x.ndim() == 2, ModelError, "X must be 1-D or 2-D, got ",
             shape_str(x.shape));
    ctx.set_output(0, x.ndim() == 1 ? Shape{cols} : Shape{x.shape[0], cols}, DType::Float32);
  }
};

void tfidf_naive(const TfIdfOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const int64_t rows = xt.ndim() == 1 ? 1 : xt.shape()[0];
  const int64_t c = xt.shape().back();
  float* y = ctx.output(0).ptr<float>();
  std::vector<int64_t> counts(static_cast<size_t>(op.cols));
  std::vector<int64_t> key;
  for (int64_t r = 0; r < rows; ++r) {
    std::fill(counts.begin(), counts.end(), 0);
    for (int64_t n = op.min_n; n <= op.max_n; ++n) {
      int64_t skips = n == 1 ? 0 : op.max_skip;
      for (int64_t s = 0; s <= skips; ++s) {
        int64_t d = s + 1;
        for (int64_t start = 0; start + (n - 1) * d < c; ++start) {
          key.clear();
          for (int64_t j = 0; j < n; ++j) key.push_back(xt.get_i64(r * c + start + j * d));
          auto it = op.grams.find(key);
          if (it != op.grams.end()) ++counts[it->second];
        }
      }
    }
    for (int64_t col = 0; col < op.cols; ++col) {
      double w = op.weights.empty() ? 1.0 : op.weights[col];
      double v = op.mode == TfIdfOp::kTf    ? static_cast<double>(counts[col])
                 : op.mode == TfIdfOp::kIdf ? (counts[col] > 0 ? w : 0.0)
                                            : w * static_cast<double>(counts[col]);
      y[r * op.cols + col] = static_cast<float>(v);
    }
  }
}

const auto kNaive = naive_algo<TfIdfOp>(tfidf_naive);

}  // namespace

void register_op_TfIdfVectorizer(OpRegistry& r) {
  register_simple<TfIdfOp>(r, "TfIdfVectorizer", {&kNaive}, 1, 1);
}

}  // namespace loadrun
