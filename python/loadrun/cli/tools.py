"""`loadrun`: tool subcommands.

    loadrun run MODEL [flags]        same as load_and_run MODEL [flags]
    loadrun zoo list                 the zoo's models, one per line
    loadrun zoo export NAME PATH     write a zoo model as an .onnx file
    loadrun cache show FILE          a fast-run cache as a table
    loadrun cache merge A B.. -o OUT merge fast-run caches into OUT
    loadrun convert MODEL OUT.lrm    an .onnx model or zoo:NAME as an .lrm file
"""
import sys

from loadrun.cli.argv import Parser, UsageError

PROG = "loadrun"


def _error(msg):
    print(f"{PROG}: error: {' '.join(str(msg).split())}", file=sys.stderr, flush=True)


def build_parser():
    p = Parser(prog=PROG, description="loadrun tools")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="run a model: same as load_and_run MODEL [flags]", add_help=False)
    zoo = sub.add_parser("zoo", help="the built-in model zoo")
    zsub = zoo.add_subparsers(dest="zoo_command", metavar="ZOO_COMMAND")
    zsub.add_parser("list", help="list the zoo's models")
    ex = zsub.add_parser("export", help="write a zoo model as an .onnx file")
    ex.add_argument("name")
    ex.add_argument("path")
    cache = sub.add_parser("cache", help="fast-run cache files (--fast-run-algo-policy)")
    csub = cache.add_subparsers(dest="cache_command", metavar="CACHE_COMMAND")
    show = csub.add_parser("show", help="print a cache as a table")
    show.add_argument("file")
    merge = csub.add_parser("merge", help="merge caches (later files win on the same algorithm)")
    merge.add_argument("inputs", nargs="+", metavar="FILE")
    merge.add_argument("-o", "--output", required=True, metavar="OUT")
    conv = sub.add_parser("convert", help="write an .onnx model or zoo:NAME as an .lrm file (the core's format)")
    conv.add_argument("model", metavar="MODEL")
    conv.add_argument("output", metavar="OUT.lrm")
    return p


def convert_command(model, output):
    """The model as imported (no graph pass) into `output`; one line saying so."""
    from loadrun import lrm
    from loadrun.errors import InputError

    if lrm.is_lrm(model):
        raise InputError(f"{model} is an .lrm file already")
    imported = lrm.convert(model, output)
    import os

    print(f"wrote {output}: {imported.graph.num_oprs} nodes, {len(imported.inputs)} inputs, "
          f"{len(imported.outputs)} outputs, {os.path.getsize(output)} bytes")
    return 0


def _zoo():
    from loadrun.errors import ModelError

    try:
        from loadrun import zoo
    except ImportError:
        raise ModelError("the model zoo is not available in this build of loadrun") from None
    return zoo


def zoo_command(args):
    from loadrun.errors import ModelError

    zoo = _zoo()
    models = zoo.list_models()
    if args.zoo_command == "list":
        width = max((len(n) for n, _ in models), default=0)
        for name, desc in models:
            print(f"{name:<{width}}  {desc}")
        return 0
    names = [n for n, _ in models]
    if args.name not in names:
        raise ModelError(f"no zoo model named '{args.name}' (zoo models: {', '.join(names) or 'none'})")
    zoo.export(args.name, args.path)
    print(f"wrote {args.path}")
    return 0


WIDTH = 100  # columns `cache show` fits in


def safe_text(text):
    """`text` with nothing a terminal would act on: control characters (ANSI
    and OSC escape sequences included) and bytes that were not UTF-8
    (surrogateescape) are written as \\xNN / \\uNNNN escapes."""
    out = []
    for ch in str(text):
        if ch.isprintable():
            out.append(ch)
        elif 0xDC80 <= ord(ch) <= 0xDCFF:  # a byte that was not UTF-8
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
    return "".join(out)


def abbreviate(text, width):
    """`text` cut in the middle to `width` columns ("abc...xyz")."""
    if len(text) <= width:
        return text
    keep = max(width - 3, 2)
    return text[:keep - keep // 3] + "..." + text[len(text) - keep // 3:]


def _params_text(raw):
    try:
        text = raw.decode("ascii")
        if text.isprintable():
            text = text or "-"
        else:
            text = "0x" + raw.hex()
    except UnicodeDecodeError:
        text = "0x" + raw.hex()
    if len(text) > 60:
        text = abbreviate(text, 48) + f" ({len(raw)} bytes)"
    return text


def _bytes_text(n):
    if n < 1024:
        return f"{n}B"
    if n < 1024 * 1024:
        return f"{n / 1024:.2f}KiB"
    return f"{n / (1024 * 1024):.2f}MiB"


def _wrap(items, first, rest, sep=", "):
    """items joined by sep, in lines of at most WIDTH columns: the first line
    starts with `first`, the others with `rest`; a line breaks after the
    separator's non-blank part (an item longer than a line is abbreviated)."""
    trail = sep.rstrip()
    joiner = sep[len(trail):]
    lines, line, empty = [], first, True
    for i, item in enumerate(items):
        tok = abbreviate(item, WIDTH - len(rest) - len(sep)) + (trail if i + 1 < len(items) else "")
        if not empty and len(line) + len(joiner) + len(tok) > WIDTH:
            lines.append(line)
            line, empty = rest, True
        line += ("" if empty else joiner) + tok
        empty = False
    lines.append(line)
    return lines


def _candidate_lines(cands):
    rows = [("algo", "time(ms)", "workspace", "attributes")]
    for algo, attrs, secs, ws in cands:
        rows.append((abbreviate(safe_text(algo), 32), f"{secs * 1000:.4g}", _bytes_text(ws),
                     attribute_text(attrs)))
    widths = [max(len(r[c]) for r in rows) for c in range(3)]
    lead = "    "
    out = []
    for r in rows:
        head = lead + "  ".join(v.ljust(w) for v, w in zip(r[:3], widths)) + "  "
        out += _wrap(r[3].split("|"), head, " " * len(head), sep="|")
    return [line.rstrip() for line in out]


def attribute_text(bits):
    from loadrun.fastrun import attribute_text as text

    return text(bits)


def cache_show(path, out=None):
    """The cache as text of at most WIDTH columns: per category, per entry a
    line (operator, weight preprocess, parameters), its input and output
    layouts, then its candidates fastest first."""
    from loadrun import _core
    from loadrun.errors import InputError

    out = out or sys.stdout
    status, why, entries = _core.fastrun_cache_read(path)
    if status == "missing":
        raise FileNotFoundError(2, "no such file", path)
    if status != "ok":
        raise InputError(f"{safe_text(path)}: {safe_text(why)}")
    here = _core.fastrun_category()
    lines = _wrap([f"fast-run cache {safe_text(path)}: {len(entries)} entries"], "", "  ")
    categories = {}
    for e in entries:
        categories.setdefault(e[0], []).append(e)
    for cat, items in categories.items():
        lines.append("")
        mine = "  (this machine)" if cat == here else ""
        lines += _wrap(f"category {safe_text(cat)}{mine}: {len(items)} entries".split(" "), "", "    ", sep=" ")
        for _, op, params, ins, outs, wp, cands in items:
            lines.append("")
            lines += _wrap([abbreviate(safe_text(op), 48), f"wp={'on' if wp else 'off'}",
                            f"params={_params_text(params)}"], "", "    ", sep="  ")
            lines += _wrap([safe_text(x) for x in ins] or ["-"], "  inputs:  ", " " * 11)
            lines += _wrap([safe_text(x) for x in outs] or ["-"], "  outputs: ", " " * 11)
            lines += _candidate_lines(cands) if cands else ["    (no candidates)"]
    for line in lines:
        print(line, file=out)
    return 0


def cache_merge(inputs, output):
    from loadrun import _core

    n = _core.fastrun_cache_merge(list(inputs), output)
    print(f"wrote {output}: {n} entries from {len(inputs)} files")
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "run":
        from loadrun.cli.main import main as lar_main

        return lar_main(argv[1:])
    from loadrun.errors import LoadrunError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None or (args.command == "zoo" and args.zoo_command is None) or \
                (args.command == "cache" and args.cache_command is None):
            raise UsageError("give a command: run, zoo list, zoo export NAME PATH, cache show FILE, "
                             "cache merge A B -o OUT, convert MODEL OUT.lrm (--help for more)")
    except UsageError as e:
        _error(e)
        return 2
    except SystemExit as e:  # --help
        return e.code if isinstance(e.code, int) else 0
    except BrokenPipeError:  # --help | head
        from loadrun.cli.main import quiet_broken_pipe

        return quiet_broken_pipe()
    try:
        if args.command == "convert":
            return convert_command(args.model, args.output)
        if args.command == "cache":
            if args.cache_command == "show":
                return cache_show(args.file)
            return cache_merge(args.inputs, args.output)
        return zoo_command(args)
    except BrokenPipeError:
        from loadrun.cli.main import quiet_broken_pipe

        return quiet_broken_pipe()
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except LoadrunError as e:
        _error(e)
        return 1
    except OSError as e:
        _error(f"{e.strerror or e}" + (f": {e.filename}" if e.filename else ""))
        return 1


if __name__ == "__main__":
    sys.exit(main())
