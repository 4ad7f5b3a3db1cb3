"""ONNX import: reading files, the one-error list of unsupported ops, opset
limits, symbolic dims, re-planning for new shapes, feed conversion."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import loadrun
from onnx_ref import make_model


def relu_model(shape=("N", 3), opset=17):
    return make_model([helper.make_node("Relu", ["x"], ["y"])],
                      [("x", np.float32, list(shape))], [("y", np.float32, None)], opset=opset)


def test_unsupported_ops_listed_in_one_error():
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="r"),
             helper.make_node("FooOp", ["a"], ["b"], name="foo1"),
             helper.make_node("FooOp", ["b"], ["c"], name="foo2"),
             helper.make_node("Bar", ["c"], ["y"], name="bar", domain="com.example")]
    m = make_model(nodes, [("x", np.float32, [1])], [("y", np.float32, None)])
    m.opset_import.append(helper.make_opsetid("com.example", 1))
    with pytest.raises(loadrun.UnsupportedError) as e:
        loadrun.load(m)
    msg = str(e.value)
    assert "FooOp (domain ai.onnx) at nodes foo1, foo2" in msg
    assert "Bar (domain com.example) at node bar" in msg
    assert "\n" not in msg


def test_unused_imported_domain_is_ignored():
    m = relu_model()
    m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    x = np.array([[-1, 2, -3]], np.float32)
    np.testing.assert_array_equal(loadrun.load(m).run({"x": x})["y"], np.maximum(x, 0))


def test_old_opsets():
    # Relu is defined the same at opset 6 as at 7: the model imports
    x = np.array([[-1, 2, -3]], np.float32)
    np.testing.assert_array_equal(loadrun.load(relu_model(opset=6)).run({"x": x})["y"], np.maximum(x, 0))
    # Add changed at 7 (broadcasting): refused, naming it
    nodes = [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Add", ["a", "a"], ["y"])]
    m = make_model(nodes, [("x", np.float32, [1, 3])], [("y", np.float32, None)], opset=6)
    with pytest.raises(loadrun.UnsupportedError, match="opset 6.*Add changed"):
        loadrun.load(m)
    # a model importing only ai.onnx.ml uses no ai.onnx op at all
    ml = make_model([helper.make_node("Binarizer", ["x"], ["y"], domain="ai.onnx.ml")],
                    [("x", np.float32, [2])], [("y", np.float32, None)])
    del ml.opset_import[:]
    ml.opset_import.append(helper.make_opsetid("ai.onnx.ml", 1))
    xm = np.array([-1.0, 2.0], np.float32)
    np.testing.assert_array_equal(loadrun.load(ml).run({"x": xm})["y"], [0.0, 1.0])
    ml.graph.node[0].op_type = "Scaler"  # an ai.onnx.ml op loadrun lacks: refused, naming it
    with pytest.raises(loadrun.UnsupportedError, match="Scaler"):
        loadrun.load(ml)


def test_bad_files(tmp_path):
    with pytest.raises(loadrun.ModelError, match="not found"):
        loadrun.load(tmp_path / "missing.onnx")
    with pytest.raises(loadrun.ModelError, match="directory"):
        loadrun.load(tmp_path)
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(loadrun.ModelError, match="empty"):
        loadrun.load(empty)
    text = tmp_path / "notes.onnx"
    text.write_text("this is not a model\n" * 20)
    with pytest.raises(loadrun.ModelError):
        loadrun.load(text)
    good = relu_model().SerializeToString()
    trunc = tmp_path / "trunc.onnx"
    trunc.write_bytes(good[: len(good) // 2])
    with pytest.raises(loadrun.ModelError):
        loadrun.load(trunc)


def test_symbolic_batch_defaults_to_one_and_replans():
    net = loadrun.load(relu_model())
    assert net.inputs[0].shape == (1, 3)
    x = np.arange(12, dtype=np.float32).reshape(4, 3) - 6
    np.testing.assert_array_equal(net.run({"x": x})["y"], np.maximum(x, 0))
    assert net.outputs[0].shape == (4, 3)
    x1 = np.array([[-1, 0, 1]], np.float32)
    np.testing.assert_array_equal(net.run({"x": x1})["y"], np.maximum(x1, 0))


def test_non_leading_symbolic_dim_needs_a_shape():
    net = loadrun.load(relu_model(shape=(1, "width")))
    with pytest.raises(loadrun.InputError, match="'x' dim 1 \\('width'\\)"):
        net.benchmark(1, 0)
    out = net.run({"x": np.ones((1, 5), np.float32)})["y"]
    assert out.shape == (1, 5)
    net2 = loadrun.load(relu_model(shape=(1, "width")), input_shapes={"x": [1, 7]})
    assert net2.inputs[0].shape == (1, 7)


def test_feed_errors_and_conversion():
    net = loadrun.load(relu_model())
    with pytest.raises(loadrun.InputError, match="'z' is not an input"):
        net.run({"z": np.zeros((1, 3), np.float32)})
    with pytest.raises(loadrun.InputError, match="'x' was not given"):
        net.run({})
    with pytest.raises(loadrun.InputError, match="dim 1 must be 3"):
        net.run({"x": np.zeros((1, 4), np.float32)})
    # int values that fit float32 exactly are converted; lossy ones are refused
    out = net.run({"x": np.array([[1, -2, 3]], np.int64)})["y"]
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[1, 0, 3]])
    with pytest.raises(loadrun.InputError, match="without loss"):
        net.run({"x": np.array([[2**40 + 1, 0, 0]], np.int64)})
    with pytest.raises(loadrun.InputError, match="without loss"):
        net.run({"x": np.array([[1e300, 0, 0]], np.float64)})


def test_benchmark_returns_per_iteration_times():
    net = loadrun.load(relu_model())
    t = net.benchmark(iters=4, warmup=2)
    assert len(t) == 4 and len(t.warmup) == 2
    assert all(v >= 0 for v in t)


def test_graph_output_can_be_an_input_and_constant():
    c = onnx.numpy_helper.from_array(np.array([1.5, 2.5], np.float32), "c")
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2]),
                           helper.make_tensor_value_info("x", TensorProto.FLOAT, [2]),
                           helper.make_tensor_value_info("c", TensorProto.FLOAT, [2])], [c])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    out = loadrun.load(m).run({"x": np.array([-1, 1], np.float32)})
    np.testing.assert_array_equal(out["y"], [0, 1])
    np.testing.assert_array_equal(out["x"], [-1, 1])
    np.testing.assert_array_equal(out["c"], [1.5, 2.5])


def test_names_that_are_not_utf8_are_a_model_error():
    """onnx is proto2: a string field that is not valid UTF-8 parses, as bytes
    (found by the model_bytes fuzzer: TypeError deep in the importer)."""
    import onnx
    from onnx import helper

    from loadrun.errors import ModelError
    from loadrun.onnx.importer import import_model

    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2])],
                          [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2])])
    raw = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    bad = onnx.load_from_string(raw.replace(b"Relu", b"R\xeelu"))
    with pytest.raises(ModelError, match="not valid UTF-8"):
        import_model(bad)
