"""`--get-static-mem-info DIR`: the static memory plan, as MegEngine writes it
(spec §7) plus a picture.

write_static_mem_info(out_dir, chunks, oprs, graph) writes

- DIR/graph.json: `graph` as given (the `graph_exec` description of §6;
  write_graph_json() writes it alone, for the after-compile moment);
- DIR/StaticMemoryInfo.json: `{"chunk": {id: {id, type, time_begin, time_end,
  logic_addr_begin, logic_addr_end, overwrite_dest_id}}, "opr": {step: {id,
  name}}}`, every value a string, the shape MegEngine's graph_info_analyze.py
  reads;
- DIR/memory.svg: the plan drawn (steps across, arena offsets up, one
  rectangle per chunk whose tooltip names the tensor, its size and lifetime;
  weights in their own band above the arena), viewable in any browser.

DIR is any path and is created if missing. (MegEngine accepts only
`^[0-9a-zA-Z/]+$` and puts DIR under the current directory even when it is
absolute; that is a quirk we do not copy.)

Input, plain data so the runtime can fill it from its own structures:

- `oprs`: the execution sequence, `[{"id", "name"}]`; a position in it is a
  step.
- `chunks`: `[{"id", "name", "type", "time_begin", "time_end", "addr_begin",
  "addr_end", "overwrite_dest_id"}]`. Times are steps, half-open as in the
  file: the chunk is made at step `time_begin` and freed before `time_end`.
  A `time_begin` below 0 (a graph input) is written as 0 and a `time_end`
  past the last step (a graph output) as the number of steps; a chunk is live
  at least one step. Addresses are arena offsets, `[addr_begin, addr_end)`.
  `overwrite_dest_id` is the chunk this one overwrites in place (None or -1:
  none). For `type == "weight_mem"` only the size `addr_end - addr_begin`
  counts: weights are laid out one after another from the top of the arena
  and live for the whole sequence, as MegEngine does.

chunk_from_request() turns a planner request (inclusive steps, -1 for an
input, INT_MAX for an output; csrc/memory/mem_plan.h) into such a chunk.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence
from xml.sax.saxutils import escape, quoteattr

STATIC = "static_mem"
WEIGHT = "weight_mem"


def chunk_from_request(
    chunk_id: int,
    name: str,
    nbytes: int,
    first_use: int,
    last_use: int,
    offset: int,
    overwrite_dest_id: Optional[int] = None,
) -> dict:
    """A static chunk from a planned request: inclusive [first_use, last_use]
    becomes half-open [first_use, last_use + 1); the writer clamps inputs and
    outputs to the sequence."""
    return {
        "id": chunk_id,
        "name": name,
        "type": STATIC,
        "time_begin": first_use,
        "time_end": last_use + 1,
        "addr_begin": offset,
        "addr_end": offset + nbytes,
        "overwrite_dest_id": overwrite_dest_id,
    }


def _normalize(chunks, n_steps: int, arena_bytes: Optional[int]):
    """Chunks with times clamped to the sequence and weights placed above the
    arena: ([static], [weight], arena_top)."""
    seen = set()
    static, weights = [], []
    for c in chunks:
        cid = str(c["id"])
        if cid in seen:
            raise ValueError(f"chunk id {cid} appears twice")
        seen.add(cid)
        kind = c.get("type", STATIC)
        if kind not in (STATIC, WEIGHT):
            raise ValueError(f"chunk {cid}: type {kind!r}, expected {STATIC!r} or {WEIGHT!r}")
        begin, end = int(c["addr_begin"]), int(c["addr_end"])
        if end < begin or begin < 0:
            raise ValueError(f"chunk {cid}: addresses [{begin}, {end}) are not a range")
        dest = c.get("overwrite_dest_id")
        d = {
            "id": cid,
            "name": str(c.get("name", "")),
            "type": kind,
            "addr_begin": begin,
            "addr_end": end,
            "overwrite_dest_id": "-1" if dest is None or str(dest) == "-1" else str(dest),
        }
        if kind == WEIGHT:
            d["overwrite_dest_id"] = "-1"
            weights.append(d)
            continue
        t0 = max(int(c["time_begin"]), 0)
        t1 = min(int(c["time_end"]), n_steps)
        t1 = min(max(t1, t0 + 1), max(n_steps, t0 + 1))
        d["time_begin"], d["time_end"] = t0, t1
        static.append(d)
    top = max([c["addr_end"] for c in static] + [arena_bytes or 0, 0])
    at = top
    for w in weights:
        size = w["addr_end"] - w["addr_begin"]
        w["addr_begin"], w["addr_end"] = at, at + size
        w["time_begin"], w["time_end"] = 0, n_steps
        at += size
    return static, weights, top


def static_memory_info(chunks, oprs, arena_bytes: Optional[int] = None) -> dict:
    """The StaticMemoryInfo.json object (spec §7): every value a string."""
    static, weights, _ = _normalize(chunks, len(oprs), arena_bytes)
    out_chunks = {}
    for c in static + weights:
        out_chunks[c["id"]] = {
            "id": c["id"],
            "type": c["type"],
            "time_begin": str(c["time_begin"]),
            "time_end": str(c["time_end"]),
            "logic_addr_begin": str(c["addr_begin"]),
            "logic_addr_end": str(c["addr_end"]),
            "overwrite_dest_id": c["overwrite_dest_id"],
        }
    out_oprs = {
        str(step): {"id": str(o["id"]), "name": str(o["name"])} for step, o in enumerate(oprs)
    }
    return {"chunk": out_chunks, "opr": out_oprs}


def write_graph_json(out_dir: os.PathLike | str, graph: Mapping[str, Any]) -> Path:
    """DIR/graph.json alone (MegEngine writes it after compiling, before the
    first run writes the rest); creates DIR; returns the file's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "graph.json", "w") as f:
        json.dump(graph, f, indent=1)
    return out / "graph.json"


def write_static_mem_info(
    out_dir: os.PathLike | str,
    chunks: Sequence[Mapping[str, Any]],
    oprs: Sequence[Mapping[str, Any]],
    graph: Optional[Mapping[str, Any]] = None,
    arena_bytes: Optional[int] = None,
) -> Path:
    """Write graph.json (when `graph` is given), StaticMemoryInfo.json and
    memory.svg into out_dir, creating it; returns its path. `arena_bytes`, the
    planned arena, may exceed the highest chunk end (alignment); weights are
    placed above whichever is larger."""
    out = Path(out_dir)
    if graph is not None:
        write_graph_json(out, graph)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "StaticMemoryInfo.json", "w") as f:
        json.dump(static_memory_info(chunks, oprs, arena_bytes), f, indent=1)
    with open(out / "memory.svg", "w") as f:
        f.write(memory_svg(chunks, oprs, arena_bytes))
    return out


# --------------------------------------------------------------- picture ---

_PALETTE = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#86bcb6",
]
_WEIGHT_FILL = ["#bab0ac", "#d4cfcc"]
_LIVE = "#b00020"


def _fmt_bytes(n: float) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"


def _size_text(n: int) -> str:
    """'8 KiB (8192 B)', or '100 B' where the two would say the same."""
    short = _fmt_bytes(n)
    return short if short.endswith(" B") else f"{short} ({n} B)"


def _nice_step(span: float, target: int) -> float:
    """A 1-2-5 step giving about `target` intervals over span."""
    raw = span / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag


def _byte_ticks(top: int):
    """Offsets for the y axis in a readable unit: [(bytes, label)]."""
    if top <= 0:
        return [(0, "0")]
    unit, scale = "B", 1
    for u, s in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if top >= 2 * s:
            unit, scale = u, s
            break
    step = _nice_step(top / scale, 6)
    ticks, v = [], 0.0
    while v * scale <= top * 1.0001:
        ticks.append((v * scale, f"{v:g} {unit}" if v else "0"))
        v += step
    return ticks


def memory_svg(chunks, oprs, arena_bytes: Optional[int] = None) -> str:
    """The plan as an SVG document (str): see the module docstring."""
    n = len(oprs)
    static, weights, top = _normalize(chunks, n, arena_bytes)
    steps = max(n, 1)
    weight_total = sum(w["addr_end"] - w["addr_begin"] for w in weights)

    # Geometry: plot width from the step count, arena panel fixed height;
    # the weight band uses the arena's scale when that keeps it short, else
    # its own (said so in its label).
    left, right, title_h, bottom_h = 96, 24, 88, 70
    plot_w = min(1600.0, max(640.0, 14.0 * steps))
    arena_h = 440.0
    sy = arena_h / max(top, 1)
    sx = plot_w / steps
    if weights:
        same_scale = weight_total * sy <= 140
        band_h = max(weight_total * sy, 24.0) if same_scale else 140.0
        wsy = band_h / max(weight_total, 1)
        gap = 28.0
    else:
        same_scale, band_h, wsy, gap = True, 0.0, 0.0, 0.0
    width = left + plot_w + right
    band_y0 = title_h  # top of the weight band
    sep_y = band_y0 + band_h + gap / 2  # separator between weights and arena
    arena_y0 = band_y0 + band_h + gap  # top of the arena panel (offset = top)
    base_y = arena_y0 + arena_h  # offset 0
    height = base_y + bottom_h

    live = [0] * steps
    for c in static:
        for t in range(c["time_begin"], min(c["time_end"], steps)):
            live[t] += c["addr_end"] - c["addr_begin"]
    peak_live = max(live) if live else 0

    o = []
    add = o.append
    add('<?xml version="1.0" encoding="UTF-8"?>')
    add(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="12" '
        'style="background:#fff">'
    )
    add("<title>loadrun static memory plan</title>")
    add(
        f'<text x="{left}" y="22" font-size="15" font-weight="bold">Static memory plan: '
        f"arena {escape(_fmt_bytes(top))} ({top} B), {n} steps, {len(static)} tensors</text>"
    )
    summary = f"peak of live bytes {_fmt_bytes(peak_live)}" + (
        f" (the arena is {100.0 * top / peak_live:.1f}% of it)" if peak_live else ""
    )
    if weights:
        summary += f"; weights {_fmt_bytes(weight_total)} in {len(weights)} tensors"
    add(f'<text x="{left}" y="40" fill="#444">{escape(summary)}</text>')
    # Legend: the live-bytes curve, its peak, and what hovering shows.
    ly = 58
    add(
        f'<line x1="{left}" y1="{ly - 4}" x2="{left + 24}" y2="{ly - 4}" stroke="{_LIVE}" '
        'stroke-width="1.5"/>'
    )
    add(f'<text x="{left + 30}" y="{ly}" fill="#444">bytes live at each step</text>')
    add(
        f'<line x1="{left + 190}" y1="{ly - 4}" x2="{left + 214}" y2="{ly - 4}" stroke="{_LIVE}" '
        'stroke-width="1" stroke-dasharray="4 3"/>'
    )
    add(f'<text x="{left + 220}" y="{ly}" fill="#444">their peak: no plan needs less</text>')
    add(f'<text x="{left + 440}" y="{ly}" fill="#444">hover a block for its tensor</text>')

    # Weights: one full-width strip each, stacked, in their own band.
    if weights:
        scale_note = "same scale as the arena" if same_scale else "own scale"
        add(
            f'<text x="{left - 8}" y="{band_y0 + band_h / 2 + 4:.1f}" text-anchor="end" '
            f'fill="#555">weights</text>'
        )
        add(
            f'<text x="{left + plot_w}" y="{band_y0 - 4:.1f}" text-anchor="end" fill="#555">'
            f"{escape(_fmt_bytes(weight_total))} of weights, live for the whole run "
            f"({scale_note})</text>"
        )
        wb = band_y0 + band_h
        for i, w in enumerate(weights):
            size = w["addr_end"] - w["addr_begin"]
            y0 = wb - (w["addr_end"] - top) * wsy
            h = size * wsy
            tip = f"{w['name'] or 'weight'} (chunk {w['id']}, weight)\n{_size_text(size)}"
            add(
                f'<rect class="chunk weight" data-chunk={quoteattr(w["id"])} '
                f'x="{left:.2f}" y="{y0:.2f}" width="{plot_w:.2f}" '
                f'height="{h:.3f}" fill="{_WEIGHT_FILL[i % 2]}">'
                f"<title>{escape(tip)}</title></rect>"
            )
        add(
            f'<line x1="{left - 40}" y1="{sep_y:.1f}" x2="{left + plot_w}" y2="{sep_y:.1f}" '
            'stroke="#333" stroke-width="1.5" stroke-dasharray="6 3"/>'
        )

    # Arena axes and grid.
    for off, label in _byte_ticks(top):
        y = base_y - off * sy
        add(
            f'<line x1="{left}" y1="{y:.2f}" x2="{left + plot_w}" y2="{y:.2f}" '
            'stroke="#e4e4e4" stroke-width="1"/>'
        )
        add(f'<text x="{left - 6}" y="{y + 4:.2f}" text-anchor="end">{escape(label)}</text>')
    add(
        f'<text transform="translate(18 {arena_y0 + arena_h / 2:.1f}) rotate(-90)" '
        'text-anchor="middle" fill="#333">arena offset</text>'
    )

    # Chunks.
    for i, c in enumerate(static):
        size = c["addr_end"] - c["addr_begin"]
        x = left + c["time_begin"] * sx
        w = (c["time_end"] - c["time_begin"]) * sx
        y = base_y - c["addr_end"] * sy
        h = size * sy
        last = c["time_end"] - 1
        names = [oprs[t]["name"] for t in (c["time_begin"], last) if 0 <= t < n]
        tip = (
            f"{c['name'] or 'tensor'} (chunk {c['id']})\n"
            f"{_size_text(size)} at offset [{c['addr_begin']}, {c['addr_end']})\n"
            f"live at steps {c['time_begin']}..{last}"
            + (f" (from {names[0]} to {names[-1]})" if names else "")
        )
        extra = ""
        if c["overwrite_dest_id"] != "-1":
            tip += f"\noverwrites chunk {c['overwrite_dest_id']} in place"
            extra = ' stroke="#000" stroke-dasharray="3 2" stroke-width="1"'
        elif w > 3 and h > 3:
            extra = ' stroke="#fff" stroke-width="0.6"'
        add(
            f'<rect class="chunk" data-chunk={quoteattr(c["id"])} '
            f'x="{x:.2f}" y="{y:.2f}" width="{w:.2f}" height="{h:.3f}" '
            f'fill="{_PALETTE[i % len(_PALETTE)]}" fill-opacity="0.85"{extra}>'
            f"<title>{escape(tip)}</title></rect>"
        )

    # Live bytes per step, and its peak: the bound no plan can beat.
    if static and n:
        pts = []
        for t, v in enumerate(live):
            y = base_y - v * sy
            pts.append(f"{left + t * sx:.2f},{y:.2f} {left + (t + 1) * sx:.2f},{y:.2f}")
        add(
            f'<polyline points="{" ".join(pts)}" fill="none" stroke="{_LIVE}" '
            'stroke-width="1.5"><title>bytes live at each step</title></polyline>'
        )
        py = base_y - peak_live * sy
        add(
            f'<line x1="{left}" y1="{py:.2f}" x2="{left + plot_w}" y2="{py:.2f}" stroke="{_LIVE}" '
            f'stroke-width="1" stroke-dasharray="4 3"><title>peak of live bytes: '
            f"{escape(_fmt_bytes(peak_live))} ({peak_live} B)</title></line>"
        )
    ay = base_y - top * sy
    add(
        f'<line x1="{left}" y1="{ay:.2f}" x2="{left + plot_w}" y2="{ay:.2f}" stroke="#333" '
        'stroke-width="1.5"/>'
    )
    add(
        f'<text x="{left + plot_w}" y="{ay - 4:.2f}" text-anchor="end" fill="#333">'
        f"arena top {escape(_fmt_bytes(top))}</text>"
    )

    # Step axis: a strip per step (hover: the operator), ticks, labels.
    add(
        f'<line x1="{left}" y1="{base_y:.2f}" x2="{left + plot_w}" y2="{base_y:.2f}" '
        'stroke="#333" stroke-width="1"/>'
    )
    add(
        f'<line x1="{left}" y1="{arena_y0:.2f}" x2="{left}" y2="{base_y:.2f}" '
        'stroke="#333" stroke-width="1"/>'
    )
    for t, op in enumerate(oprs):
        x0, x1 = left + t * sx, left + (t + 1) * sx
        label = f"step {t}: {op['name']} (opr {op['id']})"
        add(
            f'<polygon class="step" points="{x0:.2f},{base_y + 1:.2f} {x1:.2f},{base_y + 1:.2f} '
            f'{x1:.2f},{base_y + 11:.2f} {x0:.2f},{base_y + 11:.2f}" '
            f'fill="{"#ddd" if t % 2 else "#eee"}">'
            f"<title>{escape(label)}</title></polygon>"
        )
    tick = max(1, int(_nice_step(steps, 12)))
    for t in range(0, steps + 1, tick):
        x = left + t * sx
        add(
            f'<line x1="{x:.2f}" y1="{base_y:.2f}" x2="{x:.2f}" y2="{base_y + 15:.2f}" '
            'stroke="#333"/>'
        )
        add(f'<text x="{x:.2f}" y="{base_y + 28:.2f}" text-anchor="middle">{t}</text>')
    add(
        f'<text x="{left + plot_w / 2:.1f}" y="{base_y + 52:.2f}" text-anchor="middle" fill="#333">'
        "step (operator in execution order; hover the strip for its name)</text>"
    )
    add("</svg>")
    return "\n".join(o) + "\n"
