"""If, Loop, Scan (subgraphs with outer-scope captures) against ONNX Runtime.

Shapes that follow from input shapes alone (If whose branches agree, Loop with
a known trip count, Scan) are tested with graph inputs. Cases whose output
shapes depend on values (the If condition, a trip count decided by the body)
run both with the values as initializers (compile infers the shapes by running
the subgraph, then folds the node) and as graph inputs (the node is inferred
at run time, where ctx.value has every input's value).
"""
import numpy as np
import onnx
import pytest
from onnx import helper

import loadrun
from control_flow_models import (B, F, I64, graph, if_model, loop_body, loop_model,
                                 loop_nested_if_model, nested_if_model, scan_model, vi)
from onnx_ref import check_model, make_model, ort_run


def as_inits(model, feeds):
    """The same model with `feeds` moved into initializers (no graph inputs for them)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    keep = [i for i in m.graph.input if i.name not in feeds]
    del m.graph.input[:]
    m.graph.input.extend(keep)
    for n, a in feeds.items():
        m.graph.initializer.append(onnx.numpy_helper.from_array(np.asarray(a), n))
    return m


def check_static_and_runtime(model, const_feeds, feeds=None):
    """Check with `const_feeds` as initializers, then as graph inputs."""
    feeds = dict(feeds or {})
    ref = ort_run(model, {**feeds, **const_feeds})
    got = loadrun.load(as_inits(model, const_feeds)).run(feeds)
    for k in ref:
        np.testing.assert_allclose(got[k], ref[k], rtol=1e-5, err_msg=k)
        assert got[k].dtype == ref[k].dtype and got[k].shape == ref[k].shape, k
    check_model(model, {**feeds, **const_feeds})
    return model, {**feeds, **const_feeds}


rng = np.random.default_rng(7)


# ------------------------------------------------------------------------ If


@pytest.mark.parametrize("c", [True, False])
def test_if_same_shapes_runtime_cond(c):
    x = rng.standard_normal(3).astype(np.float32)
    net = loadrun.load(if_model())
    ref = ort_run(if_model(), {"cond": np.array(c), "x": x})
    got = net.run({"cond": np.array(c), "x": x})
    np.testing.assert_allclose(got["y"], ref["y"], rtol=1e-6)
    # The same plan serves the other condition too.
    got2 = net.run({"cond": np.array(not c), "x": x})
    ref2 = ort_run(if_model(), {"cond": np.array(not c), "x": x})
    np.testing.assert_allclose(got2["y"], ref2["y"], rtol=1e-6)


@pytest.mark.parametrize("c", [True, False])
def test_if_branch_shapes_differ_const_cond(c):
    x = rng.standard_normal(3).astype(np.float32)
    check_static_and_runtime(if_model((3, 1), (1, 3)), {"cond": np.array(c)}, {"x": x})


def test_if_branch_shapes_differ_runtime_cond():
    # One network, the condition flipping between runs: the output shape follows.
    x = rng.standard_normal(3).astype(np.float32)
    model = if_model((3, 1), (1, 3))
    net = loadrun.load(model)
    for c in (False, True, False):
        ref = ort_run(model, {"cond": np.array(c), "x": x})
        got = net.run({"cond": np.array(c), "x": x})
        assert got["y"].shape == ref["y"].shape
        np.testing.assert_allclose(got["y"], ref["y"], rtol=1e-6)


def test_if_invalid_untaken_branch_is_not_compiled():
    # The else branch reshapes 3 elements to 4: invalid, but never taken.
    x = rng.standard_normal(3).astype(np.float32)
    check_static_and_runtime(if_model((3,), (4,)), {"cond": np.array(True)}, {"x": x})


def test_if_nested_captures_two_levels_up():
    # Outer If's then-branch holds an inner If whose branches read x and w
    # from the main graph, two levels up.
    model = nested_if_model()
    x, w = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    for c1 in (True, False):
        for c2 in (True, False):
            check_model(model, {"c1": np.array(c1), "c2": np.array(c2), "x": x, "w": w})


def test_if_reads_outer_initializer_as_constant():
    # The branch reshapes by a shape held in a main-graph initializer: it must
    # reach the subgraph as a constant (a captured input would be unknown).
    then_g = graph([helper.make_node("Reshape", ["x", "shp"], ["t"])], "then", [], [vi("t", F, None)])
    else_g = graph([helper.make_node("Reshape", ["x", "shp"], ["e0"]), helper.make_node("Neg", ["e0"], ["e"])],
                   "else", [], [vi("e", F, None)])
    node = helper.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g)
    model = make_model([node], [("cond", np.bool_, []), ("x", np.float32, [2, 3])], [("y", np.float32, None)],
                       initializers=[("shp", np.array([3, 2], np.int64))])
    for c in (True, False):
        got = check_model(model, {"cond": np.array(c), "x": rng.standard_normal((2, 3)).astype(np.float32)})
        assert got["y"].shape == (3, 2)


def test_if_missing_branch_is_model_error():
    then_g = graph([helper.make_node("Identity", ["x"], ["t"])], "then", [], [vi("t", F, [3])])
    node = helper.make_node("If", ["cond"], ["y"], then_branch=then_g)
    model = make_model([node], [("cond", np.bool_, []), ("x", np.float32, [3])], [("y", np.float32, [3])])
    with pytest.raises(loadrun.ModelError):
        loadrun.load(model)


# ---------------------------------------------------------------------- Loop


def loop_feeds():
    return {"acc0": rng.standard_normal(3).astype(np.float32), "x": rng.standard_normal(3).astype(np.float32)}


@pytest.mark.parametrize("m", [0, 1, 5])
def test_loop_known_trip_count_runtime_data(m):
    # M and cond are constants and the body passes cond through: static
    # shapes, graph-input data.
    model = loop_model([], loop_body())
    model = as_inits(model, {"M": np.array(m, np.int64), "cond": np.array(True)})
    got = check_model(model, loop_feeds())
    assert got["scans"].shape == (m, 3)


def test_loop_no_cond_input():
    body = loop_body()
    node = helper.make_node("Loop", ["M", "", "acc0"], ["acc_final", "scans"], body=body)
    model = make_model([node], [("acc0", np.float32, [3]), ("x", np.float32, [3])],
                       [("acc_final", np.float32, None), ("scans", np.float32, None)],
                       initializers=[("M", np.array(4, np.int64))])
    check_model(model, loop_feeds())


def test_loop_false_cond_runs_zero_times():
    # cond as a constant false: zero trips, the carried value passes through.
    model = as_inits(loop_model([], loop_body()), {"M": np.array(3, np.int64), "cond": np.array(False)})
    feeds = loop_feeds()
    got = check_model(model, feeds)
    np.testing.assert_array_equal(got["acc_final"], feeds["acc0"])
    assert got["scans"].shape == (0, 3)


def test_loop_no_trip_count_body_decides():
    # No M: runs while sum(acc) < limit; the body decides the trip count.
    body = loop_body("lt")
    model = loop_model([("cond", np.bool_, []), ("limit", np.float32, [])], body, m_name="")
    feeds = {"acc0": np.zeros(3, np.float32), "x": np.array([0.5, 1, 1.5], np.float32)}
    _, all_feeds = check_static_and_runtime(model, {**feeds, "cond": np.array(True), "limit": np.array(20, np.float32)})
    ref = ort_run(model, all_feeds)
    assert ref["scans"].shape[0] == 5  # sums 0, 3, 9, 18, 30: the 5th iteration stops it


def test_loop_no_trip_count_runtime_values():
    body = loop_body("lt")
    model = loop_model([("cond", np.bool_, []), ("limit", np.float32, [])], body, m_name="")
    check_model(model, {"acc0": np.zeros(3, np.float32), "x": np.array([0.5, 1, 1.5], np.float32),
                        "cond": np.array(True), "limit": np.array(20, np.float32)})


def test_loop_trip_count_graph_input():
    # One network, the trip count (and so the scan output's length) changing between runs.
    model = loop_model([("M", np.int64, []), ("cond", np.bool_, [])], loop_body())
    net = loadrun.load(model)
    feeds = loop_feeds()
    for m, c in ((3, True), (0, True), (6, True), (4, False)):
        f = {**feeds, "M": np.array(m, np.int64), "cond": np.array(c)}
        ref, got = ort_run(model, f), net.run(f)
        for k in ref:
            assert got[k].shape == ref[k].shape, (m, c, k)
            np.testing.assert_allclose(got[k], ref[k], rtol=1e-5)


def test_loop_with_m_and_body_cond():
    # Both M and a body condition: whichever stops first (M here, then the condition).
    body = loop_body("lt")
    model = loop_model([("M", np.int64, []), ("cond", np.bool_, []), ("limit", np.float32, [])], body)
    for m, n in ((2, 2), (10, 5)):
        feeds = {"acc0": np.zeros(3, np.float32), "x": np.array([0.5, 1, 1.5], np.float32),
                 "M": np.array(m, np.int64), "cond": np.array(True), "limit": np.array(20, np.float32)}
        check_static_and_runtime(model, feeds)
        assert ort_run(model, feeds)["scans"].shape[0] == n


def test_loop_nested_if_capturing_two_levels_up():
    # Inside the loop body an If picks acc*w or acc-w by the iteration's parity;
    # w is a main-graph input read two levels down.
    model = loop_nested_if_model()
    got = check_model(model, {"acc0": rng.standard_normal(3).astype(np.float32),
                              "w": rng.standard_normal(3).astype(np.float32)})
    assert got["scans"].shape == (5, 1)


def test_loop_carried_value_changes_shape():
    # acc grows by one element per iteration (Concat): only running tells the final shape.
    body = graph([
        helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        helper.make_node("Cast", ["i"], ["fi"], to=F),
        helper.make_node("Unsqueeze", ["fi", "ax"], ["fi1"]),
        helper.make_node("Concat", ["acc", "fi1"], ["acc_out"], axis=0),
    ], "body", [vi("i", I64, []), vi("cond_in", B, []), vi("acc", F, None)],
        [vi("cond_out", B, []), vi("acc_out", F, None)], [onnx.numpy_helper.from_array(np.array([0], np.int64), "ax")])
    node = helper.make_node("Loop", ["M", "", "acc0"], ["acc_final"], body=body)
    model = make_model([node], [("acc0", np.float32, [2])], [("acc_final", np.float32, None)],
                       initializers=[("M", np.array(3, np.int64))])
    check_static_and_runtime(model, {"acc0": np.array([7, 8], np.float32)})
    assert ort_run(model, {"acc0": np.array([7, 8], np.float32)})["acc_final"].shape == (5,)


def test_loop_untyped_body_inputs():
    # As ONNX's own function expansions write it (Range): body inputs without types.
    body = graph([helper.make_node("Identity", ["cond"], ["cond_out"]),
                  helper.make_node("Add", ["prev", "delta"], ["cur"]),
                  helper.make_node("Identity", ["prev"], ["rng"])], "body",
                 [vi("i", I64, []), vi("cond", B, []), helper.make_value_info("prev", onnx.TypeProto())],
                 [helper.make_value_info("cond_out", onnx.TypeProto()), helper.make_value_info("cur", onnx.TypeProto()),
                  helper.make_value_info("rng", onnx.TypeProto())])
    node = helper.make_node("Loop", ["M", "", "start"], ["last", "out"], body=body)
    model = make_model([node], [("start", np.float32, []), ("delta", np.float32, [])],
                       [("last", np.float32, None), ("out", np.float32, None)],
                       initializers=[("M", np.array(4, np.int64))])
    got = check_model(model, {"start": np.array(1, np.float32), "delta": np.array(0.5, np.float32)})
    np.testing.assert_allclose(got["out"], [1, 1.5, 2, 2.5])


def test_loop_body_arity_mismatch_is_model_error():
    body = loop_body()
    node = helper.make_node("Loop", ["M", "cond", "acc0"], ["acc_final"], body=body)  # body has a scan output too
    model = make_model([node], [("acc0", np.float32, [3]), ("x", np.float32, [3]), ("cond", np.bool_, [])],
                       [("acc_final", np.float32, None)], initializers=[("M", np.array(2, np.int64))])
    with pytest.raises(loadrun.ModelError):
        loadrun.load(model).run({**loop_feeds(), "cond": np.array(True)})


# ---------------------------------------------------------------------- Scan


@pytest.mark.parametrize("x_shape,kw", [
    ((4, 3), {}),
    ((4, 3), {"in_dirs": [1]}),
    ((2, 5, 3), {"in_axes": [1], "out_axes": [1, 2]}),
    ((2, 5, 3), {"in_axes": [-1], "in_dirs": [1], "out_axes": [-1, 0], "out_dirs": [1, 0]}),
    ((1, 3), {"out_dirs": [0, 1]}),
])
def test_scan_axes_directions(x_shape, kw):
    model, ss = scan_model(x_shape, **kw)
    feeds = {"s0": rng.standard_normal(ss).astype(np.float32), "x": rng.standard_normal(x_shape).astype(np.float32),
             "w": rng.standard_normal(ss).astype(np.float32)}
    check_model(model, feeds)


def test_scan_zero_iterations():
    # ONNX Runtime refuses a zero-length scan; the spec's answer: states pass
    # through, scan outputs are empty along the scan axis.
    model, ss = scan_model((2, 0, 3), in_axes=[1], out_axes=[0, 1])
    s0 = rng.standard_normal(ss).astype(np.float32)
    got = loadrun.load(model).run({"s0": s0, "x": np.zeros((2, 0, 3), np.float32), "w": s0})
    np.testing.assert_array_equal(got["s_final"], s0)
    assert got["ys1"].shape == (0, 2, 3) and got["ys2"].shape == (2, 0, 3)


def test_scan_two_scan_inputs_different_directions():
    body = graph([helper.make_node("Sub", ["a", "b"], ["d"]), helper.make_node("Add", ["s", "d"], ["s_out"]),
                  helper.make_node("Identity", ["d"], ["y"])], "body",
                 [vi("s", F, [2]), vi("a", F, [2]), vi("b", F, [2])], [vi("s_out", F, [2]), vi("y", F, [2])])
    node = helper.make_node("Scan", ["s0", "xa", "xb"], ["s_final", "ys"], body=body, num_scan_inputs=2,
                            scan_input_axes=[0, 1], scan_input_directions=[0, 1])
    model = make_model([node], [("s0", np.float32, [2]), ("xa", np.float32, [3, 2]), ("xb", np.float32, [2, 3])],
                       [("s_final", np.float32, None), ("ys", np.float32, None)])
    check_model(model, {"s0": rng.standard_normal(2).astype(np.float32),
                        "xa": rng.standard_normal((3, 2)).astype(np.float32),
                        "xb": rng.standard_normal((2, 3)).astype(np.float32)})


def test_scan_int64_and_no_state():
    body = graph([helper.make_node("Mul", ["xt", "xt"], ["y"])], "body", [vi("xt", I64, [2])], [vi("y", I64, [2])])
    node = helper.make_node("Scan", ["x"], ["ys"], body=body, num_scan_inputs=1, scan_output_axes=[1])
    model = make_model([node], [("x", np.int64, [4, 2])], [("ys", np.int64, None)])
    got = check_model(model, {"x": np.arange(8, dtype=np.int64).reshape(4, 2)})
    assert got["ys"].shape == (2, 4)


def test_scan_lengths_differ_is_model_error():
    body = graph([helper.make_node("Add", ["a", "b"], ["y"])], "body", [vi("a", F, [2]), vi("b", F, [2])],
                 [vi("y", F, [2])])
    node = helper.make_node("Scan", ["xa", "xb"], ["ys"], body=body, num_scan_inputs=2)
    model = make_model([node], [("xa", np.float32, [3, 2]), ("xb", np.float32, [4, 2])], [("ys", np.float32, None)])
    with pytest.raises(loadrun.ModelError):
        loadrun.load(model)


def test_scan_bad_direction_is_model_error():
    model, _ = scan_model((4, 3), in_dirs=[2])
    with pytest.raises(loadrun.ModelError):
        loadrun.load(model)


def test_scan8_sequence_lens_unsupported():
    body = graph([helper.make_node("Add", ["s", "xt"], ["s_out"])], "body", [vi("s", F, [2]), vi("xt", F, [2])],
                 [vi("s_out", F, [2])])
    node = helper.make_node("Scan", ["lens", "s0", "x"], ["s_final"], body=body, num_scan_inputs=1)
    model = make_model([node], [("lens", np.int64, [1]), ("s0", np.float32, [1, 2]), ("x", np.float32, [1, 3, 2])],
                       [("s_final", np.float32, None)], opset=8)
    with pytest.raises(loadrun.UnsupportedError):
        loadrun.load(model)


def test_scan8_batched_reverse():
    body = graph([helper.make_node("Add", ["s", "xt"], ["s_out"]), helper.make_node("Identity", ["s_out"], ["y"])],
                 "body", [vi("s", F, [2]), vi("xt", F, [2])], [vi("s_out", F, [2]), vi("y", F, [2])])
    node = helper.make_node("Scan", ["", "s0", "x"], ["s_final", "ys"], body=body, num_scan_inputs=1,
                            directions=[1])
    model = make_model([node], [("s0", np.float32, [3, 2]), ("x", np.float32, [3, 4, 2])],
                       [("s_final", np.float32, None), ("ys", np.float32, None)], opset=8)
    feeds = {"s0": rng.standard_normal((3, 2)).astype(np.float32), "x": rng.standard_normal((3, 4, 2)).astype(np.float32)}
    check_model(model, feeds)
