"""Small seed models for the model mutators, and random feeds for a Network."""
import math

import numpy as np
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT


def _model(nodes, inputs, outputs, inits=(), opset=17):
    g = helper.make_graph(
        nodes, "fuzz",
        [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
        [helper.make_tensor_value_info(n, t, s) for n, t, s in outputs],
        [numpy_helper.from_array(np.asarray(a), n) for n, a in inits])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def _w(*shape):
    return (np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) % 7 - 3) / 4


def seeds():
    """[ModelProto]: a few small graphs covering the common operator kinds."""
    m = []
    m.append(_model(
        [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], strides=[1, 1]),
         helper.make_node("Relu", ["c"], ["r"]),
         helper.make_node("MaxPool", ["r"], ["y"], kernel_shape=[2, 2], strides=[2, 2])],
        [("x", F, [1, 3, 8, 8])], [("y", F, None)],
        [("w", _w(4, 3, 3, 3)), ("b", _w(4))]))
    m.append(_model(
        [helper.make_node("MatMul", ["x", "w"], ["h"]),
         helper.make_node("Add", ["h", "b"], ["a"]),
         helper.make_node("Softmax", ["a"], ["y"], axis=-1)],
        [("x", F, ["n", 16])], [("y", F, None)],
        [("w", _w(16, 10)), ("b", _w(10))]))
    m.append(_model(
        [helper.make_node("Gemm", ["x", "w", "b"], ["g"], transB=1, alpha=0.5),
         helper.make_node("Sigmoid", ["g"], ["y"])],
        [("x", F, [2, 8])], [("y", F, None)],
        [("w", _w(6, 8)), ("b", _w(6))]))
    m.append(_model(
        [helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 1]),
         helper.make_node("Reshape", ["t", "s"], ["r"]),
         helper.make_node("Concat", ["r", "r"], ["c"], axis=1),
         helper.make_node("Slice", ["c", "st", "en", "ax"], ["y"])],
        [("x", F, [2, 3, 4])], [("y", F, None)],
        [("s", np.array([2, 12], np.int64)), ("st", np.array([1], np.int64)),
         ("en", np.array([20], np.int64)), ("ax", np.array([1], np.int64))]))
    m.append(_model(
        [helper.make_node("Gather", ["x", "i"], ["g"], axis=1),
         helper.make_node("ReduceMean", ["g"], ["y"], axes=[1], keepdims=0)],
        [("x", F, [3, 5, 2]), ("i", TensorProto.INT64, [4])], [("y", F, None)], opset=13))
    m.append(_model(
        [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["n"], epsilon=1e-5),
         helper.make_node("Resize", ["n", "", "sc"], ["r"], mode="linear"),
         helper.make_node("GlobalAveragePool", ["r"], ["y"])],
        [("x", F, [1, 2, 4, 4])], [("y", F, None)],
        [("s", _w(2) + 2), ("b", _w(2)), ("m", _w(2)), ("v", _w(2) + 2),
         ("sc", np.array([1, 1, 2, 2], np.float32))]))
    m.append(_model(
        [helper.make_node("LayerNormalization", ["x", "g", "b"], ["l"], axis=-1),
         helper.make_node("Where", ["c", "l", "x"], ["w"]),
         helper.make_node("Cast", ["w"], ["y"], to=TensorProto.INT32)],
        [("x", F, [2, 3, 6]), ("c", TensorProto.BOOL, [6])], [("y", TensorProto.INT32, None)],
        [("g", _w(6) + 1), ("b", _w(6))]))
    m.append(_model(
        [helper.make_node("ConvTranspose", ["x", "w"], ["d"], strides=[2, 2], pads=[0, 0, 1, 1]),
         helper.make_node("AveragePool", ["d"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                          count_include_pad=1)],
        [("x", F, [1, 2, 3, 3])], [("y", F, None)], [("w", _w(2, 3, 3, 3))]))
    m.append(_model(
        [helper.make_node("Shape", ["x"], ["s"]),
         helper.make_node("ConstantOfShape", ["s"], ["z"], value=helper.make_tensor("v", F, [1], [2.0])),
         helper.make_node("Mul", ["x", "z"], ["p"]),
         helper.make_node("Expand", ["p", "e"], ["y"])],
        [("x", F, [1, "k"])], [("y", F, None)], [("e", np.array([3, 1], np.int64))]))
    return m


def feeds_for(net, rng):
    """Random feeds matching net.inputs (unknown dims take 1..3)."""
    feeds = {}
    for info in net.inputs:
        shape = [d if d >= 0 else int(rng.integers(1, 4)) for d in info.shape]
        try:
            dt = np.dtype(info.dtype)
        except TypeError:
            dt = None
        if dt is None or dt.kind not in "biuf" or math.prod(shape) > 1 << 20:
            continue  # leave it to the default feed
        if dt.kind == "f":
            a = rng.standard_normal(shape).astype(dt)
        elif dt.kind == "b":
            a = rng.integers(0, 2, shape).astype(bool)
        else:
            a = rng.integers(0, 3, shape).astype(dt)
        feeds[info.name] = a
    return feeds


def run_cli(argv):
    """`load_and_run ARGV` in this process: exit code 0, or a non-zero code
    with exactly one line on stderr (an exception escaping main() is a
    traceback the user would see: the worker reports it as one)."""
    import contextlib
    import io

    from loadrun.cli.main import main

    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        rc = main(list(argv))
    text = err.getvalue()
    lines = text.strip().split("\n")  # not splitlines(): a name may hold \x0c
    assert rc == 0 or len(lines) == 1, f"exit code {rc}, stderr: {text[-800:]!r}"
    assert "Traceback" not in text, text[-800:]
    return f"cli exit {rc}"
