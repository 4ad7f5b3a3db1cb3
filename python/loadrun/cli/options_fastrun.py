"""Fast-run options (spec section 5): profile every opr's candidate algorithms
and keep the fastest, remembered in a cache file; --weight-preprocess and
--workspace-limit, which the choice depends on, live here too."""
from loadrun.cli.argv import UsageError


def add_arguments(parser):
    g = parser.add_argument_group("fast run")
    g.add_argument("--fast-run", action="store_true",
                   help="profile the candidate algorithms of every operator (NAIVE excluded) and keep the fastest")
    g.add_argument("--full-run", action="store_true", help="like --fast-run, NAIVE algorithms included")
    g.add_argument("--fast-run-algo-policy", default="", metavar="FILE",
                   help="the fast-run cache: read, completed and written back with --fast-run/--full-run; "
                        "alone (an existing file), used as is with the heuristic for what it lacks")
    g.add_argument("--reproducible", action="store_true",
                   help="only algorithms whose results do not vary from run to run")
    g.add_argument("--binary-equal-between-batch", action="store_true",
                   help="results bit-identical whatever the batch size (implies --reproducible)")
    g.add_argument("--fast-run-shared-batch-size", type=int, default=0, metavar="N",
                   help="profile at batch N and share the cache entry between batch sizes")
    g.add_argument("--workspace-limit", type=int, default=None, metavar="BYTES",
                   help="skip algorithms needing more scratch memory than this")
    g.add_argument("--weight-preprocess", action="store_true",
                   help="transform constant weights once at compile time for the chosen algorithms "
                        "(the default; kept for MegEngine command lines)")
    g.add_argument("--no-weight-preprocess", action="store_true",
                   help="keep constant weights as loaded: algorithms pack or transform them on "
                        "every run (loadrun)")


def flag(name):
    return "--" + name.replace("_", "-")


def apply(args, opts):
    from loadrun.fastrun import FastRunOptionError, chooser_options

    opts.fast_run = args.fast_run
    opts.full_run = args.full_run
    opts.fast_run_algo_policy = args.fast_run_algo_policy
    opts.reproducible = args.reproducible
    opts.binary_equal_between_batch = args.binary_equal_between_batch
    opts.fast_run_shared_batch_size = args.fast_run_shared_batch_size
    opts.workspace_limit = args.workspace_limit
    if args.weight_preprocess and args.no_weight_preprocess:
        raise UsageError("--weight-preprocess and --no-weight-preprocess contradict each other")
    opts.weight_preprocess = not args.no_weight_preprocess
    try:
        chooser_options(spell=flag, **fast_run_kwargs(opts))
    except FastRunOptionError as e:
        raise UsageError(str(e)) from None


def fast_run_kwargs(opts):
    """The fast-run keyword arguments of loadrun.load() / Network()."""
    return {
        "fast_run": opts.fast_run,
        "full_run": opts.full_run,
        "reproducible": opts.reproducible,
        "binary_equal_between_batch": opts.binary_equal_between_batch,
        "fast_run_shared_batch_size": opts.fast_run_shared_batch_size,
        "fast_run_algo_policy": opts.fast_run_algo_policy or None,
        "workspace_limit": opts.workspace_limit,
    }
