"""load_and_run's memory flags: --disable-mem-opt (both spellings),
--get-static-mem-info DIR, --max-plans, and the memory lines of --model-info
and --json."""
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from onnx import helper, save

from cli_models import conv_model
from loadrun.cli.main import main
from onnx_ref import make_model


def two_conv_model(path):
    rng = np.random.default_rng(0)
    w1, w2 = rng.random((4, 3, 3, 3), dtype=np.float32), rng.random((4, 4, 3, 3), dtype=np.float32)
    w3 = rng.random((2, 4, 3, 3), dtype=np.float32)
    m = make_model([helper.make_node("Conv", ["data", "w1"], ["c1"], pads=[1, 1, 1, 1]),
                    helper.make_node("Relu", ["c1"], ["r1"]),
                    helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1]),
                    helper.make_node("Conv", ["c2", "w3"], ["prob"], pads=[1, 1, 1, 1])],
                   [("data", np.float32, [1, 3, 8, 8])], [("prob", np.float32, [1, 2, 8, 8])],
                   [("w1", w1), ("w2", w2), ("w3", w3)])
    save(m, str(path))
    return str(path)


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def json_report(capsys, tmp_path, *flags):
    path = tmp_path / "r.json"
    code, out, err = run_cli(capsys, *flags, "--iter", "1", "--json", str(path))
    assert code == 0, err
    return json.loads(path.read_text())


@pytest.mark.parametrize("flag", ["--disable-mem-opt", "--disable_mem_opt"])
def test_disable_mem_opt_plans_without_reuse(capsys, tmp_path, flag):
    model = two_conv_model(tmp_path / "conv2.onnx")
    # without the sanity check's guard bytes, which the arena would add per tensor
    on = json_report(capsys, tmp_path, model, "--no-sanity-check")["memory"]
    off = json_report(capsys, tmp_path, model, flag, "--no-sanity-check")["memory"]
    assert off["arena_bytes"] == off["no_reuse_bytes"] == on["no_reuse_bytes"]
    assert on["arena_bytes"] < off["arena_bytes"]
    assert on["lower_bound_bytes"] <= on["arena_bytes"]


def test_model_info_prints_memory(capsys, tmp_path):
    model = conv_model(tmp_path / "conv.onnx")
    code, out, err = run_cli(capsys, model, "--iter", "1", "--model-info")
    assert code == 0, err
    lines = [line for line in out.splitlines() if line.startswith("memory  ")]
    labels = [line.split(":")[0] for line in lines]
    assert labels == ["memory  weights as loaded", "memory  weights after preprocessing (kept + prepared)",
                      "memory  activation arena (planned)", "memory  lower bound (live at once)",
                      "memory  no-reuse total", "memory  workspace"]
    assert f"({4 * 3 * 3 * 3 * 4} bytes)" in lines[0]  # the conv's weights


def test_get_static_mem_info_writes_the_plan(capsys, tmp_path, monkeypatch):
    model = conv_model(tmp_path / "conv.onnx")
    out_dir = tmp_path / "a" / "mem.info-dir"  # any path, created (no quirk)
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, model, "--iter", "1", "--get-static-mem-info", str(out_dir))
    assert code == 0, err
    graph = json.loads((out_dir / "graph.json").read_text())
    assert [o["name"] for o in graph["oprs"]] == ["conv1{Conv}"]  # Relu fused into the conv
    info = json.loads((out_dir / "StaticMemoryInfo.json").read_text())
    chunks = info["chunk"]
    assert {c["type"] for c in chunks.values()} == {"static_mem", "weight_mem"}
    for c in chunks.values():
        assert all(isinstance(v, str) for v in c.values())
        assert int(c["logic_addr_begin"]) <= int(c["logic_addr_end"])
    assert info["opr"] == {"0": {"id": "0", "name": "conv1{Conv}"}}
    svg = ET.parse(out_dir / "memory.svg").getroot()
    assert svg.tag.endswith("svg")


def test_max_plans_flag(capsys, tmp_path):
    model = conv_model(tmp_path / "conv.onnx")
    code, out, err = run_cli(capsys, model, "--iter", "1", "--max-plans", "0")
    assert code == 2 and "--max-plans must be >= 1" in err
    code, out, err = run_cli(capsys, model, "--iter", "1", "--max-plans", "2")
    assert code == 0, err
