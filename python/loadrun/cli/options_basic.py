"""Basic options: iteration counts, inputs, the IO table, verbosity, --json."""
from loadrun.cli.argv import UsageError


def add_arguments(parser):
    g = parser.add_argument_group("basic")
    g.add_argument("--iter", type=int, default=10, metavar="N", help="timed iterations (default 10)")
    g.add_argument("--warmup-iter", type=int, default=1, metavar="N",
                   help="untimed runs before the timed ones (default 1)")
    g.add_argument("--input", default="", metavar="SPEC",
                   help="input data: 'name:payload;...' where payload is a literal like [1,2,3], "
                        "a shape '{1,3,224,224}' (quoted, as a shell expands braces), or a .json/.npy/.ppm/.pgm file")
    g.add_argument("--model-info", action="store_true", help="print the model's input/output table")
    g.add_argument("--verbose", action="store_true", help="print the chosen algorithm of every step")
    g.add_argument("--json", default="", metavar="PATH",
                   help="also write a JSON report (times, statistics, IO, machine) to PATH")


def apply(args, opts):
    if args.iter < 0:
        raise UsageError(f"--iter must be >= 0, got {args.iter}")
    if args.warmup_iter < 0:
        raise UsageError(f"--warmup-iter must be >= 0, got {args.warmup_iter}")
    opts.iters = args.iter
    opts.warmup = args.warmup_iter
    opts.input = args.input
    opts.model_info = args.model_info
    opts.verbose = args.verbose
    opts.json_path = args.json
