"""Read an ONNX model and build the core Graph from it.

Every node is checked against the core's OpDef registry first, and all the
unsupported ones are reported in one error. Older-opset nodes are rewritten
into the newest form of their op (see opset_compat) so that the C++ ops
implement one form only. Initializers and Constant nodes become constants.

Subgraphs (GRAPH attributes: If's branches, Loop's and Scan's body) become
core Graphs of their own, passed to the op as attributes. A subgraph never
resolves a name in an enclosing graph: every name it (or a subgraph nested in
it, at any depth) reads from outside becomes
  - a constant of the subgraph, when the enclosing graph knows its value
    (an initializer or a Constant node, at any level up), or else
  - a capture: an extra input of the node that owns the subgraph, appended
    after its ONNX inputs, and an input of each of its subgraphs, after their
    formal inputs, in the same order. The attribute `_loadrun_captures` tells
    the op how many inputs are captures.
Subgraph inputs are declared loosely (the op gives them the dtype and rank of
what it feeds, Graph::retype_input): ONNX lets subgraphs leave them untyped.
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


def subgraphs(node):
    """[(attribute name, GraphProto)] of a node's GRAPH attributes."""
    return [(a.name, a.g) for a in node.attribute if a.type == onnx.AttributeProto.GRAPH]


def all_nodes(graph):
    """(index in its graph, node) for every node of `graph` and of its subgraphs, at any depth."""
    for i, node in enumerate(graph.node):
        yield i, node
        for _, sub in subgraphs(node):
            yield from all_nodes(sub)


def free_names(graph):
    """Names `graph` (or a subgraph of it, at any depth) reads but does not define, in order of first use."""
    defined = {vi.name for vi in graph.input} | {t.name for t in graph.initializer}
    free = []

    def use(n):
        if n and n not in defined and n not in free:
            free.append(n)

    for node in graph.node:
        for n in node.input:
            use(n)
        for _, sub in subgraphs(node):
            for n in free_names(sub):
                use(n)
        defined.update(node.output)
    for vi in graph.output:
        use(vi.name)
    return free


def check_supported(model):
    """Raise one UnsupportedError naming every unsupported op and its nodes."""
    known = {(d, t) for d, t, _ in _core.list_ops()} | PYTHON_OPS | {("", t) for t in REPLACED_OPS}
    missing = {}
    for i, node in all_nodes(model.graph):
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


CAPTURES_ATTR = "_loadrun_captures"


class _GraphImporter:
    """Adds one ONNX graph's initializers and nodes to a core Graph.

    consts: {name: array} of every constant this graph can see by name (its
    own, and those of enclosing graphs that it holds as constants of its own).
    """

    def __init__(self, g, opset, gproto):
        self.g = g
        self.opset = opset
        self.consts = {}
        used = {n for node in gproto.node for n in node.input} | {o.name for o in gproto.output}
        self.ctx = _Ctx(g, opset, used)

    def add_const(self, name, arr):
        arr = np.asarray(arr, order="C")
        self.g.add_const(name, arr)
        self.consts[name] = arr

    def add_initializers(self, gproto):
        for t in gproto.initializer:
            if t.data_type not in ONNX_TO_NAME:
                raise UnsupportedError(f"initializer '{t.name}': element type {onnx_type_name(t.data_type)} is not supported")
            try:
                arr = numpy_helper.to_array(t)
            except Exception as e:
                raise ModelError(f"initializer '{t.name}' is corrupt: {e}") from None
            self.add_const(t.name, arr)

    def add_nodes(self, gproto):
        for i, node in enumerate(gproto.node):
            name = node.name or f"{node.op_type}_{i}"
            if node.op_type == "Constant" and norm_domain(node.domain) == "":
                self.add_const(node.output[0], constant_value(node))
                continue
            attrs = {}
            for a in node.attribute:
                if a.type == onnx.AttributeProto.GRAPHS:
                    raise UnsupportedError(f"node '{name}' ({node.op_type}): attribute '{a.name}' of type GRAPHS is not supported")
                if a.type != onnx.AttributeProto.GRAPH:
                    attrs[a.name] = attr_value(a)
            spec = NodeSpec(node.op_type, norm_domain(node.domain), name, list(node.input), list(node.output), attrs)
            subs = subgraphs(node)
            if subs:
                # Every name the subgraphs read from outside: a constant here
                # is copied into them; anything else is captured.
                outer = []
                for _, sub in subs:
                    outer += [n for n in free_names(sub) if n not in outer]
                inline = {n: self.consts[n] for n in outer if n in self.consts}
                captures = [n for n in outer if n not in inline]
                for attr_name, sub in subs:
                    spec.attrs[attr_name] = import_subgraph(sub, self.opset, inline, captures, f"{name}.{attr_name}")
                spec.attrs[CAPTURES_ATTR] = len(captures)
            rewrite = REWRITERS.get(spec.op_type) if spec.domain == "" else None
            if rewrite:
                rewrite(spec, self.ctx)
            if subs:
                spec.inputs += captures
            self.g.add_op(spec.op_type, spec.domain, spec.name, spec.attrs, spec.inputs, spec.outputs)


def import_subgraph(gproto, opset, inline, captures, where):
    """A core Graph for a GRAPH attribute: inputs are its formal inputs then
    `captures`; `inline` ({name: array}) are outer constants it reads."""
    g = _core.Graph()
    imp = _GraphImporter(g, opset, gproto)
    for vi in gproto.input:
        et = vi.type.tensor_type.elem_type if vi.type.HasField("tensor_type") else 0
        g.add_input(vi.name, ONNX_TO_NAME.get(et, "float32"), [])  # retyped by the op
    for n in captures:
        g.add_input(n, "float32", [])
    for n, arr in inline.items():
        imp.add_const(n, arr)
    imp.add_initializers(gproto)
    imp.add_nodes(gproto)
    if not gproto.output:
        raise ModelError(f"subgraph {where} has no outputs")
    for vi in gproto.output:
        g.add_output(vi.name)
    return g


def import_model(src):
    model = read_model(src)
    opset = effective_opset(model, model_opset(model))
    check_supported(model)
    g = _core.Graph()
    imp = _GraphImporter(g, opset, model.graph)
    imp.add_initializers(model.graph)
    inputs = []
    for vi in model.graph.input:
        if vi.name in imp.consts:
            continue
        spec = input_spec(vi)
        g.add_input(spec.name, spec.dtype, spec.shape if spec.rank_known else [])
        inputs.append(spec)
    imp.add_nodes(model.graph)
    outputs = []
    for vi in model.graph.output:
        g.add_output(vi.name)
        outputs.append(vi.name)
    return ImportedModel(g, inputs, outputs, opset, model.producer_name)
