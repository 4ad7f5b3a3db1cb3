"""`loadrun`: tool subcommands.

    loadrun run MODEL [flags]        same as load_and_run MODEL [flags]
    loadrun zoo list                 the zoo's models, one per line
    loadrun zoo export NAME PATH     write a zoo model as an .onnx file
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


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "run":
        from loadrun.cli.main import main as lar_main

        return lar_main(argv[1:])
    from loadrun.errors import LoadrunError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None or (args.command == "zoo" and args.zoo_command is None):
            raise UsageError("give a command: run, zoo list, zoo export NAME PATH (--help for more)")
    except UsageError as e:
        _error(e)
        return 2
    except SystemExit as e:  # --help
        return e.code if isinstance(e.code, int) else 0
    try:
        return zoo_command(args)
    except LoadrunError as e:
        _error(" ".join(str(e).split("\n")).strip())
        return 1
    except OSError as e:
        _error(f"{e.strerror or e}" + (f": {e.filename}" if e.filename else ""))
        return 1


if __name__ == "__main__":
    sys.exit(main())
