"""Compile passes (runtime/compile_pass.h): rewrites that depend on shapes,
run inside compile after inference and before algorithm choice.

- The seam: a pass registered at run time (a test pass, as an operator
  library would register one) runs once per compiled plan and sees the
  plan's concrete shapes; a cached plan does not run it again.
- shape_views: a Transpose moving only unit dims, an Expand to the input's
  own shape and a Cast to the input's own dtype become views: the step shares
  its input's buffer and runs no kernel ("(view)" in the step list), the
  results stay exact, and other shapes of the same graph still run kernels.
"""
import numpy as np
import pytest
from onnx import TensorProto, helper

import loadrun
from loadrun import _core
from onnx_ref import make_model


def _scale2_model():
    _core._register_runtime_test_ops()
    node = helper.make_node("Scale2", ["x"], ["y"], name="s", domain="test.runtime")
    g = helper.make_graph([node], "seam", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("test.runtime", 1)],
                             ir_version=8)


def test_registered_compile_pass_runs_once_per_plan_with_concrete_shapes():
    _core._register_test_compile_pass()
    _core._take_test_compile_pass_log()
    net = loadrun.load(_scale2_model(), {"x": [2, 3]})
    x2 = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(net.run({"x": x2})["y"], 2 * x2)
    assert _core._take_test_compile_pass_log() == ["s:{2,3}->{2,3}"]
    x5 = np.ones((5, 3), np.float32)
    net.run({"x": x5})
    assert _core._take_test_compile_pass_log() == ["s:{5,3}->{5,3}"]
    net.run({"x": x2})  # the cached plan: no compile, no pass
    assert _core._take_test_compile_pass_log() == []


def test_compile_passes_do_not_run_without_optimize():
    _core._register_test_compile_pass()
    _core._take_test_compile_pass_log()
    net = loadrun.load(_scale2_model(), {"x": [4, 3]}, optimize=False)
    net.run({"x": np.ones((4, 3), np.float32)})
    assert _core._take_test_compile_pass_log() == []


def _chain_model(op_node, x_shape, extra_inputs=(), initializers=()):
    """x -> Abs -> a -> OP -> t -> Relu -> r;  y = r + mean over OP's input a
    read again after the view (so the view's buffer must stay intact)."""
    nodes = [helper.make_node("Abs", ["x"], ["a"], name="abs"), op_node,
             helper.make_node("Relu", ["t"], ["r"], name="relu"),
             helper.make_node("ReduceSum", ["a"], ["s"], name="sum", keepdims=0),
             helper.make_node("Add", ["r", "s"], ["y"], name="add")]
    return make_model(nodes, [("x", np.float32, list(x_shape)), *extra_inputs], [("y", np.float32, None)],
                      initializers=initializers)


def _algo_of(net, label_start):
    return [algo for opr, algo, *_ in net.steps() if opr.startswith(label_start)]


@pytest.mark.parametrize("shape,perm,is_view", [
    ((1, 1, 4, 5), [0, 2, 1, 3], True),
    ((3, 1, 7), [1, 0, 2], True),
    ((2, 1, 1, 9), [0, 3, 2, 1], True),
    ((2, 1, 3, 9), [0, 3, 2, 1], False),
    ((2, 3, 4), [0, 2, 1], False),
    ((1, 6, 1), [2, 1, 0], True),
])
def test_transpose_of_unit_dims_is_a_view(shape, perm, is_view):
    node = helper.make_node("Transpose", ["a"], ["t"], name="tr", perm=perm)
    model = _chain_model(node, shape)
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    a = np.abs(x)
    want = np.maximum(np.transpose(a, perm), 0) + a.sum()
    net = loadrun.load(model)
    got = net.run({"x": x})["y"]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-5)
    assert (_algo_of(net, "tr{") == ["(view)"]) == is_view
    ref = loadrun.load(model, optimize=False)
    assert _algo_of(ref, "tr{") != ["(view)"]
    np.testing.assert_array_equal(ref.run({"x": x})["y"], got)


def test_expand_and_cast_to_what_the_input_is_are_views():
    shape = (2, 3, 5)
    x = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    a = np.abs(x)
    exp = helper.make_node("Expand", ["a", "shp"], ["t"], name="ex")
    net = loadrun.load(_chain_model(exp, shape, initializers=[("shp", np.array(shape, np.int64))]))
    np.testing.assert_allclose(net.run({"x": x})["y"], np.maximum(a, 0) + a.sum(), rtol=1e-6)
    assert _algo_of(net, "ex{") == ["(view)"]
    cast = helper.make_node("Cast", ["a"], ["t"], name="ca", to=TensorProto.FLOAT)
    net = loadrun.load(_chain_model(cast, shape))
    np.testing.assert_allclose(net.run({"x": x})["y"], np.maximum(a, 0) + a.sum(), rtol=1e-6)
    assert _algo_of(net, "ca{") == ["(view)"]
    # Expanding to a larger shape is no view.
    big = helper.make_node("Expand", ["a", "shp"], ["t"], name="ex")
    net = loadrun.load(_chain_model(big, shape, initializers=[("shp", np.array((4, 2, 3, 5), np.int64))]))
    assert _algo_of(net, "ex{") != ["(view)"]
    want = np.maximum(np.broadcast_to(a, (4, 2, 3, 5)), 0) + a.sum()
    np.testing.assert_allclose(net.run({"x": x})["y"], want, rtol=1e-6)


def test_view_steps_follow_the_shapes_of_each_plan():
    """One graph, two batch sizes: a view at batch 1, a kernel at batch 2."""
    node = helper.make_node("Transpose", ["a"], ["t"], name="tr", perm=[1, 0, 2])
    model = _chain_model(node, ["n", 4, 6])
    net = loadrun.load(model, {"x": [1, 4, 6]})
    for n, view in ((1, True), (2, False), (1, True)):
        x = np.random.default_rng(n).standard_normal((n, 4, 6)).astype(np.float32)
        a = np.abs(x)
        got = net.run({"x": x})["y"]
        np.testing.assert_allclose(got, np.maximum(np.transpose(a, (1, 0, 2)), 0) + a.sum(), rtol=1e-6, atol=1e-5)
        assert (_algo_of(net, "tr{") == ["(view)"]) == view


def test_views_with_disabled_memory_reuse_still_run_their_kernel():
    node = helper.make_node("Transpose", ["a"], ["t"], name="tr", perm=[0, 2, 1, 3])
    model = _chain_model(node, (1, 1, 4, 5))
    x = np.random.default_rng(5).standard_normal((1, 1, 4, 5)).astype(np.float32)
    net = loadrun.load(model, disable_mem_opt=True)
    assert _algo_of(net, "tr{") != ["(view)"]
    np.testing.assert_array_equal(net.run({"x": x})["y"], loadrun.load(model).run({"x": x})["y"])


def test_view_of_a_graph_input_into_a_graph_output():
    nodes = [helper.make_node("Transpose", ["x"], ["y"], name="tr", perm=[1, 0, 2])]
    net = loadrun.load(make_model(nodes, [("x", np.float32, [1, 3, 4])], [("y", np.float32, None)]))
    x = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    for _ in range(2):
        y = net.run({"x": x})["y"]
        np.testing.assert_array_equal(y, x.reshape(3, 1, 4))
    x2 = x + 1
    np.testing.assert_array_equal(net.run({"x": x2})["y"], x2.reshape(3, 1, 4))
