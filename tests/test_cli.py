"""load_and_run's command line: flags, exit codes, output lines, --json."""
import json
import os
import re
import subprocess
import sys

import pytest

import loadrun

from cli_models import conv_model, relu_model, shape_model
from loadrun.cli import not_supported
from loadrun.cli.main import main, parse_args
from loadrun.cli.argv import UsageError
from loadrun.cli import report
from loadrun.cli.stats import summarize
import numpy as np

NUM = r"(\d+\.\d{3})"
RE_LOAD = re.compile(rf"^load model: {NUM}ms$")
RE_PREPARE = re.compile(rf"^=== prepare: {NUM}ms; going to warmup$")
RE_WARMUP = re.compile(rf"^warm up (\d+)  {NUM}ms$")
RE_ITER = re.compile(rf"^iter (\d+)/(\d+): e2e={NUM} ms \(host={NUM} ms\)$")
RE_FINISHED = re.compile(rf"^=== finished test #0: time={NUM} ms avg_time={NUM} ms "
                         rf"standard_deviation={NUM} ms min={NUM} ms max={NUM} ms$")
RE_TOTAL = re.compile(rf"^=== total time: {NUM}ms$")
RE_LOADRUN = re.compile(rf"^=== loadrun: median={NUM} ms p90={NUM} ms p99={NUM} ms "
                        r"throughput=(\d+\.\d{2}|inf) inferences/s$")
RE_STEP = re.compile(r"^(\w+)\((\w+)\): tensor layouts\((\{[^}]*\}(, \{[^}]*\})*)\) -> \((\{[^}]*\})\): "
                     r"algo=(\w+) workspace=(\d+\.\d{2})MiB attribute=(\d+)$")


@pytest.fixture
def model(tmp_path):
    return relu_model(tmp_path / "relu.onnx")


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_normal_run_lines(capsys, model):
    code, lines, err = run_cli(capsys, model, "--iter", "4", "--warmup-iter", "2")
    assert code == 0, err
    assert err == ""
    assert RE_LOAD.match(lines[0])
    assert lines[1] == "run testcase: 0"
    assert RE_PREPARE.match(lines[2]) and RE_WARMUP.match(lines[3]).group(1) == "0"
    assert RE_PREPARE.match(lines[4]) and RE_WARMUP.match(lines[5]).group(1) == "1"
    iters = [RE_ITER.match(x) for x in lines[6:10]]
    assert all(iters)
    assert [(m.group(1), m.group(2)) for m in iters] == [(str(i), "4") for i in range(4)]
    assert all(m.group(3) == m.group(4) for m in iters)  # e2e = host on CPU
    fin = RE_FINISHED.match(lines[10])
    assert fin
    times = [float(m.group(3)) for m in iters]
    t, avg, sd, mn, mx = map(float, fin.groups())
    assert t == pytest.approx(sum(times), abs=0.003)
    assert avg == pytest.approx(sum(times) / 4, abs=0.002)
    assert mn == min(times) and mx == max(times)
    assert RE_TOTAL.match(lines[11]).group(1) == fin.group(1)
    assert RE_LOADRUN.match(lines[12])
    assert len(lines) == 13


def test_iter_one_sd_is_zero_and_iter_zero_has_no_summary(capsys, model):
    code, lines, _ = run_cli(capsys, model, "--iter", "1", "--warmup-iter", "0")
    assert code == 0
    fin = [RE_FINISHED.match(x) for x in lines if x.startswith("=== finished")]
    assert len(fin) == 1 and fin[0].group(3) == "0.000"
    assert not any(x.startswith("=== prepare") or x.startswith("warm up") for x in lines)
    code, lines, _ = run_cli(capsys, model, "--iter", "0")
    assert code == 0
    assert not any(x.startswith("=== finished") or x.startswith("=== loadrun") or x.startswith("iter ")
                   for x in lines)
    assert lines[-1] == "=== total time: 0.000ms"


def test_stats():
    s = summarize([1.0, 2.0, 3.0, 4.0])
    assert s["time"] == 10.0 and s["avg"] == 2.5 and s["min"] == 1.0 and s["max"] == 4.0
    assert s["sd"] == pytest.approx(np.std([1, 2, 3, 4], ddof=1))
    assert s["median"] == 2.5
    assert s["p90"] == pytest.approx(np.percentile([1, 2, 3, 4], 90))
    assert s["p99"] == pytest.approx(np.percentile([1, 2, 3, 4], 99))
    assert s["throughput"] == pytest.approx(400.0)
    assert summarize([5.0])["sd"] == 0.0
    assert summarize([]) is None


@pytest.mark.parametrize("argv", [
    ["--iter", "3", "--warmup-iter", "2"],
    ["--iter=3", "--warmup_iter=2"],
    ["-iter", "3", "-warmup_iter", "2"],
    ["--iter", "3", "--warmup-iter=2"],
    ["-iter=3", "--warmup_iter", "2"],
])
def test_flag_spellings(capsys, model, argv):
    code, lines, err = run_cli(capsys, *argv, model)  # the model after the flags, too
    assert code == 0, err
    assert sum(1 for x in lines if RE_ITER.match(x)) == 3
    assert sum(1 for x in lines if RE_WARMUP.match(x)) == 2


def test_model_anywhere_and_bools():
    o = parse_args(["--iter", "5", "m.onnx", "--model_info", "--verbose=false"])
    assert (o.model, o.iters, o.model_info, o.verbose) == ("m.onnx", 5, True, False)
    o = parse_args(["--verbose", "--noverbose", "m.onnx", "--model-info=true"])
    assert (o.verbose, o.model_info) == (False, True)
    o = parse_args(["m.onnx", "--input", "-1,2"])  # a value that starts with '-' is a value
    assert o.input == "-1,2"
    o = parse_args(["--", "-odd-name.onnx"])
    assert o.model == "-odd-name.onnx"
    with pytest.raises(UsageError, match="takes true or false"):
        parse_args(["m.onnx", "--verbose=maybe"])


def test_unknown_flag(capsys, model):
    code, lines, err = run_cli(capsys, model, "--foo")
    assert code == 2 and lines == []
    assert err == "load_and_run: error: unknown flag --foo\n"
    # no abbreviations
    code, _, err = run_cli(capsys, model, "--it", "3")
    assert code == 2 and err == "load_and_run: error: unknown flag --it\n"
    code, _, err = run_cli(capsys, model, "--warmup", "3")
    assert code == 2 and "unknown flag --warmup" in err


@pytest.mark.parametrize("flag", ["--enable-nchw32", "--enable_nchw32", "-enable-nchw32", "--range=100",
                                  "--enable-chwn4", "--cuda", "--io_dump", "--check-var-value"])
def test_not_supported_flag(capsys, model, flag):
    code, lines, err = run_cli(capsys, model, flag)
    assert code == 2 and lines == []
    name = "--" + flag.lstrip("-").split("=")[0].replace("_", "-")
    assert err == f"load_and_run: error: {name} is not supported yet by this version of loadrun\n"


def test_not_supported_list_covers_the_spec_flags():
    for name in ["--io-dump-stderr",
                 "--bin-io-dump", "--bin-out-dump", "--copy-to-host", "--enable-nchw32", "--layout-transform",
                 "--enable-ioc16", "--enable-fuse-conv-bias-with-z", "--fuse-grain", "--enable-jit",
                 "--tensorrt-cache", "--cuda",
                 "--check-var-value", "--profile-host", "--wait-gdb",
                 "--c-opr-lib-with-param", "--batch-size",
                 "--fitting", "--packed-model-dump", "--pack-model-cryption"]:
        assert name in not_supported.NOT_SUPPORTED
    for name in ["--iter", "--warmup-iter", "--input", "--model-info", "--verbose", "--json",
                 "--fast-run", "--full-run", "--fast-run-algo-policy", "--reproducible",
                 "--binary-equal-between-batch", "--fast-run-shared-batch-size", "--workspace-limit",
                 "--weight-preprocess", "--disable-mem-opt", "--get-static-mem-info", "--record-comp-seq",
                 "--record-comp-seq2", "--fake-first", "--const-shape", "--no-sanity-check",
                 "--cpu", "--cpu-default", "--multithread", "--multithread-default", "--multi-thread-core-ids",
                 "--thread", "--check-dispatch", "--enable-nchw44", "--enable-nchw88"]:
        assert name not in not_supported.NOT_SUPPORTED


def test_usage_errors(capsys, model):
    code, _, err = run_cli(capsys)
    assert code == 2 and err.startswith("usage: load_and_run MODEL")
    code, _, err = run_cli(capsys, "--iter", "3")
    assert code == 2 and err.startswith("load_and_run: error: no model given\nusage:")
    code, _, err = run_cli(capsys, model, "--iter", "x")
    assert code == 2 and err == "load_and_run: error: argument --iter: invalid int value: 'x'\n"
    code, _, err = run_cli(capsys, model, "--iter")
    assert code == 2 and err == "load_and_run: error: flag --iter needs a value\n"
    code, _, err = run_cli(capsys, model, "--iter", "-2")
    assert code == 2 and "--iter must be >= 0" in err
    code, _, err = run_cli(capsys, model, model)
    assert code == 2 and "more than one model" in err


def test_help(capsys):
    code, lines, _ = run_cli(capsys, "--help")
    assert code == 0
    text = "\n".join(lines)
    for flag in ["--iter", "--warmup-iter", "--input", "--model-info", "--verbose", "--json"]:
        assert flag in text


@pytest.mark.parametrize("content, what", [
    (None, "model file not found"),
    (b"", "the file is empty"),
    (b"this is plain text, not a model\n" * 3, ""),
    ("truncated", ""),
])
def test_bad_model_files(capsys, tmp_path, model, content, what):
    path = tmp_path / "bad.onnx"
    if content == "truncated":
        data = open(model, "rb").read()
        path.write_bytes(data[: len(data) // 2])
    elif content is not None:
        path.write_bytes(content)
    code, lines, err = run_cli(capsys, str(path))
    assert code == 1 and lines == []
    assert err.startswith("load_and_run: error: ") and err.count("\n") == 1
    assert what in err and str(path) in err


def test_directory_as_model(capsys, tmp_path):
    code, _, err = run_cli(capsys, str(tmp_path))
    assert code == 1 and "is a directory" in err


MODEL_INFO_RELU = """\
+Runtime Model Info---------+---------+
|  type  | name |   shape   |  dtype  |
+--------+------+-----------+---------+
| INPUT  | data | {1,3,8,8} | float32 |
+--------+------+-----------+---------+
| OUTPUT | out  | {1,3,8,8} | float32 |
+--------+------+-----------+---------+"""

SPEC_TABLE = """\
+Runtime Model Info----+---------------+---------+
|  type  |    name     |     shape     |  dtype  |
+--------+-------------+---------------+---------+
| INPUT  |    data     | {1,3,224,224} | float32 |
+--------+-------------+---------------+---------+
| OUTPUT | cls_softmax |   {1,1000}    | float32 |
+--------+-------------+---------------+---------+"""


def test_model_info_table_matches_spec():
    rows = [("INPUT", "data", "{1,3,224,224}", "float32"), ("OUTPUT", "cls_softmax", "{1,1000}", "float32")]
    assert "\n".join(report.model_info_table(rows)) == SPEC_TABLE


def test_model_info_dtype_blank_unless_listed():
    lines = report.model_info_table([("INPUT", "x", "{2}", "int64"), ("INPUT", "y", "{2}", "uint8"),
                                     ("OUTPUT", "z", "{2}", "float64")])
    assert lines[3] == "| INPUT  |  x   |  {2}  |       |"
    assert lines[5] == "| INPUT  |  y   |  {2}  | uint8 |"
    assert lines[7] == "| OUTPUT |  z   |  {2}  |       |"


def test_model_info_printed_before_compile_and_at_end(capsys, model):
    code, lines, _ = run_cli(capsys, model, "--model-info", "--iter", "2")
    assert code == 0
    text = "\n".join(lines)
    assert text.count(MODEL_INFO_RELU) == 2
    first = lines.index(MODEL_INFO_RELU.splitlines()[0])
    assert RE_LOAD.match(lines[first - 1])
    assert lines.index("run testcase: 0") > first
    assert "\n".join(lines[-7:]) == MODEL_INFO_RELU


def test_model_info_symbolic_dims(capsys, tmp_path):
    code, lines, _ = run_cli(capsys, conv_model(tmp_path / "conv.onnx"), "--model-info", "--iter", "1")
    assert code == 0
    assert "| INPUT  | data | {N,3,8,8} | float32 |" in lines  # before compile
    assert "| OUTPUT | prob | {N,4,8,8} | float32 |" in lines
    assert "| INPUT  | data | {1,3,8,8} | float32 |" in lines  # compiled
    assert "| OUTPUT | prob | {1,4,8,8} | float32 |" in lines


def test_verbose_lines(capsys, tmp_path):
    code, lines, _ = run_cli(capsys, conv_model(tmp_path / "conv.onnx"), "--verbose", "--iter", "1")
    assert code == 0
    steps = [RE_STEP.match(x) for x in lines if "tensor layouts" in x]
    assert len(steps) == 1 and all(steps)  # the Relu is fused into the Conv (passes/fuse_conv.cpp)
    (conv,) = steps
    assert (conv.group(1), conv.group(2)) == ("Conv", "conv1")
    assert conv.group(3) == "{1(192),3(64),8(8),8(1) Float32}, {4(27),3(9),3(3),3(1) Float32}"
    assert conv.group(5) == "{1(256),4(64),8(8),8(1) Float32}"
    # the heuristic's choice, as the registry names it, with its attribute bits
    conv_algos = next(algos for _, t, algos in loadrun._core.algo_attributes() if t == "Conv")
    assert conv.group(6) in conv_algos and conv.group(6) != "NAIVE"
    assert re.fullmatch(r"\d+\.\d\d", conv.group(7))
    assert int(conv.group(8)) == conv_algos[conv.group(6)]
    assert lines.index(conv.group(0)) < lines.index("run testcase: 0")


def test_json_report(capsys, tmp_path, model):
    out = tmp_path / "r.json"
    code, lines, _ = run_cli(capsys, model, "--iter", "5", "--warmup-iter", "2", "--json", str(out),
                             "--input", "data:{1,3,8,8}")
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["model"]["path"] == model
    assert doc["options"]["iters"] == 5 and doc["options"]["warmup"] == 2
    assert doc["options"]["input"] == "data:{1,3,8,8}"
    t = doc["times_ms"]
    assert t["load"] > 0 and t["prepare"] > 0
    assert len(t["warmup"]) == 2 and len(t["iterations"]) == 5
    s = doc["summary"]
    assert s["iterations"] == 5
    assert s["time"] == pytest.approx(sum(t["iterations"]))
    assert s["avg"] == pytest.approx(np.mean(t["iterations"]))
    assert s["sd"] == pytest.approx(np.std(t["iterations"], ddof=1))
    assert s["min"] == min(t["iterations"]) and s["max"] == max(t["iterations"])
    assert s["median"] == pytest.approx(np.median(t["iterations"]))
    assert s["p90"] == pytest.approx(np.percentile(t["iterations"], 90))
    assert s["p99"] == pytest.approx(np.percentile(t["iterations"], 99))
    assert s["throughput"] == pytest.approx(5000.0 / sum(t["iterations"]))
    # the printed figures are the JSON's, rounded
    iters = [float(RE_ITER.match(x).group(3)) for x in lines if RE_ITER.match(x)]
    assert len(iters) == 5
    assert all(abs(a - b) <= 0.0005 + 1e-9 for a, b in zip(iters, t["iterations"]))
    assert doc["io"] == [
        {"type": "INPUT", "name": "data", "shape": [1, 3, 8, 8], "dtype": "float32"},
        {"type": "OUTPUT", "name": "out", "shape": [1, 3, 8, 8], "dtype": "float32"},
    ]
    m = doc["machine"]
    assert m["cpu"] and m["logical_cores"] == os.cpu_count()
    assert set(m["isa"]) <= {"sse4_2", "avx", "avx2", "fma", "avx512f", "asimd", "asimddp", "neon"}
    assert m["python"] == sys.version.split()[0]
    import loadrun
    assert m["loadrun"] == loadrun.__version__


def test_json_iter_zero_and_unwritable(capsys, tmp_path, model):
    out = tmp_path / "r.json"
    assert run_cli(capsys, model, "--iter", "0", "--json", str(out))[0] == 0
    assert json.loads(out.read_text())["summary"] is None
    code, lines, err = run_cli(capsys, model, "--json", str(tmp_path / "no" / "r.json"))
    assert code == 1 and lines == []  # refused before the run
    assert err.startswith("load_and_run: error: --json: no such directory")


def test_zoo_model(capsys, monkeypatch, tmp_path):
    """zoo:NAME goes through loadrun.zoo (list_models / build)."""
    import types

    import onnx

    path = relu_model(tmp_path / "z.onnx")
    fake = types.ModuleType("loadrun.zoo")
    fake.list_models = lambda: [("tiny", "a Relu")]
    fake.build = lambda name: onnx.load(path)
    fake.export = lambda name, p: onnx.save(onnx.load(path), p)
    monkeypatch.setitem(sys.modules, "loadrun.zoo", fake)
    import loadrun
    monkeypatch.setattr(loadrun, "zoo", fake, raising=False)
    code, lines, _ = run_cli(capsys, "zoo:tiny", "--iter", "2")
    assert code == 0 and sum(1 for x in lines if RE_ITER.match(x)) == 2
    code, _, err = run_cli(capsys, "zoo:nope")
    assert code == 1 and err == "load_and_run: error: no zoo model named 'nope' (zoo models: tiny)\n"

    from loadrun.cli.tools import main as tools_main
    assert tools_main(["zoo", "list"]) == 0
    assert capsys.readouterr().out == "tiny  a Relu\n"
    dst = tmp_path / "exported.onnx"
    assert tools_main(["zoo", "export", "tiny", str(dst)]) == 0
    assert dst.exists()
    assert tools_main(["zoo", "export", "nope", str(dst)]) == 1
    assert "no zoo model named 'nope'" in capsys.readouterr().err


def test_tools_run_and_usage(capsys, model):
    from loadrun.cli.tools import main as tools_main

    assert tools_main(["run", model, "--iter=2"]) == 0
    assert sum(1 for x in capsys.readouterr().out.splitlines() if RE_ITER.match(x)) == 2
    assert tools_main([]) == 2
    assert tools_main(["frobnicate"]) == 2
    assert "loadrun: error:" in capsys.readouterr().err


def test_input_error_exit_code(capsys, model):
    code, lines, err = run_cli(capsys, model, "--input", "data:[1,2]")
    assert code == 1
    assert err == "load_and_run: error: input 'data': model expects 4 dims {1,3,8,8}, got 1 dims {2}\n"


def _subprocess(*argv):
    # The child imports loadrun from where this process did (a source tree
    # with a built module, or the installed package).
    env = dict(os.environ)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(loadrun.__file__)))
    env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "loadrun.cli.main", *argv], capture_output=True,
                          text=True, env=env, timeout=120)


def test_subprocess_exit_codes(tmp_path, model):
    ok = _subprocess(model, "--iter", "2")
    assert ok.returncode == 0 and ok.stderr == ""
    assert RE_LOADRUN.match(ok.stdout.splitlines()[-1])
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage\xff\xff\xff")
    r = _subprocess(str(bad))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith("load_and_run: error: ") and r.stderr.count("\n") == 1
    r = _subprocess(model, "--foo")
    assert r.returncode == 2 and r.stderr == "load_and_run: error: unknown flag --foo\n"
    r = _subprocess(model, "--input", "data:nope.npy")
    assert r.returncode == 1 and "Traceback" not in r.stderr and "nope.npy" in r.stderr


def test_shape_model_int_inputs(capsys, tmp_path):
    path = shape_model(tmp_path / "s.onnx", [("ids", np.int32, ["N", 5]), ("mask", np.uint8, [1, 5])])
    code, lines, err = run_cli(capsys, path, "--input", "ids:[[1,2,3,4,5],[6,7,8,9,10]]", "--iter", "1",
                               "--model-info")
    assert code == 0, err
    rows = [[c.strip() for c in x.split("|")[1:-1]] for x in lines if x.startswith("| ")]
    assert ["INPUT", "ids", "{N,5}", "int32"] in rows  # declared
    assert ["INPUT", "ids", "{2,5}", "int32"] in rows  # compiled for the given data
    assert ["INPUT", "mask", "{1,5}", "uint8"] in rows
    assert ["OUTPUT", "ids_shape", "{2}", ""] in rows  # int64: dtype cell blank
