"""Files: the model file, external data and the fast-run cache.

External data is read from the model's directory only, for every tensor
that has it (initializers, Constant nodes, tensor attributes, subgraphs);
the cache is written through an exclusively created temporary and a lock
that follows no symlink; `loadrun cache show` prints nothing a terminal
would act on, in at most 100 columns."""
import os
import struct

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import loadrun
from loadrun import ModelError, _core
from loadrun.cli import tools
from loadrun.cli.main import main
from test_fastrun import copy_model
from test_robust_inputs import one_error_line, run_bounded

_core._register_fastrun_test_op()


# -- the model file ---------------------------------------------------------------------------
def test_dev_zero_as_the_model():
    code, _, err = run_bounded("/dev/zero", "--iter", "1", timeout=60)
    assert code == 1
    one_error_line(err)
    assert "/dev/zero is a character device, not a regular file" in err


def test_fifo_as_the_model(tmp_path):
    fifo = tmp_path / "m.onnx"
    os.mkfifo(fifo)
    code, _, err = run_bounded(fifo, "--iter", "1", timeout=60)
    assert code == 1
    one_error_line(err)
    assert "FIFO" in err


def test_api_model_file_errors(tmp_path):
    with pytest.raises(ModelError, match="model file not found"):
        loadrun.load(tmp_path / "none.onnx")
    with pytest.raises(ModelError, match="is a directory"):
        loadrun.load(tmp_path)
    with pytest.raises(ModelError, match="not a regular file"):
        loadrun.load("/dev/null")


# -- external data --------------------------------------------------------------------------------
SECRET = np.arange(4, dtype=np.float32) + 1000


def external(name, location, shape=(4,), offset=None, length=None):
    t = TensorProto()
    t.name, t.data_type = name, TensorProto.FLOAT
    t.dims.extend(shape)
    t.data_location = TensorProto.EXTERNAL
    entries = [("location", location)]
    if offset is not None:
        entries.append(("offset", str(offset)))
    if length is not None:
        entries.append(("length", str(length)))
    for k, v in entries:
        e = t.external_data.add()
        e.key, e.value = k, v
    return t


def constant_model(tensor):
    """y = Constant(value=tensor)."""
    node = helper.make_node("Constant", [], ["y"], name="c", value=tensor)
    g = helper.make_graph([node], "g", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def if_model(tensor):
    """y = If(cond) then Constant(value=tensor) else the same: the tensor sits in a subgraph."""
    def branch(n):
        node = helper.make_node("Constant", [], [f"{n}_y"], name=f"{n}_c", value=tensor)
        return helper.make_graph([node], n, [], [helper.make_tensor_value_info(f"{n}_y", TensorProto.FLOAT, [4])])

    cond = numpy_helper.from_array(np.array(True), "cond")
    node = helper.make_node("If", ["cond"], ["y"], name="if", then_branch=branch("then"), else_branch=branch("else"))
    g = helper.make_graph([node], "g", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])], [cond])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def init_model(tensor):
    """y = Identity(initializer)."""
    node = helper.make_node("Identity", [tensor.name], ["y"], name="id")
    g = helper.make_graph([node], "g", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])], [tensor])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    """(model dir, current dir holding secret.bin and .ssh/id_rsa)."""
    mdir, cwd = tmp_path / "model", tmp_path / "cwd"
    mdir.mkdir()
    (cwd / ".ssh").mkdir(parents=True)
    (cwd / "secret.bin").write_bytes(SECRET.tobytes())
    (cwd / ".ssh" / "id_rsa").write_bytes(SECRET.tobytes())
    monkeypatch.chdir(cwd)
    return mdir, cwd


def save(model, path):
    onnx.save(model, str(path))
    return str(path)


def run_model(path):
    return loadrun.load(path).run({})["y"]


@pytest.mark.parametrize("make", [constant_model, if_model])
def test_external_data_is_not_read_from_the_current_directory(dirs, make):
    mdir, _ = dirs
    for loc in ("secret.bin", ".ssh/id_rsa"):
        path = save(make(external("w", loc)), mdir / "m.onnx")
        with pytest.raises(ModelError, match="external data file not found"):
            run_model(path)


@pytest.mark.parametrize("make", [constant_model, if_model, init_model])
def test_external_data_is_read_from_the_model_directory(dirs, make):
    mdir, _ = dirs
    ours = np.array([1, 2, 3, 4], np.float32)
    (mdir / "w.bin").write_bytes(b"xxxx" + ours.tobytes())
    path = save(make(external("w", "w.bin", offset=4, length=16)), mdir / "m.onnx")
    np.testing.assert_array_equal(run_model(path), ours)


@pytest.mark.parametrize("loc, what", [
    ("../cwd/secret.bin", "leads out of the model's directory"),
    ("sub/../../cwd/secret.bin", "leads out of the model's directory"),
    ("/etc/passwd", "not a path relative"),
    ("link.bin", "leads out of the model's directory"),
])
@pytest.mark.parametrize("make", [constant_model, init_model])
def test_external_data_locations_refused(dirs, make, loc, what):
    mdir, cwd = dirs
    (mdir / "link.bin").symlink_to(cwd / "secret.bin")
    path = save(make(external("w", loc)), mdir / "m.onnx")
    with pytest.raises(ModelError, match=what):
        run_model(path)
    code, _, err = run_bounded(path, "--iter", "1")
    assert code == 1
    one_error_line(err)


def test_external_data_bounds(dirs):
    mdir, _ = dirs
    (mdir / "w.bin").write_bytes(bytes(16))
    path = save(constant_model(external("w", "w.bin", offset=8, length=16)), mdir / "m.onnx")
    with pytest.raises(ModelError, match="holds 16 bytes, offset 8 \\+ length 16"):
        run_model(path)
    fifo = mdir / "f.bin"
    os.mkfifo(fifo)
    path = save(constant_model(external("w", "f.bin")), mdir / "m.onnx")
    with pytest.raises(ModelError, match="not a regular file"):
        run_model(path)


def test_model_proto_with_external_data_is_refused(dirs):
    with pytest.raises(ModelError, match="give the model's path"):
        loadrun.load(constant_model(external("w", "secret.bin")))
    with pytest.raises(ModelError, match="give the model's path"):
        loadrun.load(init_model(external("w", "secret.bin")))


def test_negative_initializer_dims_refused(tmp_path):
    t = numpy_helper.from_array(np.arange(4, dtype=np.float32), "w")
    del t.dims[:]
    t.dims.extend([-1, 4])
    with pytest.raises(ModelError, match=r"initializer 'w': dims \[-1, 4\] hold a negative size"):
        loadrun.load(init_model(t))
    c = numpy_helper.from_array(np.arange(4, dtype=np.float32), "c")
    del c.dims[:]
    c.dims.extend([4, -1])
    with pytest.raises(ModelError, match="negative size"):
        loadrun.load(constant_model(c))


# -- the fast-run cache -------------------------------------------------------------------------
def fast_run(model, cache):
    return loadrun.load(model, fast_run=True, fast_run_algo_policy=cache, progress=False)


def test_cache_tmp_symlink_is_not_followed(tmp_path):
    cache, victim = tmp_path / "algo.cache", tmp_path / "victim"
    victim.write_bytes(b"precious")
    (tmp_path / f"algo.cache.tmp.{os.getpid()}").symlink_to(victim)
    fast_run(copy_model(params=(1,)), cache)
    assert victim.read_bytes() == b"precious"
    assert _core.fastrun_cache_read(str(cache))[0] == "ok"
    assert not [p for p in os.listdir(tmp_path) if ".tmp." in p and p != f"algo.cache.tmp.{os.getpid()}"]


def test_cache_lock_symlink_is_not_followed(tmp_path):
    cache, target = tmp_path / "algo.cache", tmp_path / "made_by_lock"
    (tmp_path / "algo.cache.lock").symlink_to(target)
    fast_run(copy_model(params=(1,)), cache)
    assert not target.exists()
    assert _core.fastrun_cache_read(str(cache))[0] == "ok"


def test_symlinked_cache_is_updated_at_its_target(tmp_path):
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    real, link = real_dir / "algo.cache", tmp_path / "algo.cache"
    link.symlink_to(real)
    fast_run(copy_model(params=(1,)), link)
    assert link.is_symlink() and real.is_file()
    fast_run(copy_model(params=(2,)), link)
    assert link.is_symlink()
    status, _, entries = _core.fastrun_cache_read(str(real))
    assert status == "ok" and sorted(e[2] for e in entries) == [b"p=1", b"p=2"]
    assert not [p for p in os.listdir(real_dir) if ".tmp." in p]


def test_cache_keeps_its_mode(tmp_path):
    cache = tmp_path / "algo.cache"
    fast_run(copy_model(params=(1,)), cache)
    os.chmod(cache, 0o640)
    fast_run(copy_model(params=(2,)), cache)
    assert (os.stat(cache).st_mode & 0o777) == 0o640


def test_fifo_as_the_cache(tmp_path):
    fifo = tmp_path / "algo.cache"
    os.mkfifo(fifo)
    model = copy_model(tmp_path / "m.onnx", params=(1,))
    for flags in (["--fast-run"], []):
        code, _, err = run_bounded(model, "--fast-run-algo-policy", fifo, *flags, "--iter", "1", timeout=60)
        assert code == 2, err
        one_error_line(err)
        assert "not a regular file" in err
    assert _core.fastrun_cache_read(str(fifo))[:2] == ("invalid", "not a regular file")


# -- loadrun cache show -----------------------------------------------------------------------------
def fnv1a(data):
    h = 1469598103934665603
    for b in data:
        h = ((h ^ b) * 1099511628211) & (2**64 - 1)
    return h


def cache_bytes(category, op, params, ins, outs, cands):
    def s(b):
        b = b if isinstance(b, bytes) else b.encode()
        return struct.pack("<I", len(b)) + b

    p = struct.pack("<I", 1) + s(category) + struct.pack("<I", 1) + s(op) + s(params)
    p += struct.pack("<I", len(ins)) + b"".join(s(x) for x in ins)
    p += struct.pack("<I", len(outs)) + b"".join(s(x) for x in outs) + b"\x00"
    p += struct.pack("<I", len(cands))
    for algo, attrs, secs, ws in cands:
        p += s(algo) + struct.pack("<IdQ", attrs, secs, ws)
    return b"LRFASTRN" + struct.pack("<IQ", 1, len(p)) + p + struct.pack("<Q", fnv1a(p))


def show(capfd, path):
    code = tools.main(["cache", "show", str(path)])
    out, err = capfd.readouterr()
    return code, out, err


def test_cache_show_escapes_control_characters_and_bad_utf8(tmp_path, capfd):
    f = tmp_path / "evil.cache"
    f.write_bytes(cache_bytes(b"cat\x1b]0;pwned\x07\xff", b"Conv\x1b[2J", b"\x1b[31m", [b"{1}\xfe\xff"], [b"{1}"],
                              [(b"ALGO\x1b[1m\xc3", 1, 0.001, 0)]))
    code, out, err = show(capfd, f)
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out
    assert all(ch.isprintable() for ch in out.replace("\n", ""))
    assert "cat\\x1b]0;pwned\\x07\\xff" in out
    assert "Conv\\x1b[2J" in out and "{1}\\xfe\\xff" in out and "ALGO\\x1b[1m\\xc3" in out


def test_cache_show_fits_100_columns(tmp_path, capfd):
    f = tmp_path / "wide.cache"
    layouts = [("{1(150528),3(50176),224(224),224(1) Float32 NCHW}").encode()] * 3
    cands = [(b"CONV_IM2COL_GEMM_AVX2_FMA_WITH_A_VERY_LONG_NAME_INDEED", 15, 0.0123, 123456789),
             (b"NAIVE", 3, 1.5, 0)]
    f.write_bytes(cache_bytes(b"backend=cpu;cpu=Intel(R) Xeon(R) Platinum 8480+ with a long brand string;"
                              b"isa=avx512;fastrun=1", b"Conv", bytes(range(200)), layouts, layouts, cands))
    code, out, err = show(capfd, f)
    assert code == 0, err
    lines = out.splitlines()
    assert max(len(x) for x in lines) <= 100, max(lines, key=len)
    text = " ".join(out.split())
    assert "(200 bytes)" in text and "NAIVE" in text and "REPRODUCIBLE|NAIVE" in text.replace("| ", "|")
    assert text.count("{1(150528),3(50176),224(224),224(1) Float32 NCHW}") == 6


def test_cache_show_into_a_closed_pipe(tmp_path):
    import subprocess
    import sys

    f = tmp_path / "a.cache"
    fast_run(copy_model(params=(1,)), f)
    code = "import sys; from loadrun.cli.tools import main; sys.exit(main(sys.argv[1:]))"
    from test_robust_inputs import child_env
    p = subprocess.Popen([sys.executable, "-c", code, "cache", "show", str(f)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=child_env())
    p.stdout.close()  # as `| head -0` would
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) != 0
    assert err == ""
