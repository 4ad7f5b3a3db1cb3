"""Fast-run options: the strategy bits, their conflicts, and the cache file.

One function turns the user's choices (load_and_run's flags or load()'s
keyword arguments, same names) into the core chooser's options, refusing the
combinations the spec refuses:

    fast_run                    PROFILE|OPTIMIZED: time every candidate but NAIVE
    full_run                    PROFILE: NAIVE too
    reproducible                only algorithms with the REPRODUCIBLE attribute
    binary_equal_between_batch  REPRODUCIBLE, and none whose accuracy depends on the batch
    fast_run_shared_batch_size  profile at batch N, one cache entry for every batch
    fast_run_algo_policy FILE   the persistent cache; alone (an existing file):
                                use it, fall back to the heuristic, never profile
    workspace_limit N           skip algorithms that need more scratch bytes
"""
import os

HEURISTIC, PROFILE, REPRODUCIBLE, OPTIMIZED = 1, 2, 4, 8
STRATEGY_NAMES = ((HEURISTIC, "HEURISTIC"), (PROFILE, "PROFILE"), (REPRODUCIBLE, "REPRODUCIBLE"),
                  (OPTIMIZED, "OPTIMIZED"))
# attribute bits of algorithms
ATTR_NAMES = ((1, "REPRODUCIBLE"), (2, "NAIVE"), (4, "USABLE_DEPEND_ON_SHAPE"), (8, "ACCURACY_DEPEND_ON_BATCH"))
UINT64_MAX = 2 ** 64 - 1


class FastRunOptionError(ValueError):
    """A refused combination of fast-run options (the CLI exits with code 2)."""


def _kwarg(name):
    return name


def strategy_text(strategy):
    return " ".join(n for bit, n in STRATEGY_NAMES if strategy & bit)


def attribute_text(bits):
    return "|".join(n for bit, n in ATTR_NAMES if bits & bit) or "-"


def chooser_options(*, fast_run=False, full_run=False, reproducible=False, binary_equal_between_batch=False,
                    fast_run_shared_batch_size=0, fast_run_algo_policy=None, workspace_limit=None,
                    spell=_kwarg):
    """Keyword arguments for the core Network's chooser; raises FastRunOptionError.

    spell(name) writes an option's name in the caller's terms (a flag for the CLI).
    """
    if fast_run and full_run:
        raise FastRunOptionError("invalid options of both fast-run and full-run")
    profiling = bool(fast_run or full_run)
    strategy = PROFILE | OPTIMIZED if fast_run else PROFILE if full_run else HEURISTIC
    if reproducible or binary_equal_between_batch:
        strategy |= REPRODUCIBLE
    policy = os.fspath(fast_run_algo_policy) if fast_run_algo_policy else ""
    if policy and os.path.isdir(policy):
        raise FastRunOptionError(f"{spell('fast_run_algo_policy')}: {policy} is a directory, not a cache file")
    if policy and os.path.exists(policy) and not os.path.isfile(policy):  # a FIFO would block, /dev/zero not end
        raise FastRunOptionError(f"{spell('fast_run_algo_policy')}: {policy} is not a regular file, not a cache file")
    if policy and not profiling:
        if not os.path.exists(policy):
            raise FastRunOptionError(
                f"{spell('fast_run_algo_policy')}: {policy} does not exist; give {spell('fast_run')} or "
                f"{spell('full_run')} to create it")
        # use the cache, else the heuristic, never profile (REPRODUCIBLE is kept)
        strategy = PROFILE | HEURISTIC | (strategy & REPRODUCIBLE)
    batch = int(fast_run_shared_batch_size or 0)
    if batch < 0:
        raise FastRunOptionError(f"{spell('fast_run_shared_batch_size')} must be >= 0, got {batch}")
    if batch and not (profiling or policy):
        raise FastRunOptionError(
            f"{spell('fast_run_shared_batch_size')} needs one of {spell('fast_run')}, {spell('full_run')}, "
            f"{spell('fast_run_algo_policy')}")
    if workspace_limit is not None:
        workspace_limit = int(workspace_limit)
        if not 0 <= workspace_limit <= UINT64_MAX:
            raise FastRunOptionError(
                f"{spell('workspace_limit')} must be a byte count in 0..{UINT64_MAX}, got {workspace_limit}")
    return {
        "strategy": strategy,
        "workspace_limit": workspace_limit,
        "binary_equal_between_batch": bool(binary_equal_between_batch),
        "shared_batch_size": batch,
        "algo_policy": policy,
    }
