"""Weight preprocessing by default, and freeing the originals.

A Network transforms constant weights once for the algorithm each step runs
(GEMM operands packed, Winograd filters transformed) unless
weight_preprocess=False / --no-weight-preprocess; the originals that only
preprocessed steps read are then freed (free_weights), and those steps keep
their algorithm and prepared form for later input shapes. Every result is
compared with a Network that keeps its weights as loaded (tolerances as
tests/test_kernels_conv.py: 1e-5/1e-4 for GEMM algorithms, 3e-4/3e-3 for
WINOGRAD_F63), and the bytes --model-info reports are checked against the
weights' sizes.
"""
import numpy as np
import pytest
from onnx import helper

import loadrun
from onnx_ref import assert_close_elementwise, make_model

rng = np.random.default_rng(11)


def r(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def two_convs(x_shape, c=16, batch="N"):
    """x -> 3x3 Conv (Winograd-sized) -> Relu -> 1x1 Conv -> y; the batch dim
    symbolic ("N") or fixed."""
    w1, w2 = r(c, x_shape[1], 3, 3), r(8, c, 1, 1)
    nodes = [helper.make_node("Conv", ["x", "w1"], ["a"], pads=[1, 1, 1, 1], name="c1"),
             helper.make_node("Relu", ["a"], ["b"], name="relu"),
             helper.make_node("Conv", ["b", "w2"], ["y"], name="c2")]
    shape = [batch] + list(x_shape[1:])
    model = make_model(nodes, [("x", np.float32, shape)], [("y", np.float32, None)], [("w1", w1), ("w2", w2)])
    return model, w1.nbytes, w2.nbytes


def run(net, x):
    return net.run({"x": x})["y"]


def prepared(net):
    return {s[0]: (s[1], s[5]) for s in net.steps() if s[0].endswith("{Conv}")}


def test_default_prepares_and_frees_the_originals():
    """Static input shapes: every prepared constant is freed."""
    model, b1, b2 = two_convs((1, 16, 24, 24), batch=1)
    wbytes = b1 + b2
    x = r(1, 16, 24, 24)
    net = loadrun.load(model, {"x": [1, 16, 24, 24]})
    steps = prepared(net)
    assert all(p for _, p in steps.values()), steps
    assert steps["c1{Conv}"][0] == "WINOGRAD_F63"  # the heuristic may now choose Winograd
    m = net._core.memory_info()
    assert m["weight_bytes"] == wbytes and m["freed_weight_bytes"] == wbytes
    assert m["prepared_weight_bytes"] > wbytes  # Winograd's 8x8 filters outweigh the 3x3 ones
    kept = loadrun.load(model, {"x": [1, 16, 24, 24]}, weight_preprocess=False)
    assert not any(p for _, p in prepared(kept).values())
    mk = kept._core.memory_info()
    assert mk["freed_weight_bytes"] == 0 and mk["prepared_weight_bytes"] == 0
    assert_close_elementwise(run(net, x), run(kept, x), 3e-4, 3e-3, "default vs kept")


def test_free_weights_off_keeps_the_originals():
    model, _, _ = two_convs((1, 16, 24, 24), batch=1)
    net = loadrun.load(model, {"x": [1, 16, 24, 24]}, free_weights=False)
    m = net._core.memory_info()
    assert all(p for _, p in prepared(net).values())
    assert m["freed_weight_bytes"] == 0 and m["prepared_weight_bytes"] > 0


def test_symbolic_batch_frees_and_keeps_the_prepared_forms():
    """A symbolic batch: Winograd's filters (a form of the weights alone) and
    the 1x1 conv's packing (which can give the weights back) are freed;
    later batches run with the same algorithms."""
    model, b1, b2 = two_convs((1, 16, 24, 24))
    net = loadrun.load(model, {"x": [1, 16, 24, 24]})
    algos = prepared(net)
    assert algos == {"c1{Conv}": ("WINOGRAD_F63", True), "c2{Conv}": ("CONV1x1_GEMM", True)}
    assert net._core.memory_info()["freed_weight_bytes"] == b1 + b2
    kept = loadrun.load(model, {"x": [1, 16, 24, 24]}, weight_preprocess=False)
    for n in (3, 1, 2):
        x = r(n, 16, 24, 24)
        assert_close_elementwise(run(net, x), run(kept, x), 3e-4, 3e-3, f"batch {n}")
        assert prepared(net) == algos
    assert net.num_plans >= 2


@pytest.mark.parametrize("algo", ["CONV1x1_GEMM", "IM2COL_GEMM"])
@pytest.mark.parametrize("first", [8, 32])
def test_a_shape_needing_the_original_rebuilds_it(algo, first):
    """<= 256 output positions pack a conv's weights transposed, more not: a
    freed original is rebuilt bit for bit from the packing when a later size
    needs the other one (and the rebuilt weights are then kept)."""
    w = r(24, 32, 1, 1)
    model = make_model([helper.make_node("Conv", ["x", "w"], ["y"], name="c")],
                       [("x", np.float32, [1, 32, "H", "W"])], [("y", np.float32, None)], [("w", w)])
    net = loadrun.load(model, {"x": [1, 32, first, first]}, algo=algo)
    keep = loadrun.load(model, {"x": [1, 32, first, first]}, algo=algo, free_weights=False)
    assert prepared(net)["c{Conv}"] == (algo, True)
    assert net.steps()[0][2][1] == "{24(32),32(1),1(1),1(1) Float32}"  # its layout, though freed
    assert net._core.memory_info()["freed_weight_bytes"] == w.nbytes
    for hw in (first, 40 - first, first, 13):
        x = r(1, 32, hw, hw)
        got = run(net, x)
        np.testing.assert_array_equal(got, run(keep, x))  # the same packing from the same weights
        want = np.einsum("oc,nchw->nohw", w[:, :, 0, 0], x)
        assert_close_elementwise(got, want, 1e-5, 1e-4, f"{hw}x{hw}")
    assert net._core.memory_info()["freed_weight_bytes"] == 0  # rebuilt at the second size


def test_fixed_sizes_free_every_packing():
    w = r(8, 32, 1, 1)
    static = make_model([helper.make_node("Conv", ["x", "w"], ["y"], name="c")],
                        [("x", np.float32, [1, 32, 8, 8])], [("y", np.float32, None)], [("w", w)])
    net = loadrun.load(static)
    assert net._core.memory_info()["freed_weight_bytes"] == w.nbytes
    x = r(1, 32, 8, 8)
    assert_close_elementwise(run(net, x), np.einsum("oc,nchw->nohw", w[:, :, 0, 0], x), 1e-5, 1e-4, "static")


def test_a_graph_held_elsewhere_keeps_its_weights():
    """Two Networks on one imported graph: the first frees its own copy's
    references only; the second still has every weight."""
    from loadrun.onnx import import_model

    model, b1, b2 = two_convs((1, 16, 24, 24), batch=1)
    wbytes = b1 + b2
    imported = import_model(model)
    x = r(1, 16, 24, 24)
    a = loadrun.Network(imported, {"x": [1, 16, 24, 24]})
    b = loadrun.Network(imported, {"x": [1, 16, 24, 24]}, weight_preprocess=False)
    assert a._core.memory_info()["freed_weight_bytes"] == wbytes
    assert_close_elementwise(run(a, x), run(b, x), 3e-4, 3e-3, "shared graph")


def test_winograd_filters_are_shared_by_the_threads_without_preprocessing():
    """Unprepared Winograd transforms its filters into scratch once per call,
    shared by the threads: a second thread adds one band's scratch, not
    another copy of U (64 floats per filter)."""
    c = 128
    w = r(c, c, 3, 3)
    model = make_model([helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1], name="c")],
                       [("x", np.float32, [1, c, 24, 24])], [("y", np.float32, None)], [("w", w)])
    x = r(1, c, 24, 24)
    ref = loadrun.load(model, algo="NAIVE").run({"x": x})["y"]
    ws = {}
    for t in (1, 2):
        net = loadrun.load(model, algo="WINOGRAD_F63", weight_preprocess=False, threads=t)
        assert prepared(net)["c{Conv}"] == ("WINOGRAD_F63", False)
        assert_close_elementwise(run(net, x), ref, 3e-4, 3e-3, f"{t} threads")
        ws[t] = net._core.memory_info()["workspace_bytes"]
    u_bytes = 64 * c * c * 4
    assert ws[1] >= u_bytes
    assert ws[2] - ws[1] < u_bytes


def run_cli(capsys, *argv):
    from loadrun.cli.main import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_model_info_reports_bytes_before_and_after(tmp_path, capsys):
    model, _, _ = two_convs((1, 16, 24, 24), batch=1)
    path = str(tmp_path / "m.onnx")
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    code, out, err = run_cli(capsys, path, "--model-info", "--iter", "1", "--verbose")
    assert code == 0, err
    assert f"weights as loaded" in out and "weights after preprocessing" in out
    assert "algo=WINOGRAD_F63" in out + err
    code, out, err = run_cli(capsys, path, "--model-info", "--iter", "1", "--verbose", "--no-weight-preprocess")
    assert code == 0, err
    assert "algo=WINOGRAD_F63" not in out + err  # unprepared Winograd is passed over
    code, out, err = run_cli(capsys, path, "--weight-preprocess", "--no-weight-preprocess")
    assert code != 0 and "contradict" in err and "Traceback" not in err


@pytest.mark.parametrize("first", [8, 20])
def test_rebuilt_grouped_3x3_weights_are_exact(first):
    """IM2COL_GEMM with groups and k = 8*9 = 72 (two blocks of the rebuild's
    64 identity columns): the rebuilt weights give the kept ones' bits."""
    w = r(12, 8, 3, 3)
    model = make_model([helper.make_node("Conv", ["x", "w"], ["y"], name="c", group=2, pads=[1, 1, 1, 1])],
                       [("x", np.float32, [1, 16, "H", "W"])], [("y", np.float32, None)], [("w", w)])
    net = loadrun.load(model, {"x": [1, 16, first, first]}, algo="IM2COL_GEMM")
    keep = loadrun.load(model, {"x": [1, 16, first, first]}, algo="IM2COL_GEMM", free_weights=False)
    naive = loadrun.load(model, {"x": [1, 16, first, first]}, algo="NAIVE")
    assert net._core.memory_info()["freed_weight_bytes"] == w.nbytes
    for hw in (first, 28 - first, 5):
        x = r(1, 16, hw, hw)
        got = run(net, x)
        np.testing.assert_array_equal(got, run(keep, x))
        assert_close_elementwise(got, run(naive, x), 1e-5, 1e-4, f"{hw}x{hw}")
