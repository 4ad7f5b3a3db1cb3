"""Rewrite older-opset nodes into the newest form of their op.

The C++ ops implement only the newest opset's signature (for instance axes
as an input, not an attribute). A rewriter takes the NodeSpec and the import
context (ctx.opset, ctx.add_const) and mutates the spec in place. Register
one with @rewriter("OpType").
"""
import numpy as np

REWRITERS = {}


def rewriter(op_type):
    def wrap(fn):
        REWRITERS[op_type] = fn
        return fn

    return wrap


def attr_to_input(spec, ctx, attr, index, dtype=np.int64):
    """Move attribute `attr` into input slot `index` as a constant (if present)."""
    if attr not in spec.attrs:
        return
    value = np.asarray(spec.attrs.pop(attr), dtype=dtype)
    while len(spec.inputs) < index:
        spec.inputs.append("")
    name = ctx.add_const(value, f"{spec.op_type.lower()}_{attr}")
    if len(spec.inputs) == index:
        spec.inputs.append(name)
    else:
        spec.inputs[index] = name


# -- softmax.cpp: before opset 13 the input is coerced to 2-D at `axis`
# (default 1) and normalised over all the flattened trailing dims.
def _softmax_legacy(spec, ctx):
    if ctx.opset < 13:
        spec.attrs["_legacy_2d"] = 1


for _op in ("Softmax", "LogSoftmax", "Hardmax"):
    rewriter(_op)(_softmax_legacy)


# -- reduce.cpp: `axes` became an input in opset 13 (ReduceSum) and 18 (the
# rest of the family); before that it is an attribute.
_REDUCE_AXES_INPUT_SINCE = {
    "ReduceSum": 13,
    "ReduceMean": 18,
    "ReduceMax": 18,
    "ReduceMin": 18,
    "ReduceProd": 18,
    "ReduceL1": 18,
    "ReduceL2": 18,
    "ReduceLogSum": 18,
    "ReduceLogSumExp": 18,
    "ReduceSumSquare": 18,
}


def _reduce_axes(spec, ctx):
    if ctx.opset < _REDUCE_AXES_INPUT_SINCE[spec.op_type]:
        attr_to_input(spec, ctx, "axes", 1)


for _op in _REDUCE_AXES_INPUT_SINCE:
    rewriter(_op)(_reduce_axes)


# -- clip.cpp: opset 6-10 give min/max as attributes.
@rewriter("Clip")
def clip_attrs_to_inputs(spec, ctx):
    """Clip opset 6-10: min/max attributes (default -/+ FLT_MAX) -> inputs 1, 2.

    The input's dtype is not known here (it may be an op's output), so the
    bounds are float32 constants; the C++ Clip converts a float bound to the
    input's float dtype (opset < 11 Clip takes float types only).
    """
    if ctx.opset >= 11:
        return
    fmax = float(np.finfo(np.float32).max)
    lo = spec.attrs.pop("min", -fmax)
    hi = spec.attrs.pop("max", fmax)
    spec.inputs = spec.inputs[:1] + [
        ctx.add_const(np.array(lo, dtype=np.float32), "clip_min"),
        ctx.add_const(np.array(hi, dtype=np.float32), "clip_max"),
    ]
