"""External data: tensors whose bytes live in files next to the model.

ONNX lets any TensorProto keep its data outside the model file (an
initializer, a Constant node's value, any tensor attribute, a sparse
tensor's values and indices, in subgraphs and in functions). Every one of
them is resolved here against the model's directory with the same checks:
the location is a relative path without `..`, that after following links
stays inside the model's directory, and names a regular file holding the
offset and length asked for. onnx's own loader resolves only initializers
against that directory; numpy_helper.to_array would read the others
relative to the current directory.
"""
import os
import re

from onnx import AttributeProto, TensorProto

from loadrun.errors import ModelError
from loadrun.fileio import open_regular


def _text(s):
    """A proto2 string field as text: onnx's are proto2, where a name that is
    not valid UTF-8 comes back as bytes."""
    return s.decode("utf-8", "backslashreplace") if isinstance(s, bytes) else s


def _graph_tensors(graph, where):
    for t in graph.initializer:
        yield t, f"{where}initializer '{_text(t.name)}'"
    for st in graph.sparse_initializer:
        yield st.values, f"{where}sparse initializer '{_text(st.values.name)}'"
        yield st.indices, f"{where}sparse initializer '{_text(st.values.name)}' (indices)"
    yield from _node_tensors(graph.node, where)


def _node_tensors(nodes, where):
    for i, node in enumerate(nodes):
        label = f"{where}node '{_text(node.name) or _text(node.op_type) + '_' + str(i)}'"
        for a in node.attribute:
            at = f"{label} attribute '{_text(a.name)}'"
            if a.HasField("t"):
                yield a.t, at
            for t in a.tensors:
                yield t, at
            if a.HasField("sparse_tensor"):
                yield a.sparse_tensor.values, at
                yield a.sparse_tensor.indices, at
            for st in a.sparse_tensors:
                yield st.values, at
                yield st.indices, at
            if a.type == AttributeProto.GRAPH or a.HasField("g"):
                yield from _graph_tensors(a.g, f"{at}: ")
            for g in a.graphs:
                yield from _graph_tensors(g, f"{at}: ")


def all_tensors(model):
    """(TensorProto, where) for every tensor of the model, at any depth."""
    yield from _graph_tensors(model.graph, "")
    for f in model.functions:
        yield from _node_tensors(f.node, f"function '{_text(f.name)}': ")


def uses_external_data(t):
    return t.data_location == TensorProto.EXTERNAL or len(t.external_data) > 0


def _int_field(info, key, where):
    if key not in info:
        return None
    text = info[key]
    if not re.fullmatch(r"[0-9]{1,19}", text.strip()):
        raise ModelError(f"{where}: external data {key} '{text[:40]}' is not a non-negative integer")
    return int(text)


def read_external(t, base_dir, where):
    """The bytes `t` keeps in an external file under base_dir."""
    info = {e.key: e.value for e in t.external_data}
    loc = info.get("location", "")
    if not loc:
        raise ModelError(f"{where}: external data without a location")
    shown = loc if len(loc) < 200 else loc[:200] + "..."
    if "\0" in loc or os.path.isabs(loc) or loc.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", loc):
        raise ModelError(f"{where}: external data location '{shown}' is not a path relative to the model's "
                         "directory")
    if ".." in re.split(r"[\\/]", loc):
        raise ModelError(f"{where}: external data location '{shown}' leads out of the model's directory ('..')")
    real_base = os.path.realpath(base_dir)
    real = os.path.realpath(os.path.join(real_base, loc))
    if os.path.commonpath([real, real_base]) != real_base or real == real_base:
        raise ModelError(f"{where}: external data location '{shown}' leads out of the model's directory "
                         "(a link)")
    offset = _int_field(info, "offset", where) or 0
    length = _int_field(info, "length", where)
    with open_regular(real, ModelError, f"{where}: external data ",
                      missing=f"{where}: external data file not found: {shown}") as (f, size):
        if offset > size:
            raise ModelError(f"{where}: external data offset {offset} is past the end of '{shown}' ({size} bytes)")
        if length is None:
            length = size - offset
        if offset + length > size:
            raise ModelError(f"{where}: external data '{shown}' holds {size} bytes, offset {offset} + length "
                             f"{length} asked for")
        f.seek(offset)
        data = f.read(length)
    if len(data) != length:
        raise ModelError(f"{where}: external data '{shown}': short read")
    return data


def load_external_data(model, base_dir, path):
    """Reads every external tensor of `model` (in place) from base_dir."""
    for t, where in all_tensors(model):
        if uses_external_data(t):
            t.raw_data = read_external(t, base_dir, f"{path}: {where}")
            t.data_location = TensorProto.DEFAULT
            del t.external_data[:]
