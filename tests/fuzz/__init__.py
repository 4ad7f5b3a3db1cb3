"""Bounded, seeded fuzzers for loadrun: one module per target.

Each target module defines `run_case(rng, workdir)`: it builds one random case
from `rng` (a numpy Generator seeded with the case seed), runs it through
loadrun and returns a short text on a correct result. It raises a
loadrun.errors error (not InternalError) when loadrun refuses the case, which
is also allowed; it raises AssertionError for a wrong result. Anything else
(another exception, an InternalError, a signal, a hang) is a finding.

Cases run in a worker child process (harness.py) with a per-case timeout, so
a crash or a hang is caught and reported with the case seed. Reproduce one
case, from the repository root:

    PYTHONPATH=tests:python python -m fuzz TARGET --case-seed N

and a whole run with `--seed S --cases C --seconds T`.
"""

TARGETS = ("model_proto", "model_bytes", "algos", "fastrun_cache", "inputs")
