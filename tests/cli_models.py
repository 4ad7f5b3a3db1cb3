"""Small ONNX models saved to files, for the CLI and --input tests."""
import numpy as np
from onnx import helper, save

from onnx_ref import make_model


def relu_model(path, shape=(1, 3, 8, 8), in_name="data", out_name="out", dtype=np.float32):
    m = make_model([helper.make_node("Relu", [in_name], [out_name], name="relu1")],
                   [(in_name, dtype, list(shape))], [(out_name, dtype, list(shape))])
    save(m, str(path))
    return str(path)


def conv_model(path):
    w = np.random.default_rng(0).random((4, 3, 3, 3), dtype=np.float32)
    m = make_model([helper.make_node("Conv", ["data", "w"], ["c"], name="conv1", pads=[1, 1, 1, 1]),
                    helper.make_node("Relu", ["c"], ["prob"], name="relu1")],
                   [("data", np.float32, ["N", 3, 8, 8])], [("prob", np.float32, ["N", 4, 8, 8])],
                   [("w", w)])
    save(m, str(path))
    return str(path)


def shape_model(path, inputs):
    """One Shape node per input [(name, dtype, shape)]: runs for any dtype and values."""
    nodes = [helper.make_node("Shape", [n], [f"{n}_shape"], name=f"shape_{n}") for n, _, _ in inputs]
    m = make_model(nodes, inputs, [(f"{n}_shape", np.int64, [len(s)]) for n, _, s in inputs])
    save(m, str(path))
    return str(path)
