"""The native .lrm format (csrc/graph/lrm.h, python/loadrun/lrm.py).

- Round trip: every zoo model and models with subgraphs (If, Loop, Scan,
  nested, with captures) converted to .lrm give bit-identical outputs to
  the ONNX path, and a file read and written again is the same bytes.
- Loading maps the file: weights borrow the mapping while a tensor uses
  them, and the file is unmapped when the last one goes (/proc/self/maps).
- Bad files: truncated, wrong magic, future version, bad checksum, absurd
  counts, an unknown operator -- each one clear error naming the file.
- A fuzz-style test: truncations, byte flips and overwritten words of a
  valid file (checksum left stale, or recomputed so the parser itself is
  exercised), in a child process so that a crash fails the test with the
  seed and case. LOADRUN_FUZZ_SEED sets the seed (fixed by default, so the
  suite is deterministic); LOADRUN_LRM_FUZZ_CASES the case count.
- The CLI: `loadrun convert`, and load_and_run on an .lrm (--model-info).
"""
import gc
import os
import random
import struct
import subprocess
import sys

import numpy as np
import pytest
from onnx import helper

import loadrun
from loadrun import _core, lrm, zoo
from loadrun.cli import main as lar
from loadrun.cli import tools
from control_flow_models import (F, const, graph, if_model, loop_body, loop_model,
                                 loop_nested_if_model, nested_if_model, scan_model, vi)
from onnx_ref import make_model
from test_zoo import built, feeds_for

_seed = os.environ.get("LOADRUN_FUZZ_SEED", "765958696")
SEED = random.SystemRandom().randrange(2**32) if _seed == "random" else int(_seed)
CASES = int(os.environ.get("LOADRUN_LRM_FUZZ_CASES", "400"))


def fnv1a64(data, h=0xcbf29ce484222325):
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def fix_checksum(data):
    data = bytearray(data)
    struct.pack_into("<Q", data, 56, fnv1a64(data[64:], fnv1a64(data[:56])))
    return bytes(data)


def same_outputs(model, feeds, tmp_path, name="m"):
    """Convert `model`, load both, run both: outputs identical bit for bit."""
    path = tmp_path / f"{name}.lrm"
    lrm.convert(model, path)
    ref = loadrun.load(model).run(feeds)
    got = loadrun.load(str(path)).run(feeds)
    assert list(got) == list(ref)
    for k in ref:
        assert got[k].dtype == ref[k].dtype and got[k].shape == ref[k].shape, k
        np.testing.assert_array_equal(got[k], ref[k], err_msg=k)
    return path


def rewrite_same(path, tmp_path):
    """Read the file and write it again: the same bytes."""
    g, meta = _core.read_lrm(str(path))
    again = tmp_path / "again.lrm"
    _core.write_lrm(g, str(again), [(k.decode(), v.decode()) for k, v in meta])
    assert again.read_bytes() == path.read_bytes()


# -- round trips ------------------------------------------------------------

@pytest.mark.parametrize("name", [n for n, _ in zoo.list_models()])
def test_zoo_model_round_trip_is_bit_identical(name, tmp_path):
    path = same_outputs(built(name), feeds_for(name), tmp_path, name)
    net = loadrun.load(str(path))
    ref = loadrun.load(f"zoo:{name}")
    assert net.inputs == ref.inputs and net.outputs == ref.outputs
    assert net.opset == ref.opset
    if name in ("mlp", "bert_tiny"):
        rewrite_same(path, tmp_path)


@pytest.mark.parametrize("c1,c2", [(True, True), (True, False), (False, True), (False, False)])
def test_nested_if_round_trip(c1, c2, tmp_path):
    model = nested_if_model()
    rng = np.random.default_rng(3)
    feeds = {"c1": np.array(c1), "c2": np.array(c2), "x": rng.standard_normal(3).astype(np.float32),
             "w": rng.standard_normal(3).astype(np.float32)}
    path = same_outputs(model, feeds, tmp_path)
    rewrite_same(path, tmp_path)


def test_if_with_branch_constants_round_trip(tmp_path):
    for c in (True, False):
        same_outputs(if_model((3, 1), (1, 3)), {"cond": np.array(c), "x": np.arange(3, dtype=np.float32)},
                     tmp_path)


def test_loop_with_nested_if_round_trip(tmp_path):
    model = loop_nested_if_model()
    rng = np.random.default_rng(5)
    path = same_outputs(model, {"acc0": rng.standard_normal(3).astype(np.float32),
                                "w": rng.standard_normal(3).astype(np.float32)}, tmp_path)
    rewrite_same(path, tmp_path)


def test_loop_runtime_trip_count_round_trip(tmp_path):
    model = loop_model([("M", np.int64, []), ("cond", np.bool_, []), ("limit", np.float32, [])],
                       loop_body("lt"))
    rng = np.random.default_rng(6)
    feeds = {"acc0": rng.standard_normal(3).astype(np.float32), "x": rng.standard_normal(3).astype(np.float32),
             "M": np.array(7, np.int64), "cond": np.array(True), "limit": np.array(20, np.float32)}
    same_outputs(model, feeds, tmp_path)


def test_scan_with_list_attributes_round_trip(tmp_path):
    model, ss = scan_model((2, 5, 3), in_axes=[-1], in_dirs=[1], out_axes=[-1, 0], out_dirs=[1, 0])
    rng = np.random.default_rng(8)
    feeds = {"s0": rng.standard_normal(ss).astype(np.float32),
             "x": rng.standard_normal((2, 5, 3)).astype(np.float32), "w": rng.standard_normal(ss).astype(np.float32)}
    path = same_outputs(model, feeds, tmp_path)
    rewrite_same(path, tmp_path)


def attr_kinds_model():
    """Attributes of every kind the importer produces: int, float, string,
    ints, floats, strings (GRU activations), a tensor (ConstantOfShape)."""
    nodes = [
        helper.make_node("ConstantOfShape", ["shp"], ["c"], value=helper.make_tensor("v", 1, [1], [0.25])),
        helper.make_node("GRU", ["x", "W", "R"], ["", "h"], hidden_size=4, activations=["Sigmoid", "Tanh"],
                         activation_alpha=[0.5, 0.0], activation_beta=[0.0, 0.0], linear_before_reset=1,
                         direction="forward"),
        helper.make_node("LeakyRelu", ["h"], ["l"], alpha=0.3),
        helper.make_node("Add", ["l", "c"], ["y"]),
    ]
    rng = np.random.default_rng(9)
    inits = [("shp", np.array([1, 2, 4], np.int64)),
             ("W", rng.standard_normal((1, 12, 3)).astype(np.float32)),
             ("R", rng.standard_normal((1, 12, 4)).astype(np.float32))]
    model = make_model(nodes, [("x", np.float32, [5, 2, 3])], [("y", np.float32, None)], inits)
    return model, {"x": rng.standard_normal((5, 2, 3)).astype(np.float32)}


def test_every_attribute_kind_round_trip(tmp_path):
    model, feeds = attr_kinds_model()
    path = same_outputs(model, feeds, tmp_path)
    rewrite_same(path, tmp_path)


def test_symbolic_dims_and_unknown_rank_are_kept(tmp_path):
    node = helper.make_node("Relu", ["x"], ["y"])
    model = make_model([node], [("x", np.float32, ["n", 4])], [("y", np.float32, ["n", 4])])
    path = tmp_path / "sym.lrm"
    lrm.convert(model, path)
    imported, declared = lrm.read(path)
    assert imported.inputs[0].shape == [-1, 4] and imported.inputs[0].dim_names == ["n", ""]
    assert declared == [("y", ["n", 4], "float32")]


def test_weights_are_aligned_for_mmap(tmp_path):
    path = tmp_path / "mlp.lrm"
    lrm.convert("zoo:mlp", path)
    data = path.read_bytes()
    assert data[:8] == lrm.MAGIC
    version, hsize, st_off, st_size, data_off, data_size = struct.unpack_from("<IIQQQQ", data, 8)
    assert (version, hsize, st_off) == (1, 64, 64)
    assert data_off % 64 == 0 and data_off + data_size == len(data)
    # Each weight of the mlp (float32 rows of 1024) starts on a 64-byte boundary.
    w = loadrun.zoo.build("mlp").graph.initializer[0]
    raw = np.frombuffer(w.raw_data, np.uint8).tobytes() if w.raw_data else \
        np.asarray(w.float_data, np.float32).tobytes()
    at = data.find(raw[:256], data_off)
    assert at >= 0 and (at - data_off) % 64 == 0


# -- bad files ----------------------------------------------------------------

@pytest.fixture(scope="module")
def small_lrm(tmp_path_factory):
    """A small valid file: an If with branch constants, a Conv with weights."""
    d = tmp_path_factory.mktemp("lrm")
    then_g = graph([helper.make_node("Add", ["x", "x"], ["t"])], "then", [], [vi("t", F, None)])
    else_g = graph([const("one", np.float32(1)), helper.make_node("Sub", ["x", "one"], ["e"])], "else", [],
                   [vi("e", F, None)])
    nodes = [helper.make_node("Conv", ["img", "w"], ["cv"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["cv"], ["r"]),
             helper.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g)]
    model = make_model(nodes, [("img", np.float32, [1, 2, 5, 5]), ("cond", np.bool_, []), ("x", np.float32, [3])],
                       [("r", np.float32, None), ("y", np.float32, None)],
                       [("w", np.random.default_rng(1).standard_normal((3, 2, 3, 3)).astype(np.float32))])
    path = d / "small.lrm"
    lrm.convert(model, path)
    return path


def write(tmp_path, data, name="bad.lrm"):
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def load_error(path):
    with pytest.raises(loadrun.LoadrunError) as e:
        loadrun.load(path)
    assert path in str(e.value)
    return e.value


def test_truncated_file_is_a_model_error(small_lrm, tmp_path):
    data = small_lrm.read_bytes()
    for n in (0, 7, 63, 64, 100, len(data) - 1):
        e = load_error(write(tmp_path, data[:n]))
        assert isinstance(e, loadrun.ModelError), (n, e)
        assert "truncated" in str(e) or "shorter than the header" in str(e), (n, e)


def mapped(path):
    """Whether `path` is mapped into this process (/proc/self/maps)."""
    real = os.path.realpath(path)
    with open("/proc/self/maps") as f:
        return any(line.rstrip("\n").endswith(" " + real) for line in f)


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs /proc/self/maps (Linux)")
@pytest.mark.parametrize("preprocess", [False, True])
def test_weights_borrow_the_mapped_file(small_lrm, tmp_path, preprocess):
    # The .lrm is mapped and its weights are used in place: the file stays
    # mapped while a tensor borrows it (without prepacking the Conv reads the
    # original weight) and is unmapped when the last one goes. Outputs are
    # bit-identical either way (the round-trip tests above compare the .lrm
    # path with the ONNX one).
    path = tmp_path / "m.lrm"
    path.write_bytes(small_lrm.read_bytes())
    rng = np.random.default_rng(11)
    feeds = {"img": rng.standard_normal((1, 2, 5, 5)).astype(np.float32), "cond": np.array(True),
             "x": rng.standard_normal(3).astype(np.float32)}
    assert not mapped(path)
    net = loadrun.load(str(path), weight_preprocess=preprocess)
    got = net.run(feeds)
    if not preprocess:
        assert mapped(path)
    ref = loadrun.load(small_lrm, weight_preprocess=False).run(feeds)
    for k in ref:
        np.testing.assert_array_equal(got[k], ref[k], err_msg=k)
    del net
    gc.collect()
    assert not mapped(path)


def test_wrong_magic_is_a_model_error(small_lrm, tmp_path):
    data = small_lrm.read_bytes()
    e = load_error(write(tmp_path, b"PK\x03\x04" + data[4:]))
    assert isinstance(e, loadrun.ModelError) and "magic" in str(e)


def test_future_version_is_unsupported(small_lrm, tmp_path):
    data = bytearray(small_lrm.read_bytes())
    struct.pack_into("<I", data, 8, 2)
    e = load_error(write(tmp_path, fix_checksum(data)))
    assert isinstance(e, loadrun.UnsupportedError) and "version 2" in str(e) and "up to version 1" in str(e)


def test_bad_checksum_is_a_model_error(small_lrm, tmp_path):
    data = bytearray(small_lrm.read_bytes())
    data[-5] ^= 0x10  # a weight byte
    e = load_error(write(tmp_path, bytes(data)))
    assert isinstance(e, loadrun.ModelError) and "checksum" in str(e)


def test_absurd_counts_are_model_errors(small_lrm, tmp_path):
    data = small_lrm.read_bytes()
    # The metadata count (first word of the structure), then the graph's record count.
    meta_len = struct.unpack_from("<I", data, 64 + 4)[0]
    rec_at = 64 + 4 + 4 + len(lrm.META_KEY) + 4 + struct.unpack_from("<I", data, 64 + 8 + len(lrm.META_KEY))[0]
    assert meta_len == len(lrm.META_KEY)
    for at in (64, rec_at):
        for v in (0xFFFFFFFF, 0x7FFFFFFF, 1 << 20):
            bad = bytearray(data)
            struct.pack_into("<I", bad, at, v)
            e = load_error(write(tmp_path, fix_checksum(bad)))
            assert isinstance(e, loadrun.ModelError) and ("count" in str(e) or "truncated" in str(e)), e
    # A data section claimed larger than the file.
    bad = bytearray(data)
    struct.pack_into("<Q", bad, 40, 1 << 62)
    e = load_error(write(tmp_path, fix_checksum(bad)))
    assert isinstance(e, loadrun.ModelError) and "do not fit" in str(e)


def test_unknown_operator_is_unsupported(small_lrm, tmp_path):
    data = small_lrm.read_bytes()
    assert data.count(b"\x04\x00\x00\x00Relu") == 1
    bad = data.replace(b"\x04\x00\x00\x00Relu", b"\x04\x00\x00\x00Relx")
    e = load_error(write(tmp_path, fix_checksum(bad)))
    assert isinstance(e, loadrun.UnsupportedError) and "Relx" in str(e)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(loadrun.ModelError, match="not found"):
        loadrun.load(str(tmp_path / "nope.lrm"))
    d = tmp_path / "dir.lrm"
    d.mkdir()
    with pytest.raises(loadrun.ModelError, match="not a regular file"):
        loadrun.load(str(d))


FUZZ_WORKER = r"""
import random, struct, sys
import loadrun
from loadrun import lrm
from loadrun.network import Network


def fnv1a64(data, h=0xcbf29ce484222325):
    for x in data:
        h = ((h ^ x) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def fix_checksum(data):
    data = bytearray(data)
    struct.pack_into("<Q", data, 56, fnv1a64(data[64:], fnv1a64(data[:56])))
    return bytes(data)


data = open(sys.argv[1], "rb").read()
seed, cases = int(sys.argv[2]), int(sys.argv[3])
counts = {"ok": 0, "error": 0, "compile_error": 0}
for case in range(cases):
    rng = random.Random(seed * 1000003 + case)
    b = bytearray(data)
    how = rng.randrange(4)
    if how == 0:
        b = b[:rng.randrange(len(b))]
    elif how == 1:
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif how == 2:  # a word of the header or structure: counts, sizes, tags
        at = rng.randrange(0, min(len(b), 1024) - 4)
        struct.pack_into("<I", b, at, rng.choice([0, 1, 0xFFFFFFFF, 0x7FFFFFFF, rng.getrandbits(32)]))
    else:
        b[rng.randrange(len(b))] = rng.randrange(256)
    if how != 0 and rng.random() < 0.7:
        b = fix_checksum(b)
    open(sys.argv[5], "wb").write(bytes(b))
    print(f"case {case} how {how}", flush=True)
    try:  # reading: one error naming the file
        imported = lrm.read(sys.argv[5])[0]
    except (loadrun.ModelError, loadrun.UnsupportedError) as e:
        assert sys.argv[5] in str(e), f"case {case}: error without the file name: {e}"
        counts["error"] += 1
        continue
    try:  # a file that reads (a changed weight, shape or attribute) compiles or says why
        Network(imported)
        counts["ok"] += 1
    except (loadrun.ModelError, loadrun.UnsupportedError, loadrun.InputError, loadrun.ResourceError):
        counts["compile_error"] += 1
print("SUMMARY", counts["ok"], counts["error"], counts["compile_error"], flush=True)
"""


def test_fuzz_corrupt_files_give_clean_errors(small_lrm, tmp_path):
    r = subprocess.run([sys.executable, "-c", FUZZ_WORKER, str(small_lrm), str(SEED), str(CASES), "-",
                        str(tmp_path / "case.lrm")], capture_output=True, text=True, timeout=600,
                       env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    last = [line for line in r.stdout.splitlines() if line.startswith("case")][-1:] or ["before any case"]
    assert r.returncode == 0, (f"seed {SEED} (LOADRUN_FUZZ_SEED): {last[0]} ended with status {r.returncode}\n"
                               f"{r.stderr[-3000:]}")
    summary = [line for line in r.stdout.splitlines() if line.startswith("SUMMARY")]
    ok, err, compile_err = map(int, summary[0].split()[1:])
    assert ok + err + compile_err == CASES and err > CASES // 2 and ok > 0, summary


# -- CLI ---------------------------------------------------------------------

def test_cli_convert_and_load_and_run(tmp_path, capsys):
    out = tmp_path / "mlp.lrm"
    assert tools.main(["convert", "zoo:mlp", str(out)]) == 0
    assert f"wrote {out}: 5 nodes" in capsys.readouterr().out
    assert lar.main([str(out), "--model-info", "--iter", "1"]) == 0
    got = capsys.readouterr().out
    assert lar.main(["zoo:mlp", "--model-info", "--iter", "1"]) == 0
    ref = capsys.readouterr().out

    def tables(text):
        return [line for line in text.splitlines() if line.startswith(("|", "+"))]

    assert tables(got) == tables(ref) and "{batch,1024}" in got


def test_cli_convert_errors(tmp_path, capsys):
    assert tools.main(["convert", str(tmp_path / "missing.onnx"), str(tmp_path / "o.lrm")]) == 1
    assert "not found" in capsys.readouterr().err
    lrm.convert("zoo:mlp", tmp_path / "a.lrm")
    assert tools.main(["convert", str(tmp_path / "a.lrm"), str(tmp_path / "b.lrm")]) == 1
    assert "already" in capsys.readouterr().err
    bad = write(tmp_path, b"\x89LRM\r\n\x1a\n" + bytes(10), "short.lrm")
    assert lar.main([bad]) != 0
    err = capsys.readouterr().err
    assert "short.lrm" in err and "Traceback" not in err
