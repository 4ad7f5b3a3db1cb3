"""Read an ONNX model and build the core Graph from it.

Every node is checked against the core's OpDef registry first, and all the
unsupported ones are reported in one error. Older-opset nodes are rewritten
into the newest form of their op (see opset_compat) so that the C++ ops
implement one form only. Initializers and Constant nodes become constants.
"""
import os
from dataclasses import dataclass, field

import numpy as np
import onnx
import onnx.defs
from onnx import helper, numpy_helper

from loadrun import _core
from loadrun.errors import ModelError, UnsupportedError
from loadrun.onnx.dtypes import ONNX_TO_NAME, onnx_type_name
from loadrun.onnx.opset_compat import REPLACED_OPS, REWRITERS

MIN_OPSET = 7
# Ops the importer itself turns into constants.
PYTHON_OPS = {("", "Constant")}


def read_model(src):
    """A ModelProto from a path or a ModelProto; ModelError with one line otherwise."""
    if isinstance(src, onnx.ModelProto):
        return src
    path = os.fspath(src)
    if not os.path.exists(path):
        raise ModelError(f"model file not found: {path}")
    if os.path.isdir(path):
        raise ModelError(f"{path} is a directory, not a model file")
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        raise ModelError(f"{path}: the file is empty")
    try:
        model = onnx.load_model_from_string(data)
    except Exception as e:  # protobuf raises several types
        raise ModelError(f"{path}: not a valid ONNX model (cannot parse: {str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    if model.ir_version <= 0 or not model.HasField("graph") or not model.graph.output:
        raise ModelError(f"{path}: not an ONNX model (no ir_version or no graph outputs)")
    try:
        from onnx.external_data_helper import load_external_data_for_model, uses_external_data

        if any(uses_external_data(t) for t in model.graph.initializer):
            load_external_data_for_model(model, os.path.dirname(os.path.abspath(path)))
    except Exception as e:
        raise ModelError(f"{path}: cannot load external weights: {e}") from None
    return model


def norm_domain(domain):
    return "" if domain in ("", "ai.onnx") else domain


@dataclass
class InputSpec:
    name: str
    dtype: str
    shape: list  # ints; -1 for a symbolic or unknown dim
    dim_names: list  # the dim_param of symbolic dims, "" elsewhere
    rank_known: bool = True


@dataclass
class NodeSpec:
    """One node as the core will receive it (after opset rewriting)."""

    op_type: str
    domain: str
    name: str
    inputs: list
    outputs: list
    attrs: dict = field(default_factory=dict)


@dataclass
class ImportedModel:
    graph: object  # _core.Graph
    inputs: list  # [InputSpec]
    outputs: list  # [str]
    opset: int
    producer: str


class _Ctx:
    """What a rewriter may use: the opset, adding constants, and `used`: the
    names some node reads or the graph outputs (to drop unused optional outputs)."""

    def __init__(self, graph, opset, used=()):
        self.graph = graph
        self.opset = opset
        self.used = set(used)
        self._n = 0

    def add_const(self, array, hint="const"):
        self._n += 1
        name = f"__loadrun_{hint}_{self._n}"
        self.graph.add_const(name, np.asarray(array, order="C"))
        return name


def attr_value(a):
    v = helper.get_attribute_value(a)
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, onnx.TensorProto):
        return numpy_helper.to_array(v)
    if isinstance(v, list) and v and isinstance(v[0], bytes):
        return [x.decode("utf-8", "replace") for x in v]
    if isinstance(v, (onnx.GraphProto, onnx.SparseTensorProto)) or (
        isinstance(v, list) and v and not isinstance(v[0], (int, float, str))
    ):
        raise UnsupportedError(f"attribute '{a.name}' of type {onnx.AttributeProto.AttributeType.Name(a.type)} is not supported")
    return v


def constant_value(node):
    """The array a Constant node holds."""
    for a in node.attribute:
        if a.name == "value":
            return numpy_helper.to_array(a.t)
        if a.name == "value_float":
            return np.array(a.f, dtype=np.float32)
        if a.name == "value_floats":
            return np.array(list(a.floats), dtype=np.float32)
        if a.name == "value_int":
            return np.array(a.i, dtype=np.int64)
        if a.name == "value_ints":
            return np.array(list(a.ints), dtype=np.int64)
    raise UnsupportedError(f"Constant node '{node.name}': only value, value_float(s), value_int(s) are supported")


def check_supported(model):
    """Raise one UnsupportedError naming every unsupported op and its nodes."""
    known = {(d, t) for d, t, _ in _core.list_ops()} | PYTHON_OPS | {("", t) for t in REPLACED_OPS}
    missing = {}
    for i, node in enumerate(model.graph.node):
        key = (norm_domain(node.domain), node.op_type)
        if key not in known:
            missing.setdefault(key, []).append(node.name or f"#{i}")
    if missing:
        parts = []
        for (dom, op), names in sorted(missing.items()):
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            parts.append(f"{op} (domain {dom or 'ai.onnx'}) at {'node' if len(names) == 1 else 'nodes'} {shown}")
        raise UnsupportedError("unsupported operators: " + "; ".join(parts))


def model_opset(model):
    for imp in model.opset_import:
        if norm_domain(imp.domain) == "":
            return imp.version
    # No ai.onnx import (an ai.onnx.ml-only model, say): no ai.onnx op to date.
    return onnx.defs.onnx_opset_version()


def _same_since(op_type, opset):
    """Is op_type defined at `opset` exactly as at MIN_OPSET?"""
    try:
        old = onnx.defs.get_schema(op_type, opset, "")
        new = onnx.defs.get_schema(op_type, MIN_OPSET, "")
    except onnx.defs.SchemaError:
        return False
    return old.since_version == new.since_version


def effective_opset(model, opset):
    """Models older than MIN_OPSET import as MIN_OPSET when none of their ops
    changed definition in between (Not, Abs... at opset 1); else one error."""
    if opset >= MIN_OPSET:
        return opset
    changed = sorted({n.op_type for n in model.graph.node
                      if norm_domain(n.domain) == "" and not _same_since(n.op_type, opset)})
    if changed:
        raise UnsupportedError(f"model uses ai.onnx opset {opset}; the oldest supported is {MIN_OPSET} "
                               f"(older models import when their ops are unchanged since; "
                               f"{', '.join(changed)} changed)")
    return MIN_OPSET


def input_spec(vi):
    t = vi.type
    if not t.HasField("tensor_type"):
        raise UnsupportedError(f"input '{vi.name}': only tensor inputs are supported")
    et = t.tensor_type.elem_type
    if et not in ONNX_TO_NAME:
        raise UnsupportedError(f"input '{vi.name}': element type {onnx_type_name(et)} is not supported")
    shape, names, rank_known = [], [], t.tensor_type.HasField("shape")
    for d in t.tensor_type.shape.dim:
        if d.HasField("dim_value") and d.dim_value >= 0:
            shape.append(d.dim_value)
            names.append("")
        else:
            shape.append(-1)
            names.append(d.dim_param or "?")
    return InputSpec(vi.name, ONNX_TO_NAME[et], shape, names, rank_known)


def import_model(src):
    model = read_model(src)
    opset = effective_opset(model, model_opset(model))
    check_supported(model)
    g = _core.Graph()
    used = {n for node in model.graph.node for n in node.input} | {o.name for o in model.graph.output}
    ctx = _Ctx(g, opset, used)
    init_names = set()
    for t in model.graph.initializer:
        if t.data_type not in ONNX_TO_NAME:
            raise UnsupportedError(f"initializer '{t.name}': element type {onnx_type_name(t.data_type)} is not supported")
        try:
            arr = numpy_helper.to_array(t)
        except Exception as e:
            raise ModelError(f"initializer '{t.name}' is corrupt: {e}") from None
        g.add_const(t.name, np.asarray(arr, order="C"))
        init_names.add(t.name)
    inputs = []
    for vi in model.graph.input:
        if vi.name in init_names:
            continue
        spec = input_spec(vi)
        g.add_input(spec.name, spec.dtype, spec.shape if spec.rank_known else [])
        inputs.append(spec)
    for i, node in enumerate(model.graph.node):
        name = node.name or f"{node.op_type}_{i}"
        if node.op_type == "Constant" and norm_domain(node.domain) == "":
            g.add_const(node.output[0], np.asarray(constant_value(node), order="C"))
            continue
        spec = NodeSpec(node.op_type, norm_domain(node.domain), name, list(node.input), list(node.output),
                        {a.name: attr_value(a) for a in node.attribute})
        rewrite = REWRITERS.get(spec.op_type) if spec.domain == "" else None
        if rewrite:
            rewrite(spec, ctx)
        g.add_op(spec.op_type, spec.domain, spec.name, spec.attrs, spec.inputs, spec.outputs)
    outputs = []
    for vi in model.graph.output:
        g.add_output(vi.name)
        outputs.append(vi.name)
    return ImportedModel(g, inputs, outputs, opset, model.producer_name)
