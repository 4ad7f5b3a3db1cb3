"""Fast-run from Python and the command line: strategies, the cache file,
the flags and their refused combinations, --verbose lines, `loadrun cache`.

The models use FrCopy (domain test.fastrun), a test-only operator whose
algorithms are correct copies that differ only in speed, workspace and
attributes (csrc/fastrun/test_op.h), so these tests do not depend on the real
operators' algorithms:
  NAIVE 10 ms, FR_SLOW 14 ms (first non-NAIVE: the heuristic's pick), FR_THROWS
  (always fails), FR_FAST 0 ms (not reproducible, shape/batch dependent),
  FR_BIGWS 2 ms (64 MiB workspace), FR_MEDIUM 8 ms.
"""
import os
import pty
import re
import subprocess
import sys

import numpy as np
import pytest
from onnx import TensorProto, helper, save

import loadrun
from loadrun import _core
from loadrun.cli import main as lar
from loadrun.cli import tools
from loadrun.fastrun import FastRunOptionError

_core._register_fastrun_test_op()

RE_PROFILE = re.compile(r"^profiling FrCopy algorithm (\w+) \((\{[^}]*\})\) -> \((\{[^}]*\})\): "
                        r"workspace: (\d+); time: ([0-9.e+-]+)sec$")
RE_STEP = re.compile(r"^FrCopy\((c\d)\): tensor layouts\((\{[^}]*\})\) -> \((\{[^}]*\})\): "
                     r"algo=(\w+) workspace=(\d+\.\d{2})MiB attribute=(\d+)$")


def copy_model(path=None, params=(1, 2), batch="N"):
    """x [batch, 8] -> FrCopy(p) -> ... -> y."""
    nodes, prev = [], "x"
    for i, p in enumerate(params):
        out = "y" if i == len(params) - 1 else f"t{i}"
        nodes.append(helper.make_node("FrCopy", [prev], [out], name=f"c{i}", domain="test.fastrun", p=p))
        prev = out
    g = helper.make_graph(nodes, "fastrun", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 8])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("test.fastrun", 1)],
                          ir_version=8)
    if path is None:
        return m
    save(m, str(path))
    return str(path)


@pytest.fixture
def model(tmp_path):
    return copy_model(tmp_path / "copy.onnx")


def load(m, input_shapes=None, **kw):
    kw.setdefault("progress", False)
    return loadrun.load(m, input_shapes, **kw)


def algos(net):
    return [s[1] for s in net.steps()]


def check_copy(net, batch=1):
    x = np.arange(batch * 8, dtype=np.float32).reshape(batch, 8)
    np.testing.assert_array_equal(net.run({"x": x})["y"], x)


# -- the Python API ------------------------------------------------------------
def test_default_is_the_heuristic(model):
    net = load(model)
    check_copy(net)
    assert algos(net) == ["FR_SLOW", "FR_SLOW"]
    assert net.fastrun_stats()["profiled"] == 0
    assert net.fastrun_log() == ["Use Stragegy :HEURISTIC "]


def test_fast_run_then_the_second_run_profiles_nothing(tmp_path, model):
    cache = tmp_path / "algo.cache"
    net = load(model, fast_run=True, fast_run_algo_policy=cache)
    check_copy(net)
    assert algos(net) == ["FR_FAST", "FR_FAST"]
    stats = net.fastrun_stats()
    assert stats["profiled"] == 2 and stats["cache_misses"] == 2 and stats["timed_runs"] > 0
    assert cache.exists()
    before = cache.read_bytes()
    again = load(model, fast_run=True, fast_run_algo_policy=str(cache))
    check_copy(again)
    assert algos(again) == ["FR_FAST", "FR_FAST"]
    stats = again.fastrun_stats()
    assert stats["profiled"] == 0 and stats["timed_runs"] == 0 and stats["cache_hits"] == 2
    assert not [line for line in again.fastrun_log() if line.startswith("profiling")]
    assert cache.read_bytes() == before


def test_resume_across_models(tmp_path):
    cache = tmp_path / "algo.cache"
    load(copy_model(params=(1,)), fast_run=True, fast_run_algo_policy=cache)
    net = load(copy_model(params=(1, 5, 6)), fast_run=True, fast_run_algo_policy=cache)
    assert net.fastrun_stats()["profiled"] == 2 and net.fastrun_stats()["cache_hits"] == 1
    status, _, entries = _core.fastrun_cache_read(str(cache))
    assert status == "ok" and sorted(e[2] for e in entries) == [b"p=1", b"p=5", b"p=6"]


def test_filters(tmp_path, model):
    cache = tmp_path / "algo.cache"
    assert algos(load(model, fast_run=True, fast_run_algo_policy=cache)) == ["FR_FAST"] * 2
    # reproducible: from the same cache, nothing profiled
    net = load(model, fast_run=True, reproducible=True, fast_run_algo_policy=cache)
    assert algos(net) == ["FR_BIGWS"] * 2 and net.fastrun_stats()["profiled"] == 0
    net = load(model, fast_run=True, binary_equal_between_batch=True, fast_run_algo_policy=cache)
    assert algos(net) == ["FR_BIGWS"] * 2
    net = load(model, fast_run=True, reproducible=True, workspace_limit=1 << 20, fast_run_algo_policy=cache)
    assert algos(net) == ["FR_MEDIUM"] * 2
    # heuristic + reproducible skips FR_FAST too (FR_SLOW is first anyway), + a limit
    assert algos(load(model, reproducible=True, workspace_limit=0)) == ["FR_SLOW"] * 2
    # full run times NAIVE as well
    net = load(model, full_run=True)
    assert "NAIVE" in {RE_PROFILE.match(x).group(1) for x in net.fastrun_log() if RE_PROFILE.match(x)}
    net = load(model, fast_run=True)
    assert "NAIVE" not in {RE_PROFILE.match(x).group(1) for x in net.fastrun_log() if RE_PROFILE.match(x)}


def test_shared_batch_size(tmp_path, model):
    cache = tmp_path / "algo.cache"
    net = load(model, {"x": [2, 8]}, fast_run=True, fast_run_shared_batch_size=4, fast_run_algo_policy=cache)
    check_copy(net, 2)
    assert algos(net) == ["FR_BIGWS"] * 2  # FR_FAST is USABLE_DEPEND_ON_SHAPE
    prof = [RE_PROFILE.match(x) for x in net.fastrun_log() if RE_PROFILE.match(x)]
    assert prof and all(m.group(2) == "{4(8),8(1) Float32}" for m in prof)
    _, _, entries = _core.fastrun_cache_read(str(cache))
    assert all(e[3] == ["{0(8),8(1) Float32}"] for e in entries)
    net = load(model, {"x": [7, 8]}, fast_run=True, fast_run_shared_batch_size=4, fast_run_algo_policy=cache)
    assert net.fastrun_stats()["profiled"] == 0 and algos(net) == ["FR_BIGWS"] * 2
    check_copy(net, 7)


def test_weight_preprocess_is_part_of_the_key(tmp_path, model):
    cache = tmp_path / "algo.cache"
    net = load(model, fast_run=True, reproducible=True, fast_run_algo_policy=cache)  # on by default
    assert [s[5] for s in net.steps()] == [True, True]
    net = load(model, fast_run=True, reproducible=True, weight_preprocess=False, fast_run_algo_policy=cache)
    assert [s[5] for s in net.steps()] == [False, False]
    assert net.fastrun_stats()["profiled"] == 2
    _, _, entries = _core.fastrun_cache_read(str(cache))
    assert sorted(e[5] for e in entries) == [False, False, True, True]


def test_policy_alone_uses_the_cache_and_never_writes(tmp_path, model):
    cache = tmp_path / "algo.cache"
    load(copy_model(params=(1,)), fast_run=True, fast_run_algo_policy=cache)
    before = cache.read_bytes()
    net = load(model, fast_run_algo_policy=cache)
    assert algos(net) == ["FR_FAST", "FR_SLOW"]  # p=2 is not cached: heuristic
    assert net.fastrun_stats()["profiled"] == 0
    assert net.fastrun_log()[0] == "Use Stragegy :HEURISTIC PROFILE "
    assert cache.read_bytes() == before


@pytest.mark.parametrize("kw, msg", [
    (dict(fast_run=True, full_run=True), "invalid options of both fast-run and full-run"),
    (dict(fast_run_algo_policy="/nonexistent/x.cache"), "does not exist; give fast_run or full_run"),
    (dict(fast_run_shared_batch_size=2), "fast_run_shared_batch_size needs one of"),
    (dict(fast_run=True, fast_run_shared_batch_size=-1), "must be >= 0"),
    (dict(workspace_limit=-1), "workspace_limit must be a byte count"),
])
def test_api_conflicts(model, kw, msg):
    with pytest.raises(FastRunOptionError, match=re.escape(msg)):
        load(model, **kw)


def test_corrupt_cache_warns_once_and_is_backed_up(tmp_path, model, capfd):
    cache = tmp_path / "algo.cache"
    cache.write_bytes(b"garbage, not a cache")
    net = load(model, fast_run=True, fast_run_algo_policy=cache)
    _, err = capfd.readouterr()
    assert err == (f"loadrun: warning: fast-run cache {cache}: not a loadrun fast-run cache (no LRFASTRN magic); "
                   f"treated as empty (the file was moved to {cache}.bad)\n")
    assert algos(net) == ["FR_FAST"] * 2
    assert (tmp_path / "algo.cache.bad").read_bytes() == b"garbage, not a cache"
    assert _core.fastrun_cache_read(str(cache))[0] == "ok"
    # truncated: same story, a second backup
    data = cache.read_bytes()
    cache.write_bytes(data[: len(data) - 5])
    net = load(model, fast_run=True, fast_run_algo_policy=cache)
    _, err = capfd.readouterr()
    assert err.count("\n") == 1 and "truncated" in err and f"{cache}.bad.1" in err
    assert net.fastrun_stats()["profiled"] == 2


# -- the command line ------------------------------------------------------------
def run_cli(capfd, *argv):
    code = lar.main([str(a) for a in argv])
    out, err = capfd.readouterr()
    return code, out.splitlines(), err


def test_cli_fast_run_verbose_lines(tmp_path, model, capfd):
    cache = tmp_path / "algo.cache"
    code, lines, err = run_cli(capfd, model, "--fast-run", "--fast-run-algo-policy", cache, "--verbose",
                               "--iter", "1", "--input", "x:{2,8}")
    assert code == 0, err
    assert err == ""
    assert "Use Stragegy :PROFILE OPTIMIZED " in lines
    assert "skip algo NAIVE, which matches the profile strategy required 'not contain attribute(NAIVE).'" in lines
    misses = [x for x in lines if x.startswith("No algo get from cache for (opr : ")]
    assert len(misses) == 2 and misses[0].startswith("No algo get from cache for (opr : c0{FrCopy}, layouts: "
                                                     "({2(8),8(1) Float32}) -> ({2(8),8(1) Float32}))")
    timed = [x for x in lines if x.startswith("profiling FrCopy algorithm") and " failed: " not in x]
    prof = [RE_PROFILE.match(x) for x in timed]
    assert all(prof) and len(prof) == 8, timed  # 2 oprs x FR_SLOW, FR_FAST, FR_BIGWS, FR_MEDIUM
    assert {m.group(1) for m in prof} == {"FR_SLOW", "FR_FAST", "FR_BIGWS", "FR_MEDIUM"}
    assert all(m.group(4) == str(64 << 20) for m in prof if m.group(1) == "FR_BIGWS")
    assert any(x.startswith("profiling FrCopy algorithm FR_THROWS failed") for x in lines)
    steps = [RE_STEP.match(x) for x in lines if x.startswith("FrCopy(")]
    assert [(m.group(1), m.group(4), m.group(6)) for m in steps] == [("c0", "FR_FAST", "12"), ("c1", "FR_FAST", "12")]
    # second run: the cache answers, nothing profiled, no miss
    code, lines, err = run_cli(capfd, model, "--fast_run", "--fast_run_algo_policy=" + str(cache), "--verbose",
                               "--iter", "1", "--input", "x:{2,8}")
    assert code == 0, err
    assert not [x for x in lines if x.startswith(("profiling", "No algo get"))]
    assert [RE_STEP.match(x).group(4) for x in lines if x.startswith("FrCopy(")] == ["FR_FAST", "FR_FAST"]


def test_cli_flags_reach_the_chooser(tmp_path, model, capfd):
    def chosen(*flags):
        code, lines, err = run_cli(capfd, model, "--verbose", "--iter", "1", *flags)
        assert code == 0, err
        return [RE_STEP.match(x).group(4) for x in lines if x.startswith("FrCopy(")], lines

    assert chosen()[0] == ["FR_SLOW"] * 2
    assert chosen("--fast-run", "--reproducible")[0] == ["FR_BIGWS"] * 2
    assert chosen("--full-run", "--binary-equal-between-batch")[0] == ["FR_BIGWS"] * 2
    got, lines = chosen("--fast-run", "--reproducible", "--workspace-limit", "1048576")
    assert got == ["FR_MEDIUM"] * 2
    assert "skip algo FR_BIGWS, whose workspace 67108864 exceeds the workspace limit 1048576" in lines
    got, lines = chosen("--fast-run", "--fast-run-shared-batch-size", "3", "--input", "x:{5,8}")
    assert got == ["FR_BIGWS"] * 2
    assert any(x.startswith("profiling FrCopy algorithm FR_BIGWS ({3(8),8(1) Float32})") for x in lines)
    assert chosen("--fast-run", "--nofast-run")[0] == ["FR_SLOW"] * 2
    # --weight-preprocess reaches the network and the JSON report
    report = tmp_path / "r.json"
    chosen("--fast-run", "--reproducible", "--weight-preprocess", "--json", report)
    import json

    opts = json.loads(report.read_text())["options"]
    assert opts["fast_run"] and opts["reproducible"] and opts["weight_preprocess"]
    assert opts["workspace_limit"] is None


def test_cli_policy_alone(tmp_path, model, capfd):
    cache = tmp_path / "algo.cache"
    code, _, err = run_cli(capfd, model, "--fast-run", "--fast-run-algo-policy", cache, "--iter", "1")
    assert code == 0, err
    before = cache.read_bytes()
    code, lines, err = run_cli(capfd, model, "--fast-run-algo-policy", cache, "--iter", "1", "--verbose")
    assert code == 0, err
    assert "Use Stragegy :HEURISTIC PROFILE " in lines
    assert [RE_STEP.match(x).group(4) for x in lines if x.startswith("FrCopy(")] == ["FR_FAST"] * 2
    assert not [x for x in lines if x.startswith("profiling")]
    assert cache.read_bytes() == before


def test_cli_fast_run_creates_the_policy_file(tmp_path, capfd):
    from cli_models import relu_model

    model, cache = relu_model(tmp_path / "relu.onnx"), tmp_path / "relu.cache"
    code, _, err = run_cli(capfd, model, "--fast-run", "--fast-run-algo-policy", cache, "--iter", "1")
    assert code == 0, err
    assert _core.fastrun_cache_read(str(cache))[0] == "ok"
    code, _, err = run_cli(capfd, model, "--fast-run-algo-policy", cache, "--iter", "1")
    assert code == 0 and err == ""


@pytest.mark.parametrize("flags, msg", [
    (["--fast-run", "--full-run"], "invalid options of both fast-run and full-run"),
    (["--fast-run-algo-policy", "{missing}"], "--fast-run-algo-policy: {missing} does not exist; "
                                              "give --fast-run or --full-run to create it"),
    (["--fast-run-algo-policy", "{dir}"], "--fast-run-algo-policy: {dir} is a directory"),
    (["--fast-run-shared-batch-size", "4"], "--fast-run-shared-batch-size needs one of --fast-run, --full-run, "
                                            "--fast-run-algo-policy"),
    (["--fast-run", "--fast-run-shared-batch-size=-2"], "--fast-run-shared-batch-size must be >= 0, got -2"),
    (["--workspace-limit", "-1"], "--workspace-limit must be a byte count"),
    (["--workspace-limit", "1e3"], "argument --workspace-limit: invalid int value"),
    (["--fast-run=maybe"], "flag --fast-run takes true or false"),
])
def test_cli_refused_combinations_exit_2(tmp_path, model, capfd, flags, msg):
    subst = {"missing": str(tmp_path / "nope.cache"), "dir": str(tmp_path)}
    flags = [f.format(**subst) for f in flags]
    code, lines, err = run_cli(capfd, model, *flags)
    assert code == 2 and lines == []
    assert err.startswith("load_and_run: error: " + msg.format(**subst)), err
    assert err.count("\n") == 1


def test_cli_corrupt_cache_warning(tmp_path, model, capfd):
    cache = tmp_path / "algo.cache"
    cache.write_bytes(b"\x00" * 64)
    code, _, err = run_cli(capfd, model, "--fast-run", "--fast-run-algo-policy", cache, "--iter", "1")
    assert code == 0
    assert err.count("\n") == 1 and err.startswith(f"loadrun: warning: fast-run cache {cache}: ")
    assert (tmp_path / "algo.cache.bad").read_bytes() == b"\x00" * 64


# -- loadrun cache show / merge ---------------------------------------------------------
def run_tool(capfd, *argv):
    code = tools.main([str(a) for a in argv])
    out, err = capfd.readouterr()
    return code, out, err


def test_cache_show_and_merge(tmp_path, capfd):
    a, b, out = tmp_path / "a.cache", tmp_path / "b.cache", tmp_path / "out.cache"
    load(copy_model(params=(1,)), fast_run=True, weight_preprocess=False, fast_run_algo_policy=a)
    load(copy_model(params=(2,)), fast_run=True, reproducible=True, weight_preprocess=False,
         fast_run_algo_policy=b)
    code, text, err = run_tool(capfd, "cache", "show", a)
    assert code == 0, err
    lines = text.splitlines()
    assert lines[0] == f"fast-run cache {a}: 1 entries"
    assert lines[2] == f"category {_core.fastrun_category()}  (this machine): 1 entries"
    assert lines[3] == ""
    assert lines[4] == "test.fastrun::FrCopy  wp=off  params=p=1"
    assert lines[5] == "  inputs:  {1(8),8(1) Float32}"
    assert lines[6] == "  outputs: {1(8),8(1) Float32}"
    assert lines[7].split() == ["algo", "time(ms)", "workspace", "attributes"]
    rows = [x.split() for x in lines[8:]]
    assert rows[0][0] == "FR_FAST" and rows[0][-1] == "USABLE_DEPEND_ON_SHAPE|ACCURACY_DEPEND_ON_BATCH"
    assert [r[0] for r in rows[1:]] == ["FR_BIGWS", "FR_MEDIUM", "FR_SLOW"]
    assert rows[1][2] == "64.00MiB" and rows[1][3] == "REPRODUCIBLE"
    times = [float(r[1]) for r in rows]
    assert times == sorted(times)
    assert all(len(x) <= 100 for x in lines)

    code, text, err = run_tool(capfd, "cache", "merge", a, b, "-o", out)
    assert code == 0, err
    assert text == f"wrote {out}: 2 entries from 2 files\n"
    status, _, entries = _core.fastrun_cache_read(str(out))
    assert status == "ok" and sorted(e[2] for e in entries) == [b"p=1", b"p=2"]
    net = load(copy_model(params=(1, 2)), fast_run=True, weight_preprocess=False, fast_run_algo_policy=out)
    assert net.fastrun_stats()["profiled"] == 0


def test_cache_tool_errors(tmp_path, capfd):
    bad = tmp_path / "bad.cache"
    bad.write_bytes(b"LRFASTRN\x01\x00\x00\x00")
    code, text, err = run_tool(capfd, "cache", "show", bad)
    assert code == 1 and text == ""
    assert err == f"loadrun: error: {bad}: truncated header\n"
    code, _, err = run_tool(capfd, "cache", "show", tmp_path / "none.cache")
    assert code == 1 and "no such file" in err
    good = tmp_path / "good.cache"
    load(copy_model(params=(1,)), fast_run=True, fast_run_algo_policy=good)
    code, _, err = run_tool(capfd, "cache", "merge", good, bad, "-o", tmp_path / "out.cache")
    assert code == 1 and "truncated header" in err
    assert not (tmp_path / "out.cache").exists()
    code, _, err = run_tool(capfd, "cache", "merge", good)
    assert code == 2 and "-o" in err
    code, _, err = run_tool(capfd, "cache")
    assert code == 2 and "cache show FILE" in err


# -- the progress bar ---------------------------------------------------------------
PROGRESS_CHILD = """
from loadrun import _core
import loadrun
_core._register_fastrun_test_op()
net = loadrun.load({model!r}, fast_run=True)
print(net.steps()[0][1])
"""


def _child_env():
    env = dict(os.environ)
    pkg_parent = os.path.dirname(os.path.dirname(loadrun.__file__))
    env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_progress_bar_only_on_a_terminal(model):
    code = PROGRESS_CHILD.format(model=model)
    piped = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_child_env(),
                           timeout=120)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == "FR_FAST\n" and piped.stderr == ""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=slave,
                             env=_child_env())
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        out, _ = p.communicate(timeout=120)
    finally:
        os.close(master)
    tty = b"".join(chunks).decode()
    assert p.returncode == 0 and out == b"FR_FAST\n"
    assert "\rfast-run: profiling [" in tty.replace("\x1b[K", "")
    assert "c0{FrCopy}" in tty
