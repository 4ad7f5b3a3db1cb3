"""`loadrun`: tool subcommands.

    loadrun run MODEL [flags]        same as load_and_run MODEL [flags]
    loadrun zoo list                 the zoo's models, one per line
    loadrun zoo export NAME PATH     write a zoo model as an .onnx file
    loadrun cache show FILE          a fast-run cache as a table
    loadrun cache merge A B.. -o OUT merge fast-run caches into OUT
"""
import sys

from loadrun.cli.argv import Parser, UsageError

PROG = "loadrun"


def _error(msg):
    print(f"{PROG}: error: {msg}", file=sys.stderr, flush=True)


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
    return p


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


def _params_text(raw):
    try:
        text = raw.decode("ascii")
        if text.isprintable():
            return text or "-"
    except UnicodeDecodeError:
        pass
    return "0x" + raw.hex()


def _bytes_text(n):
    if n < 1024:
        return f"{n}B"
    if n < 1024 * 1024:
        return f"{n / 1024:.2f}KiB"
    return f"{n / (1024 * 1024):.2f}MiB"


def _table(rows):
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    out = []
    for i, r in enumerate(rows):
        out.append("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def cache_show(path, out=None):
    from loadrun import _core
    from loadrun.errors import InputError
    from loadrun.fastrun import attribute_text

    out = out or sys.stdout
    status, why, entries = _core.fastrun_cache_read(path)
    if status == "missing":
        raise FileNotFoundError(2, "no such file", path)
    if status != "ok":
        raise InputError(f"{path}: {why}")
    here = _core.fastrun_category()
    print(f"fast-run cache {path}: {len(entries)} entries", file=out)
    categories = {}
    for e in entries:
        categories.setdefault(e[0], []).append(e)
    for cat, items in categories.items():
        print("", file=out)
        print(f"category {cat}" + ("  (this machine)" if cat == here else "") + f": {len(items)} entries", file=out)
        rows = [("op", "params", "inputs", "outputs", "wp", "algo", "time(ms)", "workspace", "attributes")]
        for _, op, params, ins, outs, wp, cands in items:
            head = (op, _params_text(params), ", ".join(ins), ", ".join(outs), "on" if wp else "off")
            for i, (algo, attrs, secs, ws) in enumerate(cands):
                lead = head if i == 0 else ("",) * len(head)
                rows.append(lead + (algo, f"{secs * 1000:.4g}", _bytes_text(ws), attribute_text(attrs)))
            if not cands:
                rows.append(head + ("-", "", "", ""))
        for line in _table(rows):
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
                             "cache merge A B -o OUT (--help for more)")
    except UsageError as e:
        _error(e)
        return 2
    except SystemExit as e:  # --help
        return e.code if isinstance(e.code, int) else 0
    try:
        if args.command == "cache":
            if args.cache_command == "show":
                return cache_show(args.file)
            return cache_merge(args.inputs, args.output)
        return zoo_command(args)
    except LoadrunError as e:
        _error(" ".join(str(e).split("\n")).strip())
        return 1
    except OSError as e:
        _error(f"{e.strerror or e}" + (f": {e.filename}" if e.filename else ""))
        return 1


if __name__ == "__main__":
    sys.exit(main())
