"""`--get-static-mem-info DIR` writer (loadrun.dumps.static_mem_info): the
JSON files in the spec §7 shape with their values checked, and memory.svg
as well-formed XML with one rectangle per chunk."""
import json
import xml.etree.ElementTree as ET

import pytest

from loadrun.dumps.static_mem_info import (
    chunk_from_request,
    memory_svg,
    static_memory_info,
    write_graph_json,
    write_static_mem_info,
)

INT_MAX = 2**31 - 1
SVG = "{http://www.w3.org/2000/svg}"

# step 0: a = conv(x); step 1: b = relu(a) in place over a; step 2: y = fc(b).
# As in MegEngine, a lives until relu reads it and b, which overwrites it,
# from relu on.
OPRS = [{"id": 7, "name": "conv"}, {"id": 9, "name": "relu"}, {"id": 12, "name": "fc"}]


def plan_chunks():
    return [
        chunk_from_request(0, "x", 4096, -1, 0, 0),  # graph input
        chunk_from_request(1, "a", 8192, 0, 1, 4096),
        chunk_from_request(2, "b", 8192, 1, 2, 4096, overwrite_dest_id=1),
        chunk_from_request(3, "y", 100, 2, INT_MAX, 0),  # graph output
        {"id": 4, "name": "conv.w", "type": "weight_mem", "addr_begin": 0, "addr_end": 1000,
         "time_begin": 0, "time_end": 0, "overwrite_dest_id": None},
        {"id": 5, "name": "fc.w", "type": "weight_mem", "addr_begin": 500, "addr_end": 800,
         "time_begin": 0, "time_end": 0},
    ]


GRAPH = {"operator": {"7": {"name": "conv"}}, "comp_seq": ["7", "9", "12"]}  # passed through


def test_json_files(tmp_path):
    out = write_static_mem_info(tmp_path / "info", plan_chunks(), OPRS, GRAPH, arena_bytes=12288)
    assert out == tmp_path / "info"
    assert json.loads((out / "graph.json").read_text()) == GRAPH
    info = json.loads((out / "StaticMemoryInfo.json").read_text())

    def chunk(cid, kind, t0, t1, a0, a1, dest="-1"):
        return {"id": cid, "type": kind, "time_begin": t0, "time_end": t1,
                "logic_addr_begin": a0, "logic_addr_end": a1, "overwrite_dest_id": dest}

    assert info == {
        "chunk": {
            "0": chunk("0", "static_mem", "0", "1", "0", "4096"),  # input clamped to step 0
            "1": chunk("1", "static_mem", "0", "2", "4096", "12288"),
            "2": chunk("2", "static_mem", "1", "3", "4096", "12288", dest="1"),
            "3": chunk("3", "static_mem", "2", "3", "0", "100"),  # output: to the end
            # weights above the arena (12288 > highest end), one after another,
            # live for the whole sequence
            "4": chunk("4", "weight_mem", "0", "3", "12288", "13288"),
            "5": chunk("5", "weight_mem", "0", "3", "13288", "13588"),
        },
        "opr": {"0": {"id": "7", "name": "conv"}, "1": {"id": "9", "name": "relu"},
                "2": {"id": "12", "name": "fc"}},
    }
    # Static chunks first, then weights, in the order given.
    assert list(info["chunk"]) == ["0", "1", "2", "3", "4", "5"]


def test_weights_sit_on_the_highest_end_without_arena_bytes():
    info = static_memory_info(plan_chunks(), OPRS)
    assert info["chunk"]["4"]["logic_addr_begin"] == "12288"  # max addr_end of the static chunks
    info = static_memory_info(plan_chunks(), OPRS, arena_bytes=100)  # below the plan: ignored
    assert info["chunk"]["4"]["logic_addr_begin"] == "12288"


def test_readable_the_way_graph_info_analyze_reads_it():
    # MegEngine's reader indexes "opr" by a chunk's time_begin and walks
    # range(begin (+1 when overwriting), end) over "opr": every step it
    # touches must exist, and the peak it derives is the highest static end.
    info = static_memory_info(plan_chunks(), OPRS)
    oprs = info["opr"]
    live = {k: 0 for k in oprs}
    peak = 0
    for c in info["chunk"].values():
        size = int(c["logic_addr_end"]) - int(c["logic_addr_begin"])
        if c["type"] != "static_mem":
            continue
        assert c["time_begin"] in oprs
        begin = int(c["time_begin"]) + (c["overwrite_dest_id"] != "-1")
        for step in range(begin, int(c["time_end"])):
            live[str(step)] += size
        peak = max(peak, int(c["logic_addr_end"]))
    assert peak == 12288
    assert live == {"0": 4096 + 8192, "1": 8192, "2": 8192 + 100}  # b counted in a's bytes at 1


def test_graph_json_alone(tmp_path):
    path = write_graph_json(tmp_path / "new", GRAPH)
    assert path == tmp_path / "new" / "graph.json"
    assert json.loads(path.read_text()) == GRAPH
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["graph.json"]


def test_chunk_from_request():
    assert chunk_from_request(3, "t", 640, 2, 5, 128) == {
        "id": 3, "name": "t", "type": "static_mem", "time_begin": 2, "time_end": 6,
        "addr_begin": 128, "addr_end": 768, "overwrite_dest_id": None}


def test_svg_one_rect_per_chunk(tmp_path):
    chunks = plan_chunks()
    write_static_mem_info(tmp_path, chunks, OPRS, GRAPH)
    root = ET.parse(tmp_path / "memory.svg").getroot()
    assert root.tag == SVG + "svg"
    rects = {r.get("data-chunk"): r for r in root.iter(SVG + "rect")}
    assert sorted(rects) == [str(c["id"]) for c in chunks]  # one per chunk
    titles = {cid: r.find(SVG + "title").text for cid, r in rects.items()}
    for c in chunks:
        assert titles[str(c["id"])].startswith(f"{c['name']} (chunk {c['id']}")
    assert "8 KiB (8192 B) at offset [4096, 12288)" in titles["1"]
    assert "live at steps 0..1 (from conv to relu)" in titles["1"]
    assert "overwrites chunk 1 in place" in titles["2"]
    assert "live at steps 2..2" in titles["3"]
    assert titles["4"] == "conv.w (chunk 4, weight)\n1000 B"
    assert titles["5"] == "fc.w (chunk 5, weight)\n300 B"
    # Weights are drawn above the arena: their bottoms above every static top.
    static_top = min(float(rects[k].get("y")) for k in "0123")
    weight_bottom = max(float(rects[k].get("y")) + float(rects[k].get("height")) for k in "45")
    assert weight_bottom < static_top
    # Weights are drawn to scale, each above the one before.
    h4, h5 = (float(rects[k].get("height")) for k in "45")
    assert h4 == pytest.approx(1000 / 300 * h5, abs=0.01)
    assert float(rects["5"].get("y")) < float(rects["4"].get("y"))
    # Axis labels, and the steps' operators on hover.
    texts = " ".join(t.text or "" for t in root.iter(SVG + "text"))
    assert "arena offset" in texts and "step (operator" in texts
    steps = [p.find(SVG + "title").text for p in root.iter(SVG + "polygon")]
    assert steps == ["step 0: conv (opr 7)", "step 1: relu (opr 9)", "step 2: fc (opr 12)"]


def test_svg_scales_offsets_and_steps():
    # Two chunks: the one twice as large is drawn twice as tall, the one
    # twice as long twice as wide; both sit on offset 0 (the same baseline).
    chunks = [
        {"id": 0, "name": "p", "type": "static_mem", "time_begin": 0, "time_end": 1,
         "addr_begin": 0, "addr_end": 2048},
        {"id": 1, "name": "q", "type": "static_mem", "time_begin": 1, "time_end": 3,
         "addr_begin": 0, "addr_end": 1024},
    ]
    oprs = [{"id": i, "name": f"op{i}"} for i in range(4)]
    root = ET.fromstring(memory_svg(chunks, oprs))
    p, q = list(root.iter(SVG + "rect"))
    h = lambda r: float(r.get("height"))  # noqa: E731
    w = lambda r: float(r.get("width"))  # noqa: E731
    assert h(p) == pytest.approx(2 * h(q))
    assert w(q) == pytest.approx(2 * w(p))
    assert float(p.get("y")) + h(p) == pytest.approx(float(q.get("y")) + h(q))
    assert float(q.get("x")) == pytest.approx(float(p.get("x")) + w(p))


def test_names_are_escaped(tmp_path):
    name = 'a<b>&"c"'
    chunks = [chunk_from_request(0, name, 64, 0, 0, 0)]
    write_static_mem_info(tmp_path, chunks, [{"id": 0, "name": "<op>&"}])
    root = ET.parse(tmp_path / "memory.svg").getroot()
    assert next(root.iter(SVG + "rect")).find(SVG + "title").text.startswith(name)
    assert not (tmp_path / "graph.json").exists()  # no graph given


def test_any_directory(tmp_path, monkeypatch):
    # MegEngine only takes [0-9a-zA-Z/] and puts even an absolute DIR under
    # the cwd; we take any path as it is and create it.
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    target = tmp_path / "deep" / "mem-info_v1.0"
    write_static_mem_info(str(target), plan_chunks(), OPRS, GRAPH)
    for f in ("graph.json", "StaticMemoryInfo.json", "memory.svg"):
        assert (target / f).is_file()
    assert list(elsewhere.iterdir()) == []
    write_static_mem_info("rel/dir", plan_chunks(), OPRS)  # relative: under the cwd
    assert (elsewhere / "rel" / "dir" / "StaticMemoryInfo.json").is_file()


def test_no_chunks_and_no_steps(tmp_path):
    write_static_mem_info(tmp_path, [], [], {})
    assert json.loads((tmp_path / "StaticMemoryInfo.json").read_text()) == {"chunk": {}, "opr": {}}
    root = ET.parse(tmp_path / "memory.svg").getroot()
    assert list(root.iter(SVG + "rect")) == []


def test_bad_input():
    with pytest.raises(ValueError, match="appears twice"):
        static_memory_info(plan_chunks() + [chunk_from_request(0, "again", 64, 0, 0, 0)], OPRS)
    bad = chunk_from_request(9, "z", 64, 0, 0, 0)
    bad["type"] = "dynamic"
    with pytest.raises(ValueError, match="type 'dynamic'"):
        static_memory_info([bad], OPRS)
