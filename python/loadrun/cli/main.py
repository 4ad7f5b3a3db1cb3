"""`load_and_run MODEL [flags]`: load a model, compile it, time it.

MODEL is an .onnx path, an .lrm file (`loadrun convert`) or `zoo:NAME`. Flags follow MegEngine's load_and_run
(see argv.py for the accepted spellings). Output: the reference's lines on
stdout (report.py); errors: one line `load_and_run: error: ...` on stderr,
exit code 2 for a bad command line, 1 for a bad model, bad input data or a
file that cannot be read or written.
"""
import errno
import json
import os
import sys
import time

from loadrun.cli import (options_basic, options_device, options_executor, options_fastrun, options_layout,
                         options_memory)
from loadrun.cli.argv import Parser, UsageError, normalize
from loadrun.cli.options import Options

PROG = "load_and_run"
# option groups, in the order their flags appear in --help
GROUPS = [options_basic, options_fastrun, options_memory, options_layout, options_executor, options_device]
USAGE = f"usage: {PROG} MODEL [--iter N] [--warmup-iter N] [--input SPEC] [--model-info] [--verbose] " \
        "[--json PATH] ...  (--help for all flags)"


def version_line():
    """`loadrun VERSION (isa LEVEL)`: the kernels' ISA level is part of what runs."""
    import loadrun

    try:
        level = loadrun.isa_level()
    except loadrun.LoadrunError as e:  # a bad LOADRUN_ISA: say so, the load will fail with it
        level = f"error: {e}"
    return f"loadrun {loadrun.__version__} (isa {level})"


def build_parser():
    import loadrun

    p = Parser(prog=PROG, usage=f"{PROG} MODEL [flags]",
               description="Load a model (.onnx or .lrm file, or zoo:NAME) and benchmark it. Flags may be written "
                           "--name value, --name=value or -name value; '-' and '_' are interchangeable.")
    p.add_argument("model", nargs="?", metavar="MODEL", help="an .onnx or .lrm file, or zoo:NAME (loadrun zoo list)")
    p.add_argument("--version", action="version", version=version_line())
    for g in GROUPS:
        g.add_arguments(p)
    return p


def parse_args(argv):
    """Options from a command line; raises UsageError."""
    parser = build_parser()
    flags, positionals = normalize(argv, parser)
    if len(positionals) > 1:
        raise UsageError(f"more than one model given: {' '.join(positionals)}")
    args = parser.parse_args(flags + (["--"] + positionals if positionals else []))
    if not args.model:
        raise UsageError("no model given")
    opts = Options(model=args.model)
    for g in GROUPS:
        g.apply(args, opts)
    return opts


# -- model ------------------------------------------------------------------
def read_model(spec):
    """The ModelProto of a path or zoo:NAME."""
    from loadrun.onnx.importer import read_model as read_onnx

    return read_onnx(spec)


def declared_io(proto, imported):
    """Model IO before compile: (inputs, outputs) as [(name, shape or None, dtype)]."""
    from loadrun.onnx.dtypes import ONNX_TO_NAME

    ins = [(s.name, [d if d >= 0 else (s.dim_names[i] or "?") for i, d in enumerate(s.shape)]
            if s.rank_known else None, s.dtype) for s in imported.inputs]
    declared = {vi.name: vi for vi in proto.graph.output}
    outs = []
    for name in imported.outputs:
        vi = declared.get(name)
        shape, dtype = None, ""
        if vi is not None and vi.type.HasField("tensor_type"):
            tt = vi.type.tensor_type
            dtype = ONNX_TO_NAME.get(tt.elem_type, "")
            if tt.HasField("shape"):
                shape = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in tt.shape.dim]
        outs.append((name, shape, dtype))
    return ins, outs


# -- the run ----------------------------------------------------------------
def run(opts, out=None, outputs=None):
    """Load, compile and time the model as `opts` says; print to `out`.
    outputs: a dict to receive the outputs of one more run on the same
    inputs after the timed ones (--thread compares them)."""
    disp = options_device.Dispatcher(opts.dispatch_thread)
    try:
        return _run(opts, out, outputs, disp)
    finally:
        disp.close()


def _run(opts, out, outputs, disp):
    import loadrun
    from loadrun import inputs as lr_inputs
    from loadrun.cli import report
    from loadrun.cli.stats import summarize
    from loadrun.network import Network, Timings
    from loadrun.onnx.importer import import_model

    out = out or sys.stdout
    if opts.json_path:
        check_writable(opts.json_path)

    def say(line=""):
        print(line, file=out, flush=True)

    clock = time.perf_counter
    from loadrun import lrm

    is_zoo = opts.model.startswith("zoo:")
    if is_zoo:  # generating a zoo model is not loading it
        proto = read_model(opts.model)
    t0 = clock()
    if lrm.is_lrm(opts.model):  # the native format: read by the core, no ONNX
        imported, lrm_outputs = lrm.read(opts.model)
        io = ([(s.name, [d if d >= 0 else (s.dim_names[i] or "?") for i, d in enumerate(s.shape)]
                if s.rank_known else None, s.dtype) for s in imported.inputs], lrm_outputs)
    else:
        if not is_zoo:
            proto = read_model(opts.model)
        imported = import_model(proto)
        io = None
    load_ms = (clock() - t0) * 1000.0
    say(report.load_line(load_ms))
    t_prep = clock()

    if opts.model_info:
        for line in report.model_info_table(report.declared_rows(*(io or declared_io(proto, imported)))):
            say(line)

    feeds = lr_inputs.parse_input_arg(opts.input, imported.inputs) if opts.input else {}
    feeds = lr_inputs.default_feeds(imported.inputs, feeds)
    # compiled (and fast-run profiled) on the thread that runs it
    net = disp.call(lambda: Network(
        imported, {name: list(a.shape) for name, a in feeds.items() if hasattr(a, "shape")},
        weight_preprocess=opts.weight_preprocess, **options_fastrun.fast_run_kwargs(opts),
        **options_memory.network_kwargs(opts), **options_executor.network_kwargs(opts),
        **options_device.network_kwargs(opts), **options_layout.network_kwargs(opts)))
    disp.call(net.set_inputs, feeds)
    check = options_device.DispatchCheck(net) if opts.check_dispatch else None
    if opts.static_mem_info:
        options_memory.write_static_mem_info(net, opts.static_mem_info, after_run=False)
    if opts.verbose:
        say(f"kernels: isa {loadrun.isa_level()} (this CPU runs: {', '.join(loadrun.isa_levels())})")
        for line in net.fastrun_log():
            say(line)
        for step in net.steps():
            say(report.step_line(step))
    say(report.testcase_line(0))

    # One run per call, each timed in C++: lines come as the runs end, and
    # Ctrl-C (KeyboardInterrupt) stops between two runs.
    # prepare = everything from the end of the load to the first run:
    # compile, inputs, and binding them.
    warmup_ms, iter_ms, prepare_ms = [], [], None
    for kind, i, ms in disp.iterate(net.iterate(opts.iters, opts.warmup)):
        if prepare_ms is None:
            prepare_ms = max((clock() - t_prep) * 1000.0 - ms, 0.0)
        if check and check.report():
            check = None
        if kind == "warmup":
            # nothing happens between warm-ups: later prepares are 0
            say(report.prepare_line(prepare_ms if i == 0 else 0.0))
            say(report.warmup_line(i, ms))
            warmup_ms.append(ms)
        else:
            say(report.iter_line(i, opts.iters, ms))
            iter_ms.append(ms)
    if prepare_ms is None:
        prepare_ms = (clock() - t_prep) * 1000.0
    timings = Timings(iter_ms, warmup_ms)
    stats = summarize(list(timings))
    if stats:
        say(report.finished_line(0, stats))
    total_ms = stats["time"] if stats else 0.0
    say(report.total_line(total_ms))
    if stats:
        say(report.loadrun_line(stats))

    if opts.static_mem_info:
        options_memory.write_static_mem_info(net, opts.static_mem_info, after_run=True)
    if opts.model_info:
        for label, nbytes in options_memory.memory_rows(net):
            say(report.memory_line(label, nbytes))
        for line in report.model_info_table(report.network_rows(net)):
            say(line)

    if opts.json_path:
        write_json(opts, imported, net, load_ms, prepare_ms, timings, stats, total_ms)
    if outputs is not None:
        outputs.update(disp.call(net.run, feeds))
    return 0


def check_writable(path):
    """Fail before the run, not after it, when the --json file cannot be written."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "--json: is a directory", path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, "--json: no such directory", folder)
    if not os.access(folder, os.W_OK):
        raise PermissionError(errno.EACCES, "--json: cannot write into", folder)


def write_json(opts, imported, net, load_ms, prepare_ms, timings, stats, total_ms):
    from loadrun.cli import machine

    io = [{"type": "INPUT", "name": t.name, "shape": list(t.shape), "dtype": t.dtype} for t in net.inputs]
    io += [{"type": "OUTPUT", "name": t.name, "shape": list(t.shape), "dtype": t.dtype} for t in net.outputs]
    doc = {
        "tool": PROG,
        "model": {"path": opts.model, "opset": imported.opset, "producer": imported.producer},
        "options": opts.as_dict(),
        "times_ms": {
            "load": load_ms,
            "prepare": prepare_ms,
            "warmup": list(timings.warmup),
            "iterations": list(timings),
            "total": total_ms,
        },
        "summary": stats,
        "io": io,
        "memory": {k: v for k, v in net.memory_info().items() if k.endswith("_bytes")},
        "machine": machine.describe(),
    }
    with open(opts.json_path, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


def _error(msg):
    print(f"{PROG}: error: {one_line(msg)}", file=sys.stderr, flush=True)


def one_line(msg):
    """The whole message on one line (no newline, nothing cut)."""
    return " ".join(str(msg).split())


def quiet_broken_pipe():
    """After EPIPE on stdout (`load_and_run ... | head`): no more output, and no
    error at exit when Python flushes stdout; the exit code says SIGPIPE."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
    return 128 + 13


def main(argv=None):
    """Entry point of `load_and_run`; returns the exit code."""
    from loadrun.errors import LoadrunError

    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        opts = parse_args(argv)
    except UsageError as e:
        _error(e)
        if str(e) == "no model given":
            print(USAGE, file=sys.stderr)
        return 2
    except SystemExit as e:  # --help / --version
        return e.code if isinstance(e.code, int) else 0
    except BrokenPipeError:  # --help | head
        return quiet_broken_pipe()
    try:
        return options_device.run_copies(opts, run) if opts.copies > 1 else run(opts)
    except BrokenPipeError:
        return quiet_broken_pipe()
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except LoadrunError as e:
        _error(one_line(e) or type(e).__name__)
        return 1
    except MemoryError as e:
        _error(f"out of memory{': ' + one_line(e) if str(e) else ''}")
        return 1
    except RecursionError:
        _error("the model or its input is nested too deeply")
        return 1
    except OSError as e:
        where = f": {e.filename}" if e.filename else ""
        _error(f"{e.strerror or e}{where}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
