"""Dynamic shapes against ONNX Runtime: inputs whose values decide shapes
(value-keyed plans), data-dependent ops inferred at run time (NonZero,
Compress, Unique, sizes computed from tensor contents), and one network run
in sequence with changing shapes and values, each run compared with ORT."""
import numpy as np
import pytest
from onnx import TensorProto, helper

import loadrun
from onnx_ref import assert_close, make_model, ort_run

rng = np.random.default_rng(0)
F, I64 = TensorProto.FLOAT, TensorProto.INT64


def fl(*shape):
    return np.asarray(rng.standard_normal(shape), dtype=np.float32)


def i64(*v):
    return np.array(v, dtype=np.int64)


def run_seq(model, feed_list, net=None):
    """Runs every feed dict through ONE network, in order, each against ORT;
    checks net.outputs reports the shapes of the run just done."""
    net = net or loadrun.load(model)
    for feeds in feed_list:
        ref = ort_run(model, feeds)
        got = net.run(feeds)
        assert set(got) == set(ref)
        for k in ref:
            assert_close(got[k], ref[k], name=k)
        shapes = {t.name: t.shape for t in net.outputs}
        for k in ref:
            assert shapes[k] == ref[k].shape, (k, shapes[k], ref[k].shape)
    return net


def one_node(op, ins, outs, opset=18, **attrs):
    """ins: [(name, np dtype, shape)]; outs: [(name, onnx type)]."""
    node = helper.make_node(op, [n for n, _, _ in ins], [n for n, _ in outs], **attrs)
    return make_model([node], ins, [(n, t, None) for n, t in outs], opset=opset)


def planned_shape(net, feeds):
    """Output 0's shape after binding `feeds` and before running."""
    net.set_inputs(feeds)
    return net.outputs[0].shape


# -- graph inputs whose values decide shapes: one plan per value ------------------


@pytest.mark.parametrize("keepdims", [0, 1])
def test_reduce_sum_axes_input(keepdims):
    m = one_node("ReduceSum", [("x", np.float32, [2, 3, 4]), ("axes", np.int64, [None])],
                 [("y", F)], keepdims=keepdims)
    x = fl(2, 3, 4)
    run_seq(m, [{"x": x, "axes": a} for a in (i64(1), i64(0, 2), i64(-1), i64(1), i64(0, 1, 2))])


@pytest.mark.parametrize("op", ["ReduceMax", "ReduceMean", "ReduceLogSumExp", "ReduceL2"])
def test_other_reduces_axes_input(op):
    m = one_node(op, [("x", np.float32, [3, 5]), ("axes", np.int64, [1])], [("y", F)])
    run_seq(m, [{"x": fl(3, 5), "axes": i64(a)} for a in (0, 1, -2)])


def test_keyed_plan_is_static_before_the_run():
    m = one_node("ReduceSum", [("x", np.float32, [2, 3, 4]), ("axes", np.int64, [1])],
                 [("y", F)], keepdims=0)
    net = loadrun.load(m)
    x = fl(2, 3, 4)
    assert planned_shape(net, {"x": x, "axes": i64(1)}) == (2, 4)
    assert planned_shape(net, {"x": x, "axes": i64(0)}) == (3, 4)
    assert all(s[1] != "(run time)" for s in net.steps())  # chosen at compile time
    np.testing.assert_allclose(net.run({"x": x, "axes": i64(2)})["y"], x.sum(axis=2), rtol=1e-5)
    assert net.outputs[0].shape == (2, 3)


@pytest.mark.parametrize("mode", ["constant", "reflect", "edge"])
def test_pad_pads_input(mode):
    m = one_node("Pad", [("x", np.float32, [3, 4]), ("pads", np.int64, [4])], [("y", F)], mode=mode)
    x = fl(3, 4)
    run_seq(m, [{"x": x, "pads": p} for p in (i64(0, 1, 2, 0), i64(1, 1, 1, 1), i64(0, 0, 0, 0),
                                              i64(0, -1, 1, 2), i64(2, 0, 0, 3))])


def test_pad_pads_value_and_axes_inputs():
    node = helper.make_node("Pad", ["x", "pads", "v", "axes"], ["y"])
    m = make_model([node], [("x", np.float32, [2, 3, 4]), ("pads", np.int64, [2]),
                            ("v", np.float32, []), ("axes", np.int64, [1])], [("y", F, None)], opset=18)
    x = fl(2, 3, 4)
    run_seq(m, [{"x": x, "pads": i64(1, 2), "v": np.array(v, np.float32), "axes": i64(a)}
                for v, a in ((0.5, 1), (-2.0, -1), (3.0, 0))])


def test_reshape_shape_input():
    m = one_node("Reshape", [("x", np.float32, [2, 3, 4]), ("s", np.int64, [None])], [("y", F)])
    x = fl(2, 3, 4)
    run_seq(m, [{"x": x, "s": s} for s in (i64(6, 4), i64(-1, 2), i64(0, 12), i64(24), i64(2, 3, 2, 2),
                                           i64(6, 4))])


def test_reshape_shape_from_input_arithmetic():
    """shape = s * 2 (int64 arithmetic on a graph input) folds once s is known."""
    nodes = [helper.make_node("Mul", ["s", "two"], ["s2"]),
             helper.make_node("Reshape", ["x", "s2"], ["y"])]
    m = make_model(nodes, [("x", np.float32, [4, 6]), ("s", np.int64, [2])], [("y", F, None)],
                   [("two", i64(2))])
    x = fl(4, 6)
    net = run_seq(m, [{"x": x, "s": s} for s in (i64(1, 6), i64(3, 2), i64(6, 1))])
    assert planned_shape(net, {"x": x, "s": i64(2, 3)}) == (4, 6)


def test_keyed_input_also_read_as_data():
    """The shape input also feeds arithmetic whose result is an output."""
    nodes = [helper.make_node("Reshape", ["x", "s"], ["y"]),
             helper.make_node("Cast", ["s"], ["sf"], to=F),
             helper.make_node("ReduceSum", ["sf"], ["total"], keepdims=0)]
    m = make_model(nodes, [("x", np.float32, [2, 6]), ("s", np.int64, [2])],
                   [("y", F, None), ("total", F, None)], opset=13)
    run_seq(m, [{"x": fl(2, 6), "s": s} for s in (i64(3, 4), i64(12, 1), i64(3, 4))])


def test_slice_inputs():
    names = ["x", "starts", "ends", "axes", "steps"]
    node = helper.make_node("Slice", names, ["y"])
    m = make_model([node], [("x", np.float32, [5, 6])] + [(n, np.int64, [None]) for n in names[1:]],
                   [("y", F, None)])
    x = fl(5, 6)
    cases = [((1,), (4,), (0,), (1,)), ((0, 5), (3, 1), (0, 1), (1, -2)), ((-1,), (-100,), (1,), (-1,)),
             ((2, 0), (2, 9), (0, 1), (1, 3))]
    run_seq(m, [dict(zip(names, [x] + [i64(*v) for v in c])) for c in cases])


def test_expand_tile_constant_of_shape_inputs():
    nodes = [helper.make_node("Expand", ["x", "shape"], ["e"]),
             helper.make_node("Tile", ["x", "reps"], ["t"]),
             helper.make_node("ConstantOfShape", ["cshape"], ["c"],
                              value=helper.make_tensor("v", F, [1], [1.5]))]
    m = make_model(nodes, [("x", np.float32, [3, 1]), ("shape", np.int64, [None]), ("reps", np.int64, [2]),
                           ("cshape", np.int64, [None])],
                   [("e", F, None), ("t", F, None), ("c", F, None)])
    x = fl(3, 1)
    run_seq(m, [{"x": x, "shape": i64(*s), "reps": i64(*r), "cshape": i64(*c)}
                for s, r, c in (((3, 4), (1, 2), (2, 2)), ((2, 1, 5), (3, 1), (0,)), ((1,), (1, 1), ()))])


@pytest.mark.parametrize("dt", [np.int64, np.int32, np.float32])
def test_range_inputs(dt):
    m = one_node("Range", [("s", dt, []), ("l", dt, []), ("d", dt, [])],
                 [("y", helper.np_dtype_to_tensor_dtype(np.dtype(dt)))], opset=11)
    run_seq(m, [{"s": np.array(a, dt), "l": np.array(b, dt), "d": np.array(c, dt)}
                for a, b, c in ((0, 5, 1), (10, 1, -3), (2, 2, 1), (-4, 7, 2))])


def test_split_unsqueeze_squeeze_inputs():
    nodes = [helper.make_node("Split", ["x", "sizes"], ["a", "b"], axis=1),
             helper.make_node("Unsqueeze", ["a", "ua"], ["ua_out"]),
             helper.make_node("Squeeze", ["b", "sa"], ["sq"])]
    m = make_model(nodes, [("x", np.float32, [1, 6]), ("sizes", np.int64, [2]), ("ua", np.int64, [1]),
                           ("sa", np.int64, [1])],
                   [("ua_out", F, None), ("sq", F, None)], opset=13)
    x = fl(1, 6)
    run_seq(m, [{"x": x, "sizes": i64(*s), "ua": i64(u), "sa": i64(0)}
                for s, u in (((2, 4), 0), ((5, 1), -1), ((3, 3), 1))])


def test_key_grows_behind_a_keyed_node():
    """Slice reads y = Reshape(x, s): its starts are only wanted once s is known."""
    nodes = [helper.make_node("Reshape", ["x", "s"], ["y"]),
             helper.make_node("Slice", ["y", "st", "en"], ["z"])]
    m = make_model(nodes, [("x", np.float32, [4, 6]), ("s", np.int64, [2]), ("st", np.int64, [1]),
                           ("en", np.int64, [1])], [("z", F, None)])
    x = fl(4, 6)
    feeds = [{"x": x, "s": i64(*s), "st": i64(a), "en": i64(b)}
             for s, a, b in (((6, 4), 1, 3), ((6, 4), 0, 6), ((3, 8), 1, 2), ((6, 4), 1, 3))]
    net = run_seq(m, feeds)
    assert planned_shape(net, {"x": x, "s": i64(2, 12), "st": i64(0), "en": i64(1)}) == (1, 12)


# -- data-dependent shapes: inferred at run time ---------------------------------


def test_resize_scales_input():
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="linear")
    m = make_model([node], [("x", np.float32, [1, 2, 4, 5]), ("scales", np.float32, [4])], [("y", F, None)],
                   opset=13)
    x = fl(1, 2, 4, 5)
    run_seq(m, [{"x": x, "scales": np.array(s, np.float32)}
                for s in ((1, 1, 2, 2), (1, 1, 0.5, 1.5), (1, 1, 3, 1), (1, 1, 2, 2))])


def test_resize_sizes_input():
    node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="nearest")
    m = make_model([node], [("x", np.float32, [1, 1, 3, 4]), ("sizes", np.int64, [4])], [("y", F, None)],
                   opset=13)
    x = fl(1, 1, 3, 4)
    run_seq(m, [{"x": x, "sizes": i64(*s)} for s in ((1, 1, 6, 8), (1, 1, 2, 3), (1, 1, 3, 4))])


def test_resize_sizes_computed_in_graph():
    """sizes = Concat(Shape(x)[:2], Cast(Shape(x)[2:] * f)): f is a float input."""
    nodes = [
        helper.make_node("Shape", ["x"], ["shp"]),
        helper.make_node("Slice", ["shp", "c0", "c2"], ["nc"]),
        helper.make_node("Slice", ["shp", "c2", "c4"], ["hw"]),
        helper.make_node("Cast", ["hw"], ["hwf"], to=F),
        helper.make_node("Mul", ["hwf", "f"], ["hwf2"]),
        helper.make_node("Floor", ["hwf2"], ["hwf3"]),
        helper.make_node("Cast", ["hwf3"], ["hw2"], to=I64),
        helper.make_node("Concat", ["nc", "hw2"], ["sizes"], axis=0),
        helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="linear"),
        helper.make_node("Relu", ["y"], ["z"]),
    ]
    m = make_model(nodes, [("x", np.float32, ["n", 2, "h", "w"]), ("f", np.float32, [1])], [("z", F, None)],
                   [("c0", i64(0)), ("c2", i64(2)), ("c4", i64(4))], opset=13)
    feeds = [{"x": fl(*s), "f": np.array([f], np.float32)}
             for s, f in (((1, 2, 4, 4), 2.0), ((1, 2, 4, 4), 1.5), ((2, 2, 3, 5), 2.0), ((1, 2, 4, 4), 2.0))]
    net = loadrun.load(m, {"x": [1, 2, 4, 4]})
    assert net.outputs[0].shape == (-1,)  # not known before a run
    run_seq(m, feeds, net)


def test_sizes_from_tensor_contents():
    """The target length is the max of a (large) int tensor: a run-time value."""
    nodes = [helper.make_node("ReduceMax", ["n"], ["m"], keepdims=1),
             helper.make_node("ConstantOfShape", ["m"], ["c"], value=helper.make_tensor("v", F, [1], [2.0])),
             helper.make_node("Mul", ["c", "s"], ["y"])]
    m = make_model(nodes, [("n", np.int64, [100]), ("s", np.float32, [1])], [("y", F, None)], opset=13)
    feeds = []
    for top in (3, 7, 0, 3):
        n = rng.integers(0, top + 1, size=100)
        n[17] = top
        feeds.append({"n": n.astype(np.int64), "s": np.array([0.5], np.float32)})
    run_seq(m, feeds)


def nonzero_gather_model():
    """x (1-D) -> NonZero -> Squeeze -> Gather(x) -> Mul 2, and NonZero's count via Shape."""
    nodes = [
        helper.make_node("NonZero", ["x"], ["nz"]),
        helper.make_node("Squeeze", ["nz", "a0"], ["idx"]),
        helper.make_node("Gather", ["x", "idx"], ["vals"], axis=0),
        helper.make_node("Mul", ["vals", "two"], ["y"]),
        helper.make_node("Shape", ["idx"], ["count"]),
    ]
    return make_model(nodes, [("x", np.float32, ["n"])], [("y", F, None), ("count", I64, None), ("nz", I64, None)],
                      [("a0", i64(0)), ("two", np.array(2, np.float32))], opset=13)


def test_nonzero_gather_chain():
    m = nonzero_gather_model()
    xs = [np.array([0, 1.5, 0, -2, 3], np.float32), np.array([0, 0, 0], np.float32),
          np.array([4, 0, 0, 0, 0, 0, 7, 1], np.float32), np.array([np.nan, 0, 1], np.float32),
          np.array([0, 1.5, 0, -2, 3], np.float32)]
    run_seq(m, [{"x": x} for x in xs])


@pytest.mark.parametrize("dt", [np.float32, np.int64, np.bool_, np.uint8])
@pytest.mark.parametrize("shape", [(3, 4), (2, 1, 5), (7,), ()])
def test_nonzero(dt, shape):
    m = one_node("NonZero", [("x", dt, list(shape))], [("y", I64)], opset=13)
    xs = [(rng.random(shape) < p).astype(dt) * (np.asarray(rng.integers(1, 5, shape)).astype(dt) if dt != np.bool_ else 1)
          for p in (0.5, 0.0, 1.0)]
    run_seq(m, [{"x": np.asarray(x, dt)} for x in xs])


def test_nonzero_then_transpose_gathernd_free_chain():
    """NonZero -> Transpose -> ReduceSum -> Reshape with a run-time shape."""
    nodes = [
        helper.make_node("NonZero", ["x"], ["nz"]),
        helper.make_node("Transpose", ["nz"], ["t"], perm=[1, 0]),
        helper.make_node("Cast", ["t"], ["tf"], to=F),
        helper.make_node("ReduceSum", ["tf", "ax"], ["s"], keepdims=0),
        helper.make_node("Shape", ["s"], ["ss"]),
        helper.make_node("Reshape", ["s", "ss"], ["y"]),
    ]
    m = make_model(nodes, [("x", np.float32, [3, 4])], [("y", F, None)], [("ax", i64(1))], opset=13)
    run_seq(m, [{"x": (rng.random((3, 4)) < p).astype(np.float32)} for p in (0.5, 0.2, 0.9, 0.0)])


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_compress(axis):
    kw = {} if axis is None else {"axis": axis}
    m = one_node("Compress", [("x", np.float32, [3, 4]), ("c", np.bool_, [None])], [("y", F)], **kw)
    x = fl(3, 4)
    conds = [[True, False, True], [False, False, False], [True, True, True], [False, True], [True]]
    run_seq(m, [{"x": x, "c": np.array(c)} for c in conds])


def test_compress_int64_and_constant_condition_folds():
    node = helper.make_node("Compress", ["x", "c"], ["y"], axis=0)
    m = make_model([node], [("x", np.int64, [4, 2])], [("y", I64, None)],
                   [("c", np.array([True, False, False, True]))])
    x = rng.integers(-5, 5, (4, 2)).astype(np.int64)
    net = run_seq(m, [{"x": x}])
    assert planned_shape(net, {"x": x}) == (2, 2)


def test_compress_true_past_the_axis_is_an_error():
    m = one_node("Compress", [("x", np.float32, [2, 3]), ("c", np.bool_, [None])], [("y", F)], axis=0)
    net = loadrun.load(m)
    with pytest.raises(loadrun.ModelError, match="past the 2 entries"):
        net.run({"x": fl(2, 3), "c": np.array([True, False, True])})
    assert net.run({"x": fl(2, 3), "c": np.array([True, False, False])})["y"].shape == (1, 3)


UNIQUE_OUT = [("y", None), ("indices", I64), ("inverse", I64), ("counts", I64)]


@pytest.mark.parametrize("sorted_", [0, 1])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("dt", [np.float32, np.int64])
def test_unique_all_outputs(sorted_, axis, dt):
    kw = {} if axis is None else {"axis": axis}
    et = helper.np_dtype_to_tensor_dtype(np.dtype(dt))
    m = one_node("Unique", [("x", dt, [4, 3])], [(n, t or et) for n, t in UNIQUE_OUT], opset=11,
                 sorted=sorted_, **kw)
    xs = [np.array([[2, 1, 1], [3, 4, 3], [2, 1, 1], [0, 1, 0]]), np.zeros((4, 3)),
          np.array([[5, 5, 5], [1, 2, 3], [1, 2, 3], [5, 5, 5]]), np.arange(12).reshape(4, 3) % 5]
    run_seq(m, [{"x": np.asarray(x, dt)} for x in xs])


@pytest.mark.parametrize("n_out", [1, 2, 3])
def test_unique_fewer_outputs_and_3d_axis(n_out):
    m = one_node("Unique", [("x", np.float32, [2, 3, 2])], [(n, t or F) for n, t in UNIQUE_OUT[:n_out]],
                 opset=11, sorted=1, axis=1)
    x = np.array([[[1, 2], [1, 2], [0, 1]], [[3, 3], [3, 3], [3, 3]]], np.float32)
    run_seq(m, [{"x": x}, {"x": np.ones_like(x)}])


def test_unique_feeds_further_ops():
    """Unique's counts and values go on through arithmetic and a ReduceSum."""
    nodes = [helper.make_node("Unique", ["x"], ["u", "", "", "c"], sorted=1),
             helper.make_node("Cast", ["c"], ["cf"], to=F),
             helper.make_node("Mul", ["u", "cf"], ["w"]),
             helper.make_node("ReduceSum", ["w"], ["total"], keepdims=0)]
    m = make_model(nodes, [("x", np.float32, [None])], [("w", F, None), ("total", F, None)], opset=13)
    run_seq(m, [{"x": rng.integers(0, k, n).astype(np.float32)} for k, n in ((3, 10), (8, 5), (1, 4), (3, 10))])


# -- shapes changing between runs ---------------------------------------------


def test_shape_and_value_changes_between_runs():
    """Symbolic dims, a shape input and a data-dependent op in one graph, run
    with shapes and values changing in every order; each run against ORT."""
    nodes = [
        helper.make_node("Reshape", ["x", "s"], ["r"]),                 # keyed on s
        helper.make_node("ReduceSum", ["r", "ax"], ["rs"], keepdims=1),  # keyed on ax
        helper.make_node("Greater", ["rs", "zero"], ["pos"]),
        helper.make_node("NonZero", ["pos"], ["nz"]),                   # data-dependent
        helper.make_node("Shape", ["nz"], ["nzs"]),
        helper.make_node("Relu", ["rs"], ["y"]),
    ]
    m = make_model(nodes, [("x", np.float32, ["a", "b"]), ("s", np.int64, [None]), ("ax", np.int64, [1])],
                   [("y", F, None), ("nz", I64, None), ("nzs", I64, None)],
                   [("zero", np.array(0, np.float32))], opset=13)
    feeds = []
    for shape, s, ax in (((4, 6), (6, 4), 0), ((4, 6), (6, 4), 1), ((4, 6), (2, 12), 1), ((3, 5), (5, 3), 0),
                         ((4, 6), (6, 4), 0), ((2, 2), (1, 4), 1), ((3, 5), (15, 1), 0)):
        feeds.append({"x": fl(*shape), "s": i64(*s), "ax": i64(ax)})
    run_seq(m, feeds)


def test_static_model_plan_unchanged():
    """A model with static shapes compiles as before: its plan is known before any run."""
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Reshape", ["r", "s"], ["y"])]
    m = make_model(nodes, [("x", np.float32, [2, 6])], [("y", F, None)], [("s", i64(3, 4))])
    net = loadrun.load(m)
    assert net.outputs[0].shape == (3, 4)
    assert "(run time)" not in [s[1] for s in net.steps()] and len(net.steps()) == 2
    run_seq(m, [{"x": fl(2, 6)}], net)


def test_benchmark_and_outputs_after_dynamic_runs():
    m = nonzero_gather_model()
    net = loadrun.load(m, {"x": [6]})
    x = np.array([0, 1, 0, 2, 3, 0], np.float32)
    net.set_inputs({"x": x})
    t = net.benchmark(iters=3, warmup=1)
    assert len(t) == 3
    shapes = {o.name: o.shape for o in net.outputs}
    assert shapes == {"y": (3,), "count": (1,), "nz": (1, 3)}
    steps = net.steps()
    assert all(s[1] != "(run time)" for s in steps) and any(s[3] == ["{1(3),3(1) Int64}"] for s in steps)


def test_cli_reports_run_time_shapes(tmp_path, capsys):
    import json

    from loadrun.cli.main import main

    path = tmp_path / "nz.onnx"
    path.write_bytes(nonzero_gather_model().SerializeToString())
    js = tmp_path / "out.json"
    code = main([str(path), "--input", "x:[0,1,0,2,3,0,5]", "--iter", "2", "--json", str(js),
                 "--model-info", "--verbose"])
    out, err = capsys.readouterr()
    assert code == 0, err
    io = {d["name"]: d["shape"] for d in json.loads(js.read_text())["io"] if d["type"] == "OUTPUT"}
    assert io == {"y": [4], "count": [1], "nz": [1, 4]}
    assert "{1,4}" in out


# -- errors: a bad value is a one-line error, and the network still works ---------------


def test_bad_shape_values_are_errors():
    m = one_node("Reshape", [("x", np.float32, [2, 3]), ("s", np.int64, [2])], [("y", F)])
    net = loadrun.load(m)
    x = fl(2, 3)
    with pytest.raises(loadrun.ModelError, match="cannot reshape"):
        net.run({"x": x, "s": i64(4, 2)})
    with pytest.raises(loadrun.ModelError):
        net.run({"x": x, "s": i64(-1, -1)})
    assert net.run({"x": x, "s": i64(3, 2)})["y"].shape == (3, 2)
    with pytest.raises(loadrun.InputError, match="dtype"):
        net.run({"x": x, "s": np.array([3.5, 2.0])})


def test_bad_values_in_other_ops():
    m = one_node("Expand", [("x", np.float32, [3, 2]), ("s", np.int64, [2])], [("y", F)])
    with pytest.raises(loadrun.ModelError):
        loadrun.load(m).run({"x": fl(3, 2), "s": i64(4, 2)})
    m = one_node("ConstantOfShape", [("s", np.int64, [2])], [("y", F)])
    with pytest.raises(loadrun.ModelError, match="negative"):
        loadrun.load(m).run({"s": i64(2, -3)})
    with pytest.raises((loadrun.ModelError, loadrun.InputError)):
        loadrun.load(m).run({"s": i64(1 << 40, 1 << 40)})
    m = one_node("Range", [("s", np.int64, []), ("l", np.int64, []), ("d", np.int64, [])], [("y", I64)], opset=11)
    with pytest.raises(loadrun.ModelError, match="delta"):
        loadrun.load(m).run({"s": np.array(0), "l": np.array(3), "d": np.array(0)})


def test_run_time_error_then_recovery():
    """A data-dependent shape that does not fit fails at run time, with the node named."""
    nodes = [helper.make_node("NonZero", ["x"], ["nz"]),
             helper.make_node("Reshape", ["nz", "s"], ["y"])]
    m = make_model(nodes, [("x", np.float32, [4]), ("s", np.int64, [2])], [("y", I64, None)],
                   [("s", i64(2, -1))], opset=13)
    net = loadrun.load(m)
    with pytest.raises(loadrun.ModelError, match=r"Reshape.*cannot reshape"):
        net.run({"x": np.array([1, 0, 0, 0], np.float32)})
    run_seq(m, [{"x": np.array([1, 2, 4, 3], np.float32)}, {"x": np.array([0, 5, 2, 0], np.float32)},
                {"x": np.zeros(4, np.float32)}], net)
    with pytest.raises(loadrun.ModelError, match="cannot reshape"):
        net.run({"x": np.array([1, 0, 2, 3], np.float32)})


def test_huge_data_dependent_size_is_an_error():
    nodes = [helper.make_node("ReduceMax", ["n"], ["m"], keepdims=1),
             helper.make_node("Concat", ["m", "m", "m"], ["shape"], axis=0),
             helper.make_node("ConstantOfShape", ["shape"], ["c"])]
    m = make_model(nodes, [("n", np.int64, [100])], [("c", F, None)], opset=13)
    n = np.zeros(100, np.int64)
    n[3] = 1 << 30
    with pytest.raises(loadrun.InputError, match="too large"):
        loadrun.load(m).run({"n": n})


# -- ops of other families written the same way: TopK's k, NonMaxSuppression -------------


def test_topk_k_input_keyed_and_from_data():
    m = one_node("TopK", [("x", np.float32, [3, 7]), ("k", np.int64, [1])], [("v", F), ("i", I64)], opset=11)
    x = fl(3, 7)
    net = run_seq(m, [{"x": x, "k": i64(k)} for k in (3, 1, 7, 0, 3)])
    assert planned_shape(net, {"x": x, "k": i64(2)}) == (3, 2)
    # k = the number of positive entries of a large int tensor: known only at run time
    nodes = [helper.make_node("Greater", ["n", "zero"], ["pos"]),
             helper.make_node("Cast", ["pos"], ["posi"], to=I64),
             helper.make_node("ReduceSum", ["posi"], ["k"], keepdims=1),
             helper.make_node("TopK", ["x", "k"], ["v", "i"], largest=0)]
    m = make_model(nodes, [("x", np.float32, [2, 90]), ("n", np.int64, [90])], [("v", F, None), ("i", I64, None)],
                   [("zero", np.array(0, np.int64))], opset=11)
    run_seq(m, [{"x": fl(2, 90), "n": rng.integers(-5, 2, 90).astype(np.int64)} for _ in range(3)])


def test_nms_selection_feeds_gather():
    """NonMaxSuppression's selected count decides a Gather's output, run after run."""
    nodes = [helper.make_node("NonMaxSuppression", ["b", "s", "m", "iou"], ["sel"]),
             helper.make_node("Gather", ["sel", "two"], ["box_idx"], axis=1),
             helper.make_node("Squeeze", ["b", "zero"], ["b2"]),
             helper.make_node("Gather", ["b2", "box_idx"], ["chosen"], axis=0)]
    m = make_model(nodes, [("b", np.float32, [1, 8, 4]), ("s", np.float32, [1, 1, 8])], [("chosen", F, None)],
                   [("m", i64(5)), ("iou", np.array([0.3], np.float32)), ("two", np.array(2, np.int64)),
                    ("zero", i64(0))], opset=13)
    feeds = []
    for _ in range(4):
        xy = rng.uniform(0, 6, (1, 8, 2))
        feeds.append({"b": np.concatenate([xy, xy + rng.uniform(0.5, 4, (1, 8, 2))], -1).astype(np.float32),
                      "s": rng.uniform(0, 1, (1, 1, 8)).astype(np.float32)})
    run_seq(m, feeds)
