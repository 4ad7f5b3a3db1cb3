"""python -m fuzz TARGET [--seed S --cases C --seconds T | --case-seed N]
(run with PYTHONPATH=tests:python from the repository root)."""
import argparse
import random
import sys
import tempfile

from fuzz import TARGETS, harness


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m fuzz")
    p.add_argument("target", choices=TARGETS + ("all",))
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--cases", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--case-seed", type=int, default=None, help="run this one case in this process")
    a = p.parse_args(argv)
    if a.case_seed is not None:
        import importlib

        import numpy as np

        mod = importlib.import_module(f"fuzz.{a.target}")
        with tempfile.TemporaryDirectory() as d:
            print(mod.run_case(np.random.default_rng(a.case_seed), d))
        return 0
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(2**32)
    bad = 0
    for t in TARGETS if a.target == "all" else (a.target,):
        with tempfile.TemporaryDirectory() as d:
            stats, findings = harness.fuzz(t, seed, a.cases, a.seconds, a.timeout, d, log=print)
        print(f"{t}: seed {seed}: {stats}")
        bad += sum(1 for f in findings if not f.known)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
