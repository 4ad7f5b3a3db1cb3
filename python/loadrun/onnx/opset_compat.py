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
