"""Device and thread options (spec sections 1 and 10).

--cpu                    runs dispatched by a worker thread (a thread of its
                         own compiles and runs the network; kernels inline on it)
--cpu-default            everything inline on the calling (main) thread
--multithread N          a pool of N threads: N-1 workers plus a dispatch
                         thread (as --cpu) that is the pool's main thread
--multithread-default N  a pool of N threads whose main thread is the caller
--multi-thread-core-ids c0,...,c(N-1)
                         worker i pinned to c_i, the main thread to the last id
                         (put the fastest core last); needs one of the two above
--thread N               N independent copies (own options, network, inputs and
                         state) load and run the model, each on its own thread;
                         their outputs are compared and a difference fails (exit 1)
--check-dispatch         after the first run, every operator that ran entirely on
                         one thread (its kernel did not use the pool) is named on
                         stderr

When several of --cpu, --cpu-default, --multithread, --multithread-default are
given, the last in that fixed order wins (not the command-line order), as in
MegEngine's load_and_run; --multithread with --multithread-default is refused.
--cuda stays refused (not_supported.py): there is no CUDA comp node.
"""
import io
import os
import queue
import sys
import threading

import numpy as np

from loadrun.cli.argv import UsageError

# The fixed precedence order: the last one given wins.
ORDER = ("cpu", "cpu_default", "multithread", "multithread_default")
CN_NAME = "cpu0"  # the CPU comp node's name (CpuCompNode::name)


def add_arguments(parser):
    g = parser.add_argument_group("device and threads")
    g.add_argument("--cpu", action="store_true", help="run on a dispatch worker thread (kernels inline on it)")
    g.add_argument("--cpu-default", action="store_true", help="run everything inline on the calling thread")
    g.add_argument("--multithread", type=int, default=-1, metavar="N",
                   help="a pool of N threads whose main thread is a dispatch worker thread (-1: off)")
    g.add_argument("--multithread-default", type=int, default=-1, metavar="N",
                   help="a pool of N threads whose main thread is the calling thread (-1: off)")
    g.add_argument("--multi-thread-core-ids", default="", metavar="C0,C1,...",
                   help="one core per pool thread: worker i on C_i, the main thread on the last")
    g.add_argument("--thread", type=int, default=1, metavar="N",
                   help="N independent copies load and run the model concurrently; outputs must agree")
    g.add_argument("--check-dispatch", action="store_true",
                   help="after the first run, name on stderr every operator that ran on one thread")


def parse_core_ids(text):
    """[int] from 'a,b,...' (spaces allowed); raises UsageError."""
    ids = []
    for item in text.split(","):
        item = item.strip()
        if not item.isdigit():  # also refuses '' (a,,b), signs and words
            raise UsageError(f"--multi-thread-core-ids: '{item}' is not a core number (give c0,c1,... "
                             f"with whole numbers >= 0)")
        ids.append(int(item))
    return ids


def check_cores(ids):
    """Every id is a core this process may run on; raises UsageError."""
    if not hasattr(os, "sched_getaffinity"):
        raise UsageError("--multi-thread-core-ids: thread affinity is not supported on this platform")
    allowed = sorted(os.sched_getaffinity(0))
    for c in ids:
        if c not in allowed:
            raise UsageError(f"--multi-thread-core-ids: core {c} does not exist or is not available to this "
                             f"process (available: {','.join(map(str, allowed))})")


def _count(flag, n):
    if n == -1 or n >= 1:
        return n
    raise UsageError(f"{flag} takes a thread count >= 1 (or -1: off), got {n}")


def apply(args, opts):
    mt = _count("--multithread", args.multithread)
    mtd = _count("--multithread-default", args.multithread_default)
    if mt >= 1 and mtd >= 1:
        raise UsageError("--multithread and --multithread-default cannot be used together (choose one)")
    given = {"cpu": args.cpu, "cpu_default": args.cpu_default, "multithread": mt >= 1,
             "multithread_default": mtd >= 1}
    chosen = [k for k in ORDER if given[k]]
    mode = chosen[-1] if chosen else "default"
    if len(chosen) > 1:
        flags = ", ".join("--" + k.replace("_", "-") for k in chosen[:-1])
        print(f"load_and_run: warning: {flags} overridden by --{mode.replace('_', '-')} (the last of --cpu, "
              "--cpu-default, --multithread, --multithread-default wins)", file=sys.stderr)
    threads = mt if mode == "multithread" else mtd if mode == "multithread_default" else 1
    core_ids = []
    if args.multi_thread_core_ids.strip():
        if mode not in ("multithread", "multithread_default"):
            raise UsageError("--multi-thread-core-ids needs --multithread N or --multithread-default N")
        core_ids = parse_core_ids(args.multi_thread_core_ids)
        if len(core_ids) != threads:
            raise UsageError(f"--multi-thread-core-ids: {len(core_ids)} core ids given for "
                             f"--{mode.replace('_', '-')} {threads} (one per thread)")
        check_cores(core_ids)
    if args.thread < 1:
        raise UsageError(f"--thread takes a number of copies >= 1, got {args.thread}")
    opts.device = mode
    opts.threads = threads
    opts.core_ids = core_ids
    opts.dispatch_thread = mode in ("cpu", "multithread")
    opts.copies = args.thread
    opts.check_dispatch = args.check_dispatch


def network_kwargs(opts):
    """Keyword arguments of loadrun.Network() from these options."""
    return {"threads": opts.threads, "core_ids": list(opts.core_ids) or None}


# -- the dispatch thread (--cpu, --multithread) -------------------------------
class Dispatcher:
    """Runs calls on one dedicated worker thread (--cpu, --multithread: the
    comp node's dispatch thread compiles and runs the network, so it is the
    thread pinned to the last core id), or inline on the caller. A call
    returns its result or raises its exception in the caller."""

    def __init__(self, on_thread):
        self._jobs = None
        if on_thread:
            self._jobs = queue.Queue()
            self._thread = threading.Thread(target=self._serve, name="loadrun-dispatch", daemon=True)
            self._thread.start()

    def _serve(self):
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, args, done = job
            try:
                done.put((True, fn(*args)))
            except BaseException as e:  # handed to the caller, which raises it
                done.put((False, e))

    def call(self, fn, *args):
        if self._jobs is None:
            return fn(*args)
        done = queue.Queue()
        self._jobs.put((fn, args, done))
        ok, value = done.get()
        if not ok:
            raise value
        return value

    def iterate(self, it):
        """The items of iterator `it`, each produced on the dispatch thread."""
        end = object()
        while True:
            item = self.call(next, it, end)
            if item is end:
                return
            yield item

    def close(self):
        if self._jobs is not None:
            self._jobs.put(None)
            self._thread.join()
            self._jobs = None


# -- --check-dispatch -----------------------------------------------------------
class DispatchCheck:
    """A DispatchObserver (csrc/runtime/dispatch_observer.h) on the network;
    report() names, after the first run that ran kernels, every operator
    whose kernel never fanned out to the pool, then removes the observer."""

    def __init__(self, net):
        self._net = net
        self._obs = net._core.add_dispatch_check()

    def report(self, err=None):
        """True once reported (False: no run has run kernels yet)."""
        if self._obs is None:
            return True
        if self._obs.steps_seen == 0:
            return False
        err = err or sys.stderr
        single = self._obs.single_thread_steps()
        for label in single:
            print(f"operator {label} does not dispatch kernel on {CN_NAME}", file=err)
        threads = self._net._core.num_threads
        print(f"check-dispatch: {len(single)} of {self._obs.steps_seen} operators ran on one thread "
              f"({CN_NAME}, {threads} thread{'s' if threads > 1 else ''})", file=err, flush=True)
        self._net._core.remove_dispatch_check(self._obs)
        self._obs = None
        return True


# -- --thread N -------------------------------------------------------------------
def differences(outputs, base, tolerant):
    """Lines naming each output of `outputs` that differs from `base`."""
    lines = []
    for name, want in base.items():
        got = outputs.get(name)
        if not _same(got, want, tolerant):
            lines.append(f"output '{name}' {_diff_text(got, want)}")
    return lines


def _same(got, want, tolerant):
    if isinstance(want, (list, tuple)) or want is None or got is None:
        if isinstance(want, (list, tuple)) and isinstance(got, (list, tuple)) and len(got) == len(want):
            return all(_same(g, w, tolerant) for g, w in zip(got, want))
        return got is None and want is None
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or got.dtype != want.dtype:
        return False
    if tolerant and want.dtype.kind == "f":
        return bool(np.allclose(got, want, rtol=1e-4, atol=1e-5, equal_nan=True))
    return bool(np.array_equal(got, want, equal_nan=want.dtype.kind in "fc"))


def _diff_text(got, want):
    if got is None or want is None or isinstance(got, (list, tuple)) or isinstance(want, (list, tuple)):
        return "differs from the first copy's"  # sequences, empty optionals
    try:
        g, w = np.asarray(got), np.asarray(want)
        if g.shape != w.shape:
            return f"has shape {list(g.shape)}, the first copy's {list(w.shape)}"
        if g.dtype.kind in "fiu" and w.dtype.kind in "fiu" and g.size:
            d = np.abs(g.astype(np.float64) - w.astype(np.float64))
            return (f"differs from the first copy's at {int(np.count_nonzero(d))} of {g.size} elements "
                    f"(max abs diff {float(np.nanmax(d)):.6g})")
    except (TypeError, ValueError):
        pass
    return "differs from the first copy's"


def run_copies(opts, run_one, out=None):
    """--thread N: N copies of the whole run (each its own Options, network,
    inputs and state) on N threads. Their reports are printed one after the
    other, each under a `=== thread k/N` line; then their outputs are compared
    with the first copy's: bit for bit, or within 1e-4 relative when fast-run
    profiling may have chosen different algorithms in different copies.
    Returns 0 when all agree; a difference is one error line per copy, exit 1.
    The first copy alone writes --json / --get-static-mem-info and checks
    dispatch (the others would write and print the same)."""
    from dataclasses import replace

    out = out or sys.stdout
    n = opts.copies
    results = [None] * n

    def copy(k):
        mine = replace(opts, copies=1, core_ids=list(opts.core_ids))
        if k:
            mine = replace(mine, json_path="", static_mem_info="", check_dispatch=False)
        buf, outputs = io.StringIO(), {}
        try:
            run_one(mine, out=buf, outputs=outputs)
            results[k] = (buf.getvalue(), outputs, None)
        except BaseException as e:  # raised again in the main thread
            results[k] = (buf.getvalue(), outputs, e)

    threads = [threading.Thread(target=copy, args=(k,), name=f"loadrun-copy-{k}", daemon=True) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k, (text, _, _) in enumerate(results):
        print(f"=== thread {k + 1}/{n}", file=out)
        out.write(text)
    out.flush()
    for _, _, e in results:
        if e is not None:
            raise e
    tolerant = opts.fast_run or opts.full_run
    base = results[0][1]
    bad = []
    for k in range(1, n):
        bad += [f"--thread {n}: copy {k + 1}: {line}" for line in differences(results[k][1], base, tolerant)]
    if bad:
        for line in bad:
            print(f"load_and_run: error: {line}", file=sys.stderr)
        return 1
    print(f"=== thread check: {n} copies gave the same outputs"
          f"{' (within 1e-4, fast-run)' if tolerant else ' (bit for bit)'}", file=out, flush=True)
    return 0
