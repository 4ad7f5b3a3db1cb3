"""Helpers for the tests that call loadrun from many Python threads at once
(test_concurrency.py, test_threads_api.py). hammer() starts N threads
together (a barrier) and runs a job on each for a number of rounds,
collecting every exception and wrong answer rather than stopping at the
first; same_answers() is the usual job: a Network's output for one of a
list of feeds, bit for bit against what the same Network answered a single
caller (the same plan runs the same kernels, so any difference is a race)."""
import threading

import numpy as np

N_THREADS = 8


def hammer(job, n_threads=N_THREADS, rounds=4):
    """Runs job(i, r) on n_threads threads at once, `rounds` times each;
    returns the failures (exceptions and the problems job returned as a
    string), which must be none."""
    failures = []
    barrier = threading.Barrier(n_threads)

    def worker(i):
        barrier.wait()
        for r in range(rounds):
            try:
                problem = job(i, r)
            except Exception as e:  # noqa: BLE001 - every failure is reported
                problem = f"{type(e).__name__}: {e}"
            if problem:
                failures.append(f"thread {i} round {r}: {problem}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


def same_answers(net, feeds, want, out, pick, inp="input"):
    """A hammer job: thread i in round r runs feed k = pick(i, r) on `net`
    and checks output `out` against want[k] (shape, then every bit)."""

    def job(i, r):
        k = pick(i, r)
        got = net.run({inp: feeds[k]})[out]
        if got.shape != want[k].shape:
            return f"shape {got.shape} for feed {k}, expected {want[k].shape}"
        return None if np.array_equal(got, want[k]) else f"wrong values for feed {k}"

    return job
