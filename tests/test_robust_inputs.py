"""Bad or hostile input data: shapes checked before anything is allocated,
only regular files read and no more of them than their format says, and
every failure one clear error (never a traceback, a hang or a huge
allocation)."""
import os
import struct
import subprocess
import sys
import tracemalloc
import warnings

import numpy as np
import pytest

import loadrun
from cli_models import relu_model
from loadrun import InputError, LoadrunError, ResourceError, TensorInfo
from loadrun.inputs import default_feeds, parse_input_arg
from loadrun.onnx.importer import InputSpec

WIDE = [InputSpec("data", "float32", [-1, 1024], ["batch", ""])]
ANY2 = [InputSpec("data", "float32", [-1, 4], ["batch", ""])]


def peak_bytes(fn):
    """(result or exception, peak bytes Python and NumPy allocated while fn ran)."""
    tracemalloc.start()
    try:
        try:
            r = fn()
        except Exception as e:  # noqa: BLE001
            r = e
        return r, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def child_env():
    env = dict(os.environ)
    pkg_parent = os.path.dirname(os.path.dirname(loadrun.__file__))
    env["PYTHONPATH"] = pkg_parent + os.pathsep + os.path.dirname(__file__) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_bounded(*argv, timeout=60, cwd=None):
    """load_and_run in a child with 4 GiB of address space and a time limit:
    (exit code, stdout, stderr); a hang or a runaway read fails the test."""
    limit = 4 << 30
    pre = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (%d, %d)); "
           "from loadrun.cli.main import main; sys.exit(main(sys.argv[1:]))" % (limit, limit))
    try:
        p = subprocess.run([sys.executable, "-c", pre, *map(str, argv)], capture_output=True, text=True,
                           timeout=timeout, env=child_env(), cwd=cwd)
    except subprocess.TimeoutExpired:
        pytest.fail(f"load_and_run {' '.join(map(str, argv))} did not end within {timeout}s")
    return p.returncode, p.stdout, p.stderr


def one_error_line(err, prog="load_and_run"):
    assert err.count("\n") == 1 and err.startswith(f"{prog}: error: "), err
    assert "Traceback" not in err


# -- shapes are checked before they are allocated ---------------------------------------
def test_shape_payload_checked_against_the_model_before_filling():
    # {6000,6000} float32 is 144 MB; the model's dim 1 is 1024: refused before allocating
    r, peak = peak_bytes(lambda: parse_input_arg("data:{6000,6000}", WIDE))
    assert isinstance(r, InputError) and "dim 1 must be 1024, got 6000" in str(r)
    assert peak < 8 << 20
    r, peak = peak_bytes(lambda: parse_input_arg("data:{6000,6000,1}", WIDE))
    assert isinstance(r, InputError) and "model expects 2 dims" in str(r)
    assert peak < 8 << 20


@pytest.mark.parametrize("dims", ["{4611686018427387904,4}", "{1000000000000,4}"])
def test_shape_payload_too_large_is_a_resource_error(dims):
    with pytest.raises(ResourceError, match="input 'data'"):
        parse_input_arg(f"data:{dims}", ANY2)


def test_shape_payload_dim_of_many_digits():
    with pytest.raises(InputError, match="too large"):
        parse_input_arg("data:{" + "9" * 5000 + ",4}", ANY2)


def test_cli_huge_shape_is_one_line(tmp_path):
    model = relu_model(tmp_path / "m.onnx", shape=("batch", 4))
    code, _, err = run_bounded(model, "--input", "data:{4611686018427387904,4}", "--iter", "1")
    assert code == 1
    one_error_line(err)
    assert "input 'data'" in err and "bytes" in err


def test_default_feeds_of_a_huge_model_shape():
    spec = [InputSpec("x", "float32", [1000000, 1000000, 1000000], ["", "", ""])]
    with pytest.raises(ResourceError, match="input 'x'"):
        default_feeds(spec)


# -- .npy --------------------------------------------------------------------------------
def npy_bytes(header, version=(1, 0), data=b""):
    h = header.encode("latin1")
    fmt = "<H" if version == (1, 0) else "<I"
    pad = 16 - (10 + len(h) + 1) % 16
    h = h + b" " * pad + b"\n"
    return b"\x93NUMPY" + bytes(version) + struct.pack(fmt, len(h)) + h + data


def test_npy_header_claiming_a_huge_shape(tmp_path):
    f = tmp_path / "big.npy"
    f.write_bytes(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", data=bytes(64)))
    spec = [InputSpec("data", "float32", [-1], ["n"])]
    r, peak = peak_bytes(lambda: parse_input_arg(f"data:{f}", spec))
    assert isinstance(r, InputError), r
    assert "truncated" in str(r) and "4000000000000" in str(r)
    assert peak < 8 << 20


def test_npy_shape_checked_against_the_model_before_reading(tmp_path):
    f = tmp_path / "a.npy"
    np.save(f, np.zeros((3, 5), np.float32))
    with pytest.raises(InputError, match=r"input 'data': dim 1 must be 1024, got 5"):
        parse_input_arg(f"data:{f}", WIDE)


def test_npy_huge_header(tmp_path):
    f = tmp_path / "h.npy"
    f.write_bytes(b"\x93NUMPY\x02\x00" + struct.pack("<I", 0xFFFFFFF0) + b"{" * 100)
    r, peak = peak_bytes(lambda: parse_input_arg(f"data:{f}", ANY2))
    assert isinstance(r, InputError) and "not a valid .npy file" in str(r), r
    assert peak < 8 << 20


def test_npy_complex_refused_without_warning(tmp_path):
    f = tmp_path / "c.npy"
    np.save(f, np.array([[1 + 2j, 3, 4, 5]], np.complex64))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InputError, match="complex"):
            parse_input_arg(f"data:{f}", ANY2)


def test_cli_complex_npy_one_line(tmp_path):
    model = relu_model(tmp_path / "m.onnx", shape=(1, 4))
    f = tmp_path / "c.npy"
    np.save(f, np.array([[1 + 2j, 3, 4, 5]], np.complex128))
    code, _, err = run_bounded(model, "--input", f"data:{f}", "--iter", "1")
    assert code == 1
    one_error_line(err)
    assert "complex" in err and "Warning" not in err


def test_npy_still_reads_every_layout(tmp_path):
    a = np.arange(12, dtype=">i4").reshape(3, 4)
    for name, arr in (("be.npy", a), ("f.npy", np.asfortranarray(a)), ("b.npy", a > 5)):
        np.save(tmp_path / name, arr)
        got = parse_input_arg(f"data:{tmp_path / name}", [InputSpec("data", "int64", [3, 4], ["", ""])])["data"]
        np.testing.assert_array_equal(got, arr.astype(np.int64))
    np.save(tmp_path / "v2.npy", a)
    raw = (tmp_path / "v2.npy").read_bytes()
    hlen = struct.unpack("<H", raw[8:10])[0]
    (tmp_path / "v2b.npy").write_bytes(b"\x93NUMPY\x02\x00" + struct.pack("<I", hlen + 2)
                                       + raw[10:9 + hlen] + b"  \n" + raw[10 + hlen:])
    got = parse_input_arg(f"data:{tmp_path / 'v2b.npy'}", [InputSpec("data", "int32", [3, 4], ["", ""])])["data"]
    np.testing.assert_array_equal(got, a)


# -- files that are not regular files ------------------------------------------------------
def test_fifo_as_npy_is_refused(tmp_path):
    fifo = tmp_path / "in.npy"
    os.mkfifo(fifo)
    model = relu_model(tmp_path / "m.onnx", shape=(1, 4))
    code, _, err = run_bounded(model, "--input", f"data:{fifo}", "--iter", "1", timeout=60)
    assert code == 1
    one_error_line(err)
    assert "FIFO" in err and "not a regular file" in err


@pytest.mark.parametrize("suffix", [".json", ".ppm"])
def test_link_to_dev_zero_is_refused(tmp_path, suffix):
    link = tmp_path / f"in{suffix}"
    link.symlink_to("/dev/zero")
    model = relu_model(tmp_path / "m.onnx", shape=(1, 4))
    code, _, err = run_bounded(model, "--input", f"data:{link}", "--iter", "1", timeout=60)
    assert code == 1
    one_error_line(err)
    assert "character device" in err and "not a regular file" in err


# -- JSON and literals: numbers and nesting ---------------------------------------------------
def write(tmp_path, text, name="in.json"):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("raw, what", [
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ("[1e400, 2, 3, 4]", "out of range"),
    ("[" + "9" * 5000 + ", 2, 3, 4]", "digits"),
    ("[1e300, 2, 3, 4]", "out of range for float32"),
])
def test_json_numbers_and_depth(tmp_path, raw, what):
    p = write(tmp_path, '{"data": {"shape": [1, 4], "raw": ' + raw + "}}")
    with pytest.raises(InputError, match=what):
        parse_input_arg(str(p), ANY2)


def test_json_int_of_many_digits_for_an_int_type(tmp_path):
    p = write(tmp_path, '{"data": {"type": "int64", "raw": [' + "9" * 400 + "]}}")
    with pytest.raises(InputError, match="out of range for int64"):
        parse_input_arg(str(p), [InputSpec("data", "int64", [1], [""])])


@pytest.mark.parametrize("text, what", [
    ("[" * 100000 + "1" + "]" * 100000, "nested too deeply"),
    ("1e400,2,3,4", "out of range"),
    ("9" * 5000, "digits"),
])
def test_literal_numbers_and_depth(text, what):
    with pytest.raises(InputError, match=what):
        parse_input_arg(f"data:{text}", ANY2)


def test_literal_past_float32_stays_exact():
    # 1e300 does not fit a float32: the literal is float64, and converting it
    # to the float32 input is refused as lossy (not silently inf)
    with pytest.raises(InputError, match="do not convert to float32"):
        parse_input_arg("data:[1e300,2,3,4]", ANY2)
    got = parse_input_arg("data:[1e300,2,3,4]", [InputSpec("data", "float64", [-1], ["n"])])["data"]
    assert got.dtype == np.float64 and got[0] == 1e300


def test_cli_deep_json_is_one_line(tmp_path):
    p = write(tmp_path, '{"data": {"raw": ' + "[" * 100000 + "]" * 100000 + "}}")
    model = relu_model(tmp_path / "m.onnx", shape=(1, 4))
    code, _, err = run_bounded(model, "--input", str(p), "--iter", "1")
    assert code == 1
    one_error_line(err)


# -- PPM headers -------------------------------------------------------------------------
U8 = [TensorInfo("img", (1, -1, -1, 3), "uint8")]


def test_ppm_header_number_of_many_digits(tmp_path):
    p = tmp_path / "a.ppm"
    p.write_bytes(b"P6\n" + b"9" * 5000 + b" 2\n255\n" + bytes(12))
    with pytest.raises(InputError, match="width of 5000 digits is too large"):
        parse_input_arg(f"img:{p}", U8)


def test_ppm_size_checked_against_the_file_and_the_model(tmp_path):
    p = tmp_path / "a.ppm"
    p.write_bytes(b"P6\n100000 100000\n255\n" + bytes(12))
    r, peak = peak_bytes(lambda: parse_input_arg(f"img:{p}", U8))
    assert isinstance(r, InputError) and "needs 30000000000 pixel bytes, found 12" in str(r), r
    assert peak < 8 << 20
    q = tmp_path / "g.pgm"
    q.write_bytes(b"P5\n2 2\n255\n" + bytes(4))
    with pytest.raises(InputError, match="dim 3 must be 3, got 1"):
        parse_input_arg(f"img:{q}", U8)


@pytest.mark.parametrize("item", [
    "data:{" + ",".join(["1"] * 100) + "}",
    "data:" + "[" * 70 + "1" + "]" * 70,
    "data:" + "[" * 500 + "1" + "]" * 500,
])
def test_more_dims_than_numpy_holds(item):
    with pytest.raises(InputError, match="input 'data'") as e:
        parse_input_arg(item, [InputSpec("data", "float32", [], [], rank_known=False)])
    assert len(str(e.value)) < 300  # the literal is not echoed whole


def test_json_of_more_dims_than_numpy_holds(tmp_path):
    p = write(tmp_path, '{"data": {"raw": ' + "[" * 500 + "1" + "]" * 500 + "}}")
    with pytest.raises(InputError, match="shape of 500 dims, more than 64"):
        parse_input_arg(str(p), ANY2)
