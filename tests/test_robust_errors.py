"""Clean errors everywhere: one line on stderr and a non-zero exit from the
CLI (a loadrun error from the API), never a traceback or a wrong result;
Ctrl-C stops a run between iterations, and iteration lines stream."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import loadrun
from cli_models import relu_model
from loadrun import InputError, ModelError
from loadrun.cli import main as lar
from test_robust_inputs import child_env, one_error_line, run_bounded

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def range_model(start, limit, delta, dtype=np.int64):
    inits = [numpy_helper.from_array(np.array(v, dtype=dtype), n)
             for n, v in (("start", start), ("limit", limit), ("delta", delta))]
    node = helper.make_node("Range", ["start", "limit", "delta"], ["y"], name="range")
    et = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    g = helper.make_graph([node], "g", [], [helper.make_tensor_value_info("y", et, None)], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


# -- Range --------------------------------------------------------------------------------
@pytest.mark.parametrize("start, limit, delta", [
    (-(2**62) * 2 + 5, 2**63 - 7, 2**62),      # limit - start overflows int64
    (2**63 - 1, -(2**63), -(2**61)),
    (-5, 2**63 - 1, 2**62 + 3),
])
def test_range_int64_count_is_exact(start, limit, delta):
    want = np.array(list(range(start, limit, delta)), dtype=np.int64)
    got = loadrun.load(range_model(start, limit, delta)).run({})["y"]
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("start, limit, delta, dtype", [
    (0, 1e30, 1, np.float32),
    (0, 2**62, 1, np.int64),
])
def test_range_absurd_size_is_a_clear_error(start, limit, delta, dtype):
    with pytest.raises(ModelError, match=r"Range: .* has \S+ elements, more than"):
        loadrun.load(range_model(start, limit, delta, dtype))


# -- whole messages, on one line --------------------------------------------------------------------
def test_error_message_printed_whole_on_one_line(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "m.onnx"
    bad.write_bytes(b"not a model")
    long_tail = "detail " * 40

    def fail(data):
        raise ValueError("first line\nsecond line " + long_tail + "\n\tthird line")

    monkeypatch.setattr(onnx, "load_model_from_string", fail)
    assert lar.main([str(bad)]) == 1
    err = capsys.readouterr().err
    one_error_line(err)
    assert "first line second line " + long_tail.strip() + " third line" in err


def test_npy_error_message_whole(tmp_path):
    f = tmp_path / "a.npy"
    f.write_bytes(b"\x93NUMPY\x01\x00" + (60).to_bytes(2, "little") + b"{'descr': '<f4', 'shape': (2,)}".ljust(59)
                  + b"\n" + bytes(8))
    with pytest.raises(InputError, match=r"not a valid .npy file \(Header does not contain the correct keys: "
                                         r"\['descr', 'shape'\]\)"):
        loadrun.inputs.parse_input_arg(f"data:{f}", [loadrun.TensorInfo("data", (2,), "float32")])


# -- hints, names, options ---------------------------------------------------------------------
def test_symbolic_dim_hint_is_quoted(tmp_path, capsys):
    model = relu_model(tmp_path / "m.onnx", shape=(1, "T"))
    assert lar.main([model]) == 1
    err = capsys.readouterr().err
    one_error_line(err)
    assert "--input 'data:{1,T}'" in err
    with pytest.raises(InputError, match=r"--input 'data:\{1,T\}'"):
        loadrun.load(model).benchmark(1, 0)


def test_readme_quotes_the_shape_payload():
    text = open(os.path.join(ROOT, "README.md")).read()
    assert "'x:{1,3,224,224}'" in text and "`x:{1,3,224,224}`" not in text


def test_unknown_algo_is_refused(tmp_path):
    model = relu_model(tmp_path / "m.onnx")
    with pytest.raises(InputError, match=r"algo='FOO' is not an algorithm of loadrun \(algorithms: .*NAIVE"):
        loadrun.load(model, algo="FOO")
    assert loadrun.load(model, algo="NAIVE").steps()[0][1] == "NAIVE"


def test_load_takes_zoo_names():
    net = loadrun.load("zoo:mlp")
    x = np.zeros((1, 1024), np.float32)
    assert list(net.run({net.inputs[0].name: x}).values())[0].shape[0] == 1
    with pytest.raises(ModelError, match="no zoo model named 'nope'"):
        loadrun.load("zoo:nope")


def test_huge_default_feed_is_one_line(tmp_path):
    model = relu_model(tmp_path / "m.onnx", shape=(1000000, 1000000, 1000000))
    code, _, err = run_bounded(model, "--iter", "1")
    assert code == 1
    one_error_line(err)
    assert "input 'data'" in err and "memory" in err


# -- pipes and Ctrl-C ---------------------------------------------------------------------------
CLI = "import sys; from loadrun.cli.main import main; sys.exit(main(sys.argv[1:]))"


def test_closed_pipe_exits_quietly(tmp_path):
    model = relu_model(tmp_path / "m.onnx")
    p = subprocess.Popen([sys.executable, "-c", CLI, model, "--iter", "2000"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=child_env())
    p.stdout.readline()
    p.stdout.close()  # as `| head -1` does
    err = p.stderr.read().decode()
    code = p.wait(timeout=120)
    assert err == "" and code == 128 + signal.SIGPIPE


def matmul_model(path):
    w = numpy_helper.from_array(np.ones((1024, 1024), np.float32), "w")
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [256, 1024])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [256, 1024])], [w])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))
    return str(path)


def test_iterations_stream_and_ctrl_c_stops_the_run(tmp_path):
    model = matmul_model(tmp_path / "mm.onnx")
    p = subprocess.Popen([sys.executable, "-c", CLI, model, "--iter", "1000000", "--warmup-iter", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env())
    try:
        iters, deadline = 0, time.monotonic() + 120
        while iters < 3:  # lines come as the runs end, not all at the end
            assert time.monotonic() < deadline, "no iteration line within 120 s"
            line = p.stdout.readline().decode()
            assert line, p.stderr.read().decode()
            iters += line.startswith("iter ")
        p.send_signal(signal.SIGINT)
        code = p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    err = p.stderr.read().decode()
    assert code == 130
    assert err == "load_and_run: error: interrupted\n"


# -- allocations in the core ---------------------------------------------------------------------
def huge_constant_model(path):
    """y = ConstantOfShape([2^20, 2^20]): a 4 TiB float32 output."""
    shape = numpy_helper.from_array(np.array([1 << 20, 1 << 20], np.int64), "shape")
    node = helper.make_node("ConstantOfShape", ["shape"], ["y"], name="cos")
    g = helper.make_graph([node], "g", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [shape])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))
    return str(path)


def test_core_allocation_failure_is_a_resource_error(tmp_path):
    model = huge_constant_model(tmp_path / "big.onnx")
    code, _, err = run_bounded(model, "--iter", "1")
    assert code == 1
    one_error_line(err)
    assert "more than this machine's memory" in err and "InternalError" not in err
    code = ("import loadrun, sys\n"
            "try:\n    loadrun.load(sys.argv[1])\n"
            "except loadrun.ResourceError as e:\n    print('resource', isinstance(e, MemoryError))\n")
    p = subprocess.run([sys.executable, "-c", code, model], capture_output=True, text=True, env=child_env(),
                       timeout=120)
    assert p.stdout == "resource True\n", p.stderr


@pytest.mark.parametrize("argv", [["--help"], ["zoo", "list"]])
def test_closed_pipe_on_help_and_tools(argv):
    tool = "loadrun.cli.tools" if argv[0] == "zoo" else "loadrun.cli.main"
    code = f"import sys; from {tool} import main; sys.exit(main(sys.argv[1:]))"
    r, w = os.pipe()
    os.close(r)  # nobody reads: the first write fails with EPIPE
    p = subprocess.run([sys.executable, "-c", code, *argv], stdout=w, stderr=subprocess.PIPE, env=child_env(),
                       timeout=120)
    os.close(w)
    assert p.stderr.decode() == ""
    assert p.returncode in (0, 128 + signal.SIGPIPE)  # argparse's --help ignores the error itself
