"""load_and_run's device and thread flags (issue 12): --cpu, --cpu-default,
--multithread, --multithread-default, --multi-thread-core-ids (precedence,
conflicts and bad core ids: one line, exit 2), --thread N (copies compared;
a non-deterministic operator is caught), --check-dispatch."""
import os
import threading

import numpy as np
import pytest
from onnx import TensorProto, helper, save

from cli_models import relu_model
from loadrun import _core
from loadrun.cli import options_device
from loadrun.cli.argv import UsageError
from loadrun.cli.main import main, parse_args

_core._register_runtime_test_ops()

CORES = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def runtime_model(path, ops, shape=(2, 64)):
    """x -> ops... -> y, test.runtime ops by name, others from ONNX."""
    nodes, prev = [], "x"
    for i, op in enumerate(ops):
        out = "y" if i == len(ops) - 1 else f"t{i}"
        domain = "" if op == "Relu" else "test.runtime"
        nodes.append(helper.make_node(op, [prev], [out], name=f"{op.lower()}{i}", domain=domain))
        prev = out
    g = helper.make_graph(nodes, "threads", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(shape))])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("test.runtime", 1)],
                          ir_version=8)
    save(m, str(path))
    return str(path)


@pytest.fixture
def model(tmp_path):
    return relu_model(tmp_path / "relu.onnx")


# -- parsing: each flag, the precedence, the conflicts ----------------------------
@pytest.mark.parametrize("argv, mode, threads, on_thread", [
    ([], "default", 1, False),
    (["--cpu"], "cpu", 1, True),
    (["--cpu-default"], "cpu_default", 1, False),
    (["--multithread", "2"], "multithread", 2, True),
    (["--multithread-default", "3"], "multithread_default", 3, False),
    (["--multithread=-1"], "default", 1, False),  # -1 is the reference's "off"
])
def test_each_flag(model, argv, mode, threads, on_thread):
    opts = parse_args([model] + argv)
    assert (opts.device, opts.threads, opts.dispatch_thread) == (mode, threads, on_thread)
    assert options_device.network_kwargs(opts) == {"threads": threads, "core_ids": None}


@pytest.mark.parametrize("argv, mode, threads", [
    # the last in the fixed order cpu, cpu-default, multithread, multithread-default wins,
    # whatever the command-line order
    (["--cpu-default", "--cpu"], "cpu_default", 1),
    (["--multithread", "2", "--cpu"], "multithread", 2),
    (["--cpu", "--multithread", "2", "--cpu-default"], "multithread", 2),
    (["--multithread-default", "2", "--cpu-default", "--cpu"], "multithread_default", 2),
])
def test_precedence_is_the_fixed_order(model, capsys, argv, mode, threads):
    opts = parse_args([model] + argv)
    assert (opts.device, opts.threads) == (mode, threads)
    err = capsys.readouterr().err
    assert f"overridden by --{mode.replace('_', '-')}" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("argv, message", [
    (["--multithread", "2", "--multithread-default", "2"],
     "--multithread and --multithread-default cannot be used together"),
    (["--multithread", "0"], "--multithread takes a thread count >= 1 (or -1: off), got 0"),
    (["--multithread-default", "-3"], "--multithread-default takes a thread count >= 1 (or -1: off), got -3"),
    (["--multithread", "two"], "--multithread"),
    (["--multi-thread-core-ids", "0"], "--multi-thread-core-ids needs --multithread N or --multithread-default N"),
    (["--cpu", "--multi-thread-core-ids", "0"], "--multi-thread-core-ids needs --multithread"),
    (["--multithread", "2", "--multi-thread-core-ids", "0"],
     "--multi-thread-core-ids: 1 core ids given for --multithread 2 (one per thread)"),
    (["--multithread-default", "1", "--multi-thread-core-ids", "0,0"],
     "--multi-thread-core-ids: 2 core ids given for --multithread-default 1"),
    (["--multithread", "2", "--multi-thread-core-ids", "0,x"], "--multi-thread-core-ids: 'x' is not a core number"),
    (["--multithread", "2", "--multi-thread-core-ids", "0,-1"], "'-1' is not a core number"),
    (["--multithread", "3", "--multi-thread-core-ids", "0,,1"], "'' is not a core number"),
    (["--multithread", "2", "--multi-thread-core-ids", "0,100000"],
     "--multi-thread-core-ids: core 100000 does not exist or is not available to this process (available: "),
    (["--thread", "0"], "--thread takes a number of copies >= 1, got 0"),
    (["--thread", "-2"], "--thread takes a number of copies >= 1, got -2"),
    (["--cuda"], "--cuda is not supported yet"),
])
def test_conflicts_and_bad_values_exit_2_with_one_line(capsys, model, argv, message):
    code, out, err = run_cli(capsys, model, *argv)
    assert code == 2
    assert out == []
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("load_and_run: error: ") and message in lines[0], err
    with pytest.raises(UsageError):
        parse_args([model] + argv)


def test_core_ids_accepted(model):
    ids = [CORES[0], CORES[-1]]
    opts = parse_args([model, "--multithread-default", "2", "--multi-thread-core-ids", f" {ids[0]}, {ids[1]} "])
    assert opts.core_ids == ids
    assert options_device.network_kwargs(opts) == {"threads": 2, "core_ids": ids}


# -- runs ---------------------------------------------------------------------------
def test_runs_on_the_dispatch_thread_and_the_pool(capsys, tmp_path):
    """--cpu / --multithread: a thread of their own runs the kernels; --cpu-default
    and --multithread-default run them on the caller. A step callback records
    the thread each step ran on."""
    path = runtime_model(tmp_path / "m.onnx", ["Scale2", "ParScale2"])
    seen = {}
    real = options_device.DispatchCheck

    class Spy(real):
        def __init__(self, net):
            super().__init__(net)
            seen["threads"] = net._core.num_threads
            net.add_step_callback(lambda *a: seen.setdefault("ran_on", set()).add(threading.get_ident()))

    options_device.DispatchCheck = Spy
    try:
        for argv, threads, on_caller in ((["--cpu"], 1, False), (["--cpu-default"], 1, True),
                                         (["--multithread", "2"], 2, False),
                                         (["--multithread-default", "2"], 2, True)):
            seen.clear()
            code, out, err = run_cli(capsys, path, "--iter", "2", "--check-dispatch", *argv)
            assert code == 0, err
            assert seen["threads"] == threads
            assert (seen["ran_on"] == {threading.get_ident()}) == on_caller, argv
            assert len(seen["ran_on"]) == 1
    finally:
        options_device.DispatchCheck = real


@pytest.mark.skipif(len(CORES) < 1, reason="no thread affinity here")
def test_multithread_with_core_ids_runs(capsys, model):
    # the dispatch thread is pinned (to the last id), never the caller's own thread
    before = os.sched_getaffinity(0)
    code, out, err = run_cli(capsys, model, "--iter", "2", "--multithread", "2",
                             "--multi-thread-core-ids", f"{CORES[-1]},{CORES[0]}")
    assert code == 0, err
    assert os.sched_getaffinity(0) == before
    assert any(line.startswith("=== finished test #0") for line in out)


def test_thread_copies_agree(capsys, tmp_path):
    path = runtime_model(tmp_path / "m.onnx", ["Scale2", "Relu", "ParScale2"])
    code, out, err = run_cli(capsys, path, "--thread", "4", "--iter", "3", "--multithread-default", "2")
    assert code == 0, err
    assert [line for line in out if line.startswith("=== thread ")] == \
        [f"=== thread {k}/4" for k in range(1, 5)] + ["=== thread check: 4 copies gave the same outputs (bit for bit)"]
    assert sum(line.startswith("=== finished test #0") for line in out) == 4


def test_thread_copies_agree_on_a_zoo_model(capsys):
    code, out, err = run_cli(capsys, "zoo:mlp", "--thread", "4", "--iter", "1", "--cpu")
    assert code == 0, err
    assert out[-1] == "=== thread check: 4 copies gave the same outputs (bit for bit)"


def test_thread_catches_a_non_deterministic_operator(capsys, tmp_path):
    path = runtime_model(tmp_path / "m.onnx", ["Scale2", "NonDet"])
    code, out, err = run_cli(capsys, path, "--thread", "4", "--iter", "2")
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 3  # copies 2, 3, 4 each differ from copy 1
    for k, line in zip((2, 3, 4), lines):
        assert line.startswith(f"load_and_run: error: --thread 4: copy {k}: output 'y' differs from the first "
                               f"copy's at 128 of 128 elements (max abs diff ")
    assert not any(line.startswith("=== thread check") for line in out)
    # one copy has nothing to compare with
    code, out, err = run_cli(capsys, path, "--thread", "1", "--iter", "2")
    assert code == 0, err


def test_thread_error_in_a_copy_is_one_line(capsys, tmp_path):
    code, out, err = run_cli(capsys, tmp_path / "missing.onnx", "--thread", "3")
    assert code == 1
    assert len(err.splitlines()) == 1 and err.startswith("load_and_run: error: ")


def test_differences_compares_every_kind():
    a = {"t": np.arange(4, dtype=np.float32), "s": [np.ones(2, np.int64)], "o": None}
    assert options_device.differences(a, a, tolerant=False) == []
    nan = {"t": np.array([np.nan, 1], np.float32)}
    assert options_device.differences(nan, nan, tolerant=False) == []
    b = {"t": a["t"] + np.float32(0.5), "s": [np.ones(2, np.int64)], "o": None}
    assert options_device.differences(b, a, tolerant=True) == \
        ["output 't' differs from the first copy's at 4 of 4 elements (max abs diff 0.5)"]
    near = {"t": a["t"] * np.float32(1 + 1e-6), "s": [np.ones(2, np.int64)], "o": None}
    assert options_device.differences(near, a, tolerant=True) == []
    assert len(options_device.differences(near, a, tolerant=False)) == 1
    c = {"t": a["t"][:2], "s": [np.zeros(2, np.int64)], "o": np.zeros(1)}
    assert options_device.differences(c, a, tolerant=True) == [
        "output 't' has shape [2], the first copy's [4]", "output 's' differs from the first copy's",
        "output 'o' differs from the first copy's"]


# -- --check-dispatch -------------------------------------------------------------------
def dispatch_lines(err):
    return [line for line in err.splitlines() if line.startswith("operator ")]


def test_check_dispatch_names_single_thread_operators(capsys, tmp_path):
    path = runtime_model(tmp_path / "m.onnx", ["Scale2", "ParScale2", "Scale2"])
    code, out, err = run_cli(capsys, path, "--iter", "3", "--multithread-default", "2", "--check-dispatch")
    assert code == 0, err
    # Scale2 runs on one thread; ParScale2 splits over both (reported once, after the first run)
    assert dispatch_lines(err) == ["operator scale20{Scale2} does not dispatch kernel on cpu0",
                                   "operator scale22{Scale2} does not dispatch kernel on cpu0"]
    assert "check-dispatch: 2 of 3 operators ran on one thread (cpu0, 2 threads)" in err.splitlines()
    # on one thread nothing dispatches
    code, out, err = run_cli(capsys, path, "--iter", "1", "--check-dispatch")
    assert code == 0, err
    assert len(dispatch_lines(err)) == 3
    assert "check-dispatch: 3 of 3 operators ran on one thread (cpu0, 1 thread)" in err.splitlines()
    # without the flag: nothing on stderr
    code, out, err = run_cli(capsys, path, "--iter", "1", "--multithread", "2")
    assert code == 0 and err == ""


def test_check_dispatch_after_a_fake_first_run(capsys, tmp_path):
    """--fake-first runs no kernel the first time: the report waits for a real run."""
    path = runtime_model(tmp_path / "m.onnx", ["ParScale2", "Scale2"])
    code, out, err = run_cli(capsys, path, "--iter", "2", "--multithread", "2", "--check-dispatch", "--fake-first",
                             "--record-comp-seq")
    assert code == 0, err
    assert dispatch_lines(err) == ["operator scale21{Scale2} does not dispatch kernel on cpu0"]
