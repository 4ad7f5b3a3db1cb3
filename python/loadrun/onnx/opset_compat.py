"""Rewrite older-opset nodes into the newest form of their op.

The C++ ops implement only the newest opset's signature (for instance axes
as an input, not an attribute). A rewriter takes the NodeSpec and the import
context (ctx.opset, ctx.add_const) and mutates the spec in place. Register
one with @rewriter("OpType").
"""
import numpy as np

from loadrun.errors import ModelError

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
    raw = spec.attrs.pop(attr)
    try:
        value = np.asarray(raw, dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        raise ModelError(f"{spec.op_type} node '{spec.name}': attribute '{attr}' must be "
                         f"{np.dtype(dtype).name} values, got {raw!r:.80}") from None
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
# Old op types that a rewriter turns into another (supported) op type.
REPLACED_OPS = set()


def drop_unused_outputs(spec, ctx, keep, what):
    """Drop outputs after the first `keep` that nothing reads; UnsupportedError if one is read."""
    from loadrun.errors import UnsupportedError

    extra = spec.outputs[keep:]
    used = [o for o in extra if o and o in ctx.used]
    if used:
        raise UnsupportedError(f"{spec.op_type} node '{spec.name}': {what} ('{used[0]}') is not supported")
    del spec.outputs[keep:]


@rewriter("BatchNormalization")
def _batch_norm(spec, ctx):
    from loadrun.errors import UnsupportedError

    if ctx.opset < 9 and "spatial" in spec.attrs:
        if int(spec.attrs.pop("spatial")) == 0:
            raise UnsupportedError(f"BatchNormalization node '{spec.name}': spatial=0 (per-element statistics) is not supported")
    if ctx.opset < 14 or int(spec.attrs.get("training_mode", 0)) == 0:
        spec.attrs.pop("momentum", None)  # training only
    if ctx.opset < 14:
        # Before opset 14, naming any statistics output means training mode:
        # Y is then normalised with the batch's own mean and variance (ONNX
        # Runtime does so even when nothing reads those outputs), so only
        # omitted ("") outputs can be dropped without changing Y.
        named = [o for o in spec.outputs[1:] if o]
        if named:
            raise UnsupportedError(
                f"BatchNormalization node '{spec.name}': training mode (opset {ctx.opset} with the "
                f"statistics output '{named[0]}') is not supported; only inference with the single output Y is")
        del spec.outputs[1:]
    elif int(spec.attrs.get("training_mode", 0)) == 0:
        # training_mode=0 says inference outright: unread extra outputs can go.
        drop_unused_outputs(spec, ctx, 1, "the running mean/var outputs")


def _legacy_resize(spec, ctx, scales_name, nearest_mode):
    """X + scales of Resize-10 / Upsample into the opset-11+ Resize form."""
    mode = str(spec.attrs.pop("mode", "nearest"))
    spec.op_type = "Resize"
    spec.inputs = [spec.inputs[0], "", scales_name]
    spec.attrs = {
        "mode": "linear" if mode in ("linear", "bilinear", "trilinear") else mode,
        "coordinate_transformation_mode": "asymmetric",
        "nearest_mode": nearest_mode,
    }


@rewriter("Resize")
def _resize(spec, ctx):
    if ctx.opset >= 11:
        return
    # Opset 10: (X, scales), asymmetric coordinates. ONNX Runtime rounds the
    # nearest index down when upsampling and up when downsampling an axis:
    # the core's internal nearest_mode "simple".
    if len(spec.inputs) < 2 or not spec.inputs[1]:
        from loadrun.errors import ModelError

        raise ModelError(f"Resize node '{spec.name}' (opset {ctx.opset}) needs inputs X and scales")
    _legacy_resize(spec, ctx, spec.inputs[1], "simple")


REPLACED_OPS.add("Upsample")


@rewriter("Upsample")
def _upsample(spec, ctx):
    from loadrun.errors import ModelError

    if ctx.opset < 9:  # scales is an attribute
        if "scales" not in spec.attrs:
            raise ModelError(f"Upsample node '{spec.name}' has no scales attribute")
        scales = ctx.add_const(np.asarray(spec.attrs.pop("scales"), dtype=np.float32), "upsample_scales")
    else:
        if len(spec.inputs) < 2 or not spec.inputs[1]:
            raise ModelError(f"Upsample node '{spec.name}' needs inputs X and scales")
        scales = spec.inputs[1]
    _legacy_resize(spec, ctx, scales, "floor")
# -- data movement (csrc/ops: squeeze_unsqueeze, split, slice, pad, dropout) --


def _axes_attr_before_13(attr):
    def rewrite(spec, ctx):
        if ctx.opset < 13:
            attr_to_input(spec, ctx, attr, 1)

    return rewrite


# The `axes` / `split` attribute became input 1 in opset 13.
rewriter("Squeeze")(_axes_attr_before_13("axes"))
rewriter("Unsqueeze")(_axes_attr_before_13("axes"))
rewriter("Split")(_axes_attr_before_13("split"))


@rewriter("Slice")
def _slice(spec, ctx):
    if ctx.opset < 10:
        # starts and ends are required there; the core reads them as inputs 1 and 2.
        attr_to_input(spec, ctx, "starts", 1)
        attr_to_input(spec, ctx, "ends", 2)
        attr_to_input(spec, ctx, "axes", 3)


@rewriter("Pad")
def _pad(spec, ctx):
    if ctx.opset < 11:
        # The old value attribute is a float; the core converts constant_value
        # to the data's dtype (opset < 11 Pad takes float tensors only).
        attr_to_input(spec, ctx, "pads", 1)
        attr_to_input(spec, ctx, "value", 2, np.float32)


@rewriter("Dropout")
def _dropout(spec, ctx):
    if ctx.opset < 12:
        # ratio (and opset 7's is_test) change nothing at inference.
        spec.attrs.pop("ratio", None)
        spec.attrs.pop("is_test", None)
    if ctx.opset < 10:
        spec.attrs["mask_like_input"] = 1  # the mask had the data's dtype then


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


# -- signal.cpp: DFT's axis was an attribute (default 1) before opset 20.
@rewriter("DFT")
def _dft(spec, ctx):
    if ctx.opset < 20:
        spec.attrs.setdefault("axis", 1)
        attr_to_input(spec, ctx, "axis", 2)
# -- gather/scatter family (csrc/ops: scatter, topk) --
# Scatter (opset 9-10) is ScatterElements under its old name.
REPLACED_OPS.add("Scatter")


@rewriter("Scatter")
def _scatter(spec, ctx):
    spec.op_type = "ScatterElements"


@rewriter("TopK")
def _topk(spec, ctx):
    # Before opset 10, k is an attribute; the core reads it as input 1 (int64 [1]).
    if ctx.opset < 10:
        from loadrun.errors import ModelError

        if "k" not in spec.attrs:
            raise ModelError(f"TopK node '{spec.name}' (opset {ctx.opset}) has no k attribute")
        spec.attrs["k"] = [int(spec.attrs["k"])]
        attr_to_input(spec, ctx, "k", 1)


# -- scan.cpp: Scan-8 has a leading optional sequence_lens input, a batch axis
# on every state and scan input (the scan axis is 1) and `directions` for its
# scan inputs. The C++ op runs it per batch entry (`_batched`); sequence_lens
# (per-entry lengths) is not supported.
@rewriter("Scan")
def _scan8(spec, ctx):
    if ctx.opset >= 9:
        return
    from loadrun.errors import UnsupportedError

    if spec.inputs and spec.inputs[0]:
        raise UnsupportedError(f"Scan node '{spec.name}': opset-8 sequence_lens is not supported")
    spec.inputs = spec.inputs[1:]
    spec.attrs["_batched"] = 1
    if "directions" in spec.attrs:
        spec.attrs["scan_input_directions"] = spec.attrs.pop("directions")
# -- instance_norm.cpp: GroupNormalization-18 takes scale and bias per group
# (opset 21 made them per channel).
@rewriter("GroupNormalization")
def _group_norm(spec, ctx):
    if ctx.opset < 21:
        spec.attrs["_scale_per_group"] = 1


# -- roi_align.cpp: RoiAlign-10 has no coordinate_transformation_mode; it
# behaves as output_half_pixel (opset 16 added the attribute, default half_pixel).
@rewriter("RoiAlign")
def _roi_align(spec, ctx):
    if ctx.opset < 16:
        spec.attrs["coordinate_transformation_mode"] = "output_half_pixel"
