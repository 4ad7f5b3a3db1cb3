// Layout conversion (--enable-nchw44: block 4, the ARM layout;
// --enable-nchw88: block 8, the AVX layout): the conv trunk of a model runs
// on channel-blocked tensors [N, ceil(C/b), H, W, b] (ops/conv_nchwc.h), so
// the conv kernels read b channels of one position as one vector and the
// trunk needs no transposes between its layers (what MegEngine's
// ConvertFormatPass and ONNX Runtime's NCHWc transformer do).
// One walk in topological order. A node is converted when:
//  - Conv (ai.onnx, as fused by fuse_conv.cpp): a constant float32 4-D
//    weight, group 1 or depthwise -> ConvNCHWc; its input (and fused
//    residual) are taken blocked, through a ToNCHWc if they are not yet;
//  - MaxPool / AveragePool (2-D, no Indices output), GlobalMaxPool,
//    GlobalAveragePool, on an input that is already blocked -> PoolNCHWc;
//  - an elementwise op (unary activations, Add/Sub/Mul/Div/Max/Min/Sum,
//    ElementwiseChain) whose tensor inputs are all blocked with the same
//    channel count, or scalar constants, or per-channel constants of shape
//    [C,1,1] / [1,C,1,1] (rewritten blocked): kept, on the blocked inputs;
//  - Concat on axis 1 of blocked inputs whose channel counts, all but the
//    last, are multiples of b: kept, on axis 1 of the blocked inputs.
// Any other reader of a blocked var gets it back through one FromNCHWc that
// produces the var's original name (made once, where first needed), and so
// does every graph output: names, inputs and outputs are unchanged.
// Blocked vars are named "<name>/nchwc<b>"; padded lanes are never read
// into a real channel (ops/conv_nchwc.h), so no op here needs them zero.
#include <map>
#include <set>

#include "core/errors.h"
#include "ops/conv.h"
#include "ops/conv_nchwc.h"
#include "passes/passes.h"

namespace loadrun {

namespace {

bool is_onnx(const OprNode& n, const char* type) {
  return n.def && n.def->domain.empty() && n.def->type == type;
}

const std::set<std::string>& unary_ops() {
  static const std::set<std::string> s{"Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid",
                                       "HardSwish", "Elu", "Selu", "Softplus", "Clip", "Abs",
                                       "Neg", "Gelu", "Mish", "Swish", "Identity", "PRelu"};
  return s;
}
const std::set<std::string>& binary_ops() {
  static const std::set<std::string> s{"Add", "Sub", "Mul", "Div", "Max", "Min", "Sum"};
  return s;
}

AttrValue int_attr(int64_t v) {
  AttrValue a;
  a.kind = AttrValue::kInt;
  a.i = v;
  return a;
}
AttrValue str_attr(const std::string& v) {
  AttrValue a;
  a.kind = AttrValue::kString;
  a.s = v;
  return a;
}

class Converter {
 public:
  Converter(const Graph& g, int64_t b) : g_(g), b_(b) {}

  std::shared_ptr<const Graph> run(std::shared_ptr<const Graph> orig) {
    const auto& vars = g_.vars();
    for (const Var& v : vars) taken_.insert(v.name);
    for (int vid : g_.inputs())
      ng_->add_input(vars[vid].name, vars[vid].dtype, vars[vid].shape, vars[vid].kind);
    for (const Var& v : vars)
      if (v.is_const) ng_->add_const(v.name, v.value);
    for (const auto& n : g_.oprs()) convert(*n);
    if (converted_ == 0) return orig;
    for (int vid : g_.outputs()) {
      nchw(vid);
      ng_->add_output(vars[vid].name);
    }
    return ng_;
  }

 private:
  struct Blocked {
    std::string name;
    int64_t channels;
  };

  std::string fresh(const std::string& base) {
    std::string n = base;
    while (taken_.count(n)) n += "_";
    taken_.insert(n);
    return n;
  }
  const Var& var(int vid) const { return g_.vars()[vid]; }
  const Var* const_var(int vid) const {
    return vid >= 0 && var(vid).is_const ? &var(vid) : nullptr;
  }

  // The blocked form of var vid (c channels), made by a ToNCHWc if needed;
  // "" when vid is blocked with another channel count.
  std::string blocked(int vid, int64_t c) {
    auto it = blocked_.find(vid);
    if (it != blocked_.end()) return it->second.channels == c ? it->second.name : "";
    std::string name = fresh(var(vid).name + "/nchwc" + std::to_string(b_));
    Attrs a;
    a.set(kBlockAttr, int_attr(b_));
    ng_->add_opr("ToNCHWc", "loadrun", name + "/relayout", a, {var(vid).name}, {name});
    blocked_[vid] = {name, c};
    return name;
  }
  // Makes var vid's original (NCHW) name exist.
  void nchw(int vid) {
    if (vid < 0 || !pending_.count(vid)) return;
    pending_.erase(vid);
    const Blocked& bl = blocked_.at(vid);
    Attrs a;
    a.set(kBlockAttr, int_attr(b_));
    a.set("channels", int_attr(bl.channels));
    ng_->add_opr("FromNCHWc", "loadrun", var(vid).name + "/from_nchwc", a, {bl.name},
                 {var(vid).name});
  }
  // Output vid of a converted node is blocked (c channels): its name.
  std::string blocked_output(int vid, int64_t c) {
    std::string name = fresh(var(vid).name + "/nchwc" + std::to_string(b_));
    blocked_[vid] = {name, c};
    pending_.insert(vid);
    return name;
  }
  void emit(const OprNode& n, const std::string& type, const std::string& domain,
            const Attrs& attrs, const std::vector<std::string>& ins,
            const std::vector<std::string>& outs) {
    ng_->add_opr(type, domain, n.name, attrs, ins, outs);
  }
  void keep(const OprNode& n) {
    std::vector<std::string> ins, outs;
    for (int vid : n.inputs) {
      nchw(vid);
      ins.push_back(vid < 0 ? "" : var(vid).name);
    }
    for (int vid : n.outputs) outs.push_back(var(vid).name);
    emit(n, n.def->type, n.def->domain, n.attrs, ins, outs);
  }

  void convert(const OprNode& n) {
    if (n.def && n.def->domain.empty() && n.def->type == "Conv" && try_conv(n)) return;
    if (n.def && n.def->domain.empty() && try_pool(n)) return;
    if (try_elementwise(n)) return;
    if (is_onnx(n, "Concat") && try_concat(n)) return;
    keep(n);
  }

  bool try_conv(const OprNode& n) {
    if (n.outputs.size() != 1 || n.inputs.size() < 2 || n.inputs[0] < 0) return false;
    const Var* w = const_var(n.inputs[1]);
    if (!w || w->dtype != DType::Float32 || w->value.shape().size() != 4) return false;
    const Shape& ws = w->value.shape();
    const int64_t group = n.attrs.get_int("group", 1), ic = ws[1] * group, oc = ws[0];
    if (!(group == 1 || (group == ic && oc == ic))) return false;
    const bool residual = n.attrs.get_int(kResidualAttr, 0) != 0;
    std::string x = blocked(n.inputs[0], ic);
    if (x.empty()) return false;
    std::string r;
    if (residual) {
      if (n.inputs.size() < 4 || n.inputs[3] < 0) return false;
      r = blocked(n.inputs[3], oc);
      if (r.empty()) return false;
    }
    std::vector<std::string> ins{x, w->name};
    ins.push_back(n.inputs.size() > 2 && n.inputs[2] >= 0 ? var(n.inputs[2]).name : "");
    if (n.inputs.size() > 2 && n.inputs[2] >= 0) nchw(n.inputs[2]);
    if (residual) ins.push_back(r);
    while (!ins.empty() && ins.back().empty()) ins.pop_back();
    Attrs a = n.attrs;
    a.set(kBlockAttr, int_attr(b_));
    emit(n, "ConvNCHWc", "loadrun", a, ins, {blocked_output(n.outputs[0], oc)});
    ++converted_;
    return true;
  }

  bool try_pool(const OprNode& n) {
    const std::string& t = n.def->type;
    const bool global = t == "GlobalMaxPool" || t == "GlobalAveragePool";
    if (!global && t != "MaxPool" && t != "AveragePool") return false;
    if (n.outputs.size() != 1 || n.inputs.empty() || n.inputs[0] < 0) return false;
    auto it = blocked_.find(n.inputs[0]);
    if (it == blocked_.end()) return false;
    if (!global && n.attrs.get_ints("kernel_shape").size() != 2) return false;
    Attrs a = n.attrs;
    a.set(kBlockAttr, int_attr(b_));
    a.set("pool", str_attr(t));
    const Blocked in = it->second;
    emit(n, "PoolNCHWc", "loadrun", a, {in.name}, {blocked_output(n.outputs[0], in.channels)});
    ++converted_;
    return true;
  }

  // A constant operand an elementwise op may keep beside blocked inputs of c
  // channels: a scalar (its own name) or a per-channel [C,1,1] / [1,C,1,1]
  // float32 one (a blocked copy). "" when neither.
  std::string elementwise_const(const Var& v, int64_t c) {
    const Tensor& t = v.value;
    if (t.numel() == 1) return v.name;
    const Shape& s = t.shape();
    const bool per_channel = t.dtype() == DType::Float32 &&
                             ((s.size() == 3 && s[0] == c && s[1] == 1 && s[2] == 1) ||
                              (s.size() == 4 && s[0] == 1 && s[1] == c && s[2] == 1 && s[3] == 1));
    if (!per_channel) return "";
    auto key = std::make_pair(v.id, c);
    auto it = const_blocked_.find(key);
    if (it != const_blocked_.end()) return it->second;
    const int64_t cb = nchwc_blocks(c, b_);
    Tensor bt(Layout(Shape{1, cb, 1, 1, b_}, DType::Float32));
    float* d = bt.ptr<float>();
    for (int64_t i = 0; i < cb * b_; ++i) d[i] = i < c ? t.ptr<float>()[i] : 0.f;
    std::string name = fresh(v.name + "/nchwc" + std::to_string(b_));
    ng_->add_const(name, bt);
    return const_blocked_[key] = name;
  }

  bool try_elementwise(const OprNode& n) {
    if (!n.def || n.outputs.size() != 1) return false;
    const std::string& t = n.def->type;
    const bool chain = n.def->domain == "loadrun" && t == "ElementwiseChain";
    if (!chain && !(n.def->domain.empty() && (unary_ops().count(t) || binary_ops().count(t))))
      return false;
    // The channel count of the blocked inputs; all must agree.
    int64_t c = -1;
    for (int vid : n.inputs) {
      if (vid < 0 || const_var(vid)) continue;
      auto it = blocked_.find(vid);
      if (it == blocked_.end()) return false;
      if (c >= 0 && it->second.channels != c) return false;
      c = it->second.channels;
    }
    if (c < 0) return false;
    if (t == "PRelu") {  // its slope must be a scalar or per channel
      if (n.inputs.size() != 2 || !const_var(n.inputs[1])) return false;
    }
    std::vector<std::string> ins;
    for (int vid : n.inputs) {
      if (vid < 0) {
        ins.push_back("");
      } else if (const Var* cv = const_var(vid)) {
        // Clip's bounds are scalars; others: scalar or per-channel operands.
        std::string name = elementwise_const(*cv, c);
        if (name.empty()) return false;
        ins.push_back(name);
      } else {
        ins.push_back(blocked_.at(vid).name);
      }
    }
    emit(n, t, n.def->domain, n.attrs, ins, {blocked_output(n.outputs[0], c)});
    return true;
  }

  bool try_concat(const OprNode& n) {
    if (n.outputs.size() != 1 || n.inputs.empty()) return false;
    const int64_t axis = n.attrs.get_int("axis", 0);
    if (axis != 1 && axis != -3) return false;
    int64_t total = 0;
    std::vector<std::string> ins;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      auto it = n.inputs[i] < 0 ? blocked_.end() : blocked_.find(n.inputs[i]);
      if (it == blocked_.end()) return false;
      const int64_t c = it->second.channels;
      if (i + 1 < n.inputs.size() && c % b_ != 0) return false;
      total += c;
      ins.push_back(it->second.name);
    }
    Attrs a = n.attrs;
    a.set("axis", int_attr(1));
    emit(n, "Concat", "", a, ins, {blocked_output(n.outputs[0], total)});
    return true;
  }

  const Graph& g_;
  const int64_t b_;
  std::shared_ptr<Graph> ng_ = std::make_shared<Graph>();
  std::map<int, Blocked> blocked_;  // original var -> its blocked form
  std::set<int> pending_;           // blocked vars whose original name is not made yet
  std::map<std::pair<int, int64_t>, std::string> const_blocked_;
  std::set<std::string> taken_;
  int converted_ = 0;
};

}  // namespace

std::shared_ptr<const Graph> convert_layout_nchwc(std::shared_ptr<const Graph> g, int64_t block) {
  LR_CHECK(block == 4 || block == 8, UnsupportedError, "layout block must be 4 or 8, got ", block);
  return Converter(*g, block).run(g);
}

}  // namespace loadrun
