"""Executor switches (spec section 9).

--record-comp-seq    the first run records the bound kernels; later runs replay
                     them (static shapes only: a symbolic input dim needs
                     --const-shape, shapes decided at run time are refused)
--record-comp-seq2   as --record-comp-seq, and the plan metadata replay does not
                     read is freed after recording (needs --no-sanity-check and
                     no --fake-first)
--fake-first         the first execution allocates and prepares, runs no kernel
                     (with --warmup-iter 0 the first timed run is the fake one)
--const-shape        input shapes fixed at load
--no-sanity-check    skip the first-run check of the guard bytes after every
                     tensor (on by default: a kernel writing past its output is
                     named, exit 1)
"""
from loadrun.cli.argv import UsageError


def add_arguments(parser):
    g = parser.add_argument_group("executor")
    g.add_argument("--record-comp-seq", action="store_true",
                   help="record the kernels on the first run and replay them (static shapes)")
    g.add_argument("--record-comp-seq2", action="store_true",
                   help="as --record-comp-seq, and free the plan metadata after recording")
    g.add_argument("--fake-first", action="store_true", help="the first execution runs no kernel")
    g.add_argument("--const-shape", action="store_true", help="input shapes fixed at load")
    g.add_argument("--no-sanity-check", action="store_true",
                   help="skip the first-run check for kernels writing past their tensors")


def apply(args, opts):
    if args.record_comp_seq2:
        if not args.no_sanity_check:
            raise UsageError("--record-comp-seq2 needs --no-sanity-check")
        if args.fake_first:
            raise UsageError("--record-comp-seq2 cannot be used with --fake-first")
    opts.record_comp_seq = 2 if args.record_comp_seq2 else 1 if args.record_comp_seq else 0
    opts.fake_first = args.fake_first
    opts.const_shape = args.const_shape
    opts.sanity_check = not args.no_sanity_check


def network_kwargs(opts):
    """Keyword arguments of loadrun.Network() from these options."""
    return {"record_comp_seq": opts.record_comp_seq, "fake_first": opts.fake_first,
            "const_shape": opts.const_shape, "sanity_check": opts.sanity_check}
