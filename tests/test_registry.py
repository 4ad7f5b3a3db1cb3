"""The core's operator registry: every operator the foundation promises is
registered once, with a NAIVE algorithm first."""
import loadrun

FOUNDATION_OPS = """
Conv ConvTranspose BatchNormalization Relu LeakyRelu PRelu Clip Sigmoid Tanh HardSigmoid
HardSwish Erf Exp Log Sqrt Pow Neg Abs Reciprocal Add Sub Mul Div Max Min MaxPool AveragePool
GlobalAveragePool GlobalMaxPool Gemm MatMul Flatten Reshape Transpose Squeeze Unsqueeze Concat
Split Slice Gather Shape ConstantOfShape Identity Softmax LayerNormalization ReduceMean
ReduceSum ReduceMax Pad Resize Cast Expand Where Equal Greater Less
""".split()


def test_foundation_ops_registered_with_naive_first():
    ops = {(d, t): algos for d, t, algos in loadrun.supported_ops()}
    missing = [t for t in FOUNDATION_OPS if ("", t) not in ops]
    assert not missing, f"not registered: {missing}"
    for key, algos in ops.items():
        assert algos and algos[0] == "NAIVE", f"{key}: algorithms {algos}"


def test_each_op_registered_once():
    keys = [(d, t) for d, t, _ in loadrun.supported_ops()]
    assert len(keys) == len(set(keys))


def test_constant_is_imported_as_a_weight():
    import numpy as np
    from onnx import helper

    from onnx_ref import make_model

    nodes = [helper.make_node("Constant", [], ["c"], value_floats=[1.0, -2.0]),
             helper.make_node("Add", ["x", "c"], ["y"])]
    m = make_model(nodes, [("x", np.float32, [2])], [("y", np.float32, None)])
    net = loadrun.load(m)
    np.testing.assert_array_equal(net.run({"x": np.array([1, 1], np.float32)})["y"], [2, -1])
    assert [s[0] for s in net.steps()] == ["Add_1{Add}"]
