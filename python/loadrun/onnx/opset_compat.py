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


# -- data movement (csrc/ops: squeeze_unsqueeze, split, slice, pad, dropout) --


@rewriter("Squeeze")
def _squeeze(spec, ctx):
    if ctx.opset < 13:
        attr_to_input(spec, ctx, "axes", 1)


@rewriter("Unsqueeze")
def _unsqueeze(spec, ctx):
    if ctx.opset < 13:
        attr_to_input(spec, ctx, "axes", 1)


@rewriter("Split")
def _split(spec, ctx):
    if ctx.opset < 13:
        attr_to_input(spec, ctx, "split", 1)


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
