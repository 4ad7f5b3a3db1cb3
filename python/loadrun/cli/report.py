"""What load_and_run prints: the spec's lines without the logger prefix.

    load model: 35.210ms
    run testcase: 0
    === prepare: 120.532ms; going to warmup
    warm up 0  48.112ms
    iter 0/10: e2e=12.031 ms (host=11.987 ms)
    === finished test #0: time=... avg_time=... standard_deviation=... min=... max=...
    === total time: 120.500ms
    === loadrun: median=... ms p90=... ms p99=... ms throughput=... inferences/s

plus the --model-info table and the --verbose per-step lines.
"""

# dtypes the reference names in the IO table; others leave the cell blank
TABLE_DTYPES = {"float32", "int32", "int16", "uint16", "int8", "uint8"}
# attribute bits of algorithms (spec section 5)
ATTR_REPRODUCIBLE, ATTR_NAIVE = 1, 2


def load_line(ms):
    return f"load model: {ms:.3f}ms"


def testcase_line(i):
    return f"run testcase: {i}"


def prepare_line(ms):
    return f"=== prepare: {ms:.3f}ms; going to warmup"


def warmup_line(i, ms):
    return f"warm up {i}  {ms:.3f}ms"


def iter_line(i, n, ms):
    # CPU runs are synchronous: end-to-end time is the host time
    return f"iter {i}/{n}: e2e={ms:.3f} ms (host={ms:.3f} ms)"


def finished_line(case, s):
    return (f"=== finished test #{case}: time={s['time']:.3f} ms avg_time={s['avg']:.3f} ms "
            f"standard_deviation={s['sd']:.3f} ms min={s['min']:.3f} ms max={s['max']:.3f} ms")


def total_line(ms):
    return f"=== total time: {ms:.3f}ms"


def loadrun_line(s):
    return (f"=== loadrun: median={s['median']:.3f} ms p90={s['p90']:.3f} ms p99={s['p99']:.3f} ms "
            f"throughput={s['throughput']:.2f} inferences/s")


# -- the IO table ----------------------------------------------------------
def shape_text(shape):
    return "{" + ",".join(str(d) for d in shape) + "}"


def _center(text, width):
    extra = width - len(text)
    left = extra // 2
    return " " * left + text + " " * (extra - left)


def model_info_table(rows, title="Runtime Model Info"):
    """rows: [(type, name, shape text, dtype)] -> the table's lines.

    Cells are centred with one space of padding (an odd leftover goes right);
    the title overwrites the top border from its second character.
    """
    header = ("type", "name", "shape", "dtype")
    cells = [header] + [(t, n, s, d if d in TABLE_DTYPES else "") for t, n, s, d in rows]
    widths = [max(len(r[c]) for r in cells) + 2 for c in range(4)]
    sep = "+" + "+".join("-" * w for w in widths) + "+"
    top = sep[:1] + title + sep[1 + len(title):]
    lines = [top]
    for r in cells:
        lines.append("|" + "|".join(_center(v, w) for v, w in zip(r, widths)) + "|")
        lines.append(sep)
    return lines


def declared_rows(inputs, outputs):
    """Rows for IO whose shapes may hold symbolic dims (names) or unknowns (None)."""
    def text(shape):
        if shape is None:
            return "{?}"
        return "{" + ",".join(str(d) for d in shape) + "}"

    return ([("INPUT", n, text(s), d) for n, s, d in inputs]
            + [("OUTPUT", n, text(s), d) for n, s, d in outputs])


def network_rows(net):
    return ([("INPUT", t.name, shape_text(t.shape), t.dtype) for t in net.inputs]
            + [("OUTPUT", t.name, shape_text(t.shape), t.dtype) for t in net.outputs])


# -- --verbose -------------------------------------------------------------
_ATTRS = None


def algo_attributes(op_type, algo):
    """The attribute bits of op_type's algorithm `algo`, from the core registry."""
    global _ATTRS
    if _ATTRS is None:
        from loadrun import _core

        _ATTRS = {}
        for _domain, typ, algos in _core.algo_attributes():
            _ATTRS.setdefault(typ, dict(algos))
    bits = _ATTRS.get(op_type, {}).get(algo)
    if bits is None:
        return ATTR_NAIVE | ATTR_REPRODUCIBLE if algo == "NAIVE" else 0
    return bits


def step_line(step):
    """`Type(name): tensor layouts({..}, {..}) -> ({..}): algo=A workspace=0.00MiB attribute=3`."""
    label, algo, ins, outs, workspace = step[:5]
    name, brace, rest = label.rpartition("{")
    op_type = rest.rstrip("}")
    opr = f"{op_type}({name})" if brace else label
    return (f"{opr}: tensor layouts({', '.join(ins)}) -> ({', '.join(outs)}): algo={algo} "
            f"workspace={workspace / (1024 * 1024):.2f}MiB attribute={algo_attributes(op_type, algo)}")


def memory_line(label, nbytes):
    """One --model-info memory line: `memory  arena (planned): 1.23 MiB (1290240 bytes)`."""
    return f"memory  {label}: {nbytes / 2**20:.2f} MiB ({nbytes} bytes)"
