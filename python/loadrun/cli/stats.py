"""Timing statistics of the timed iterations.

load_and_run's figures (sum, mean, sample standard deviation, min, max) plus
loadrun's (median, p90, p99 by linear interpolation, throughput). The sample
SD of one iteration is 0, not NaN (the reference divides by n-1 = 0).
"""
import math


def percentile(sorted_times, q):
    """Linear interpolation between closest ranks (NumPy's default method)."""
    n = len(sorted_times)
    pos = (n - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    return sorted_times[lo] + (sorted_times[hi] - sorted_times[lo]) * (pos - lo)


def summarize(times):
    """A dict of statistics in ms (throughput in inferences/s); None for no times."""
    n = len(times)
    if n == 0:
        return None
    total = float(sum(times))
    mean = total / n
    sd = math.sqrt(sum((t - mean) ** 2 for t in times) / (n - 1)) if n > 1 else 0.0
    s = sorted(times)
    return {
        "iterations": n,
        "time": total,
        "avg": mean,
        "sd": sd,
        "min": s[0],
        "max": s[-1],
        "median": percentile(s, 50),
        "p90": percentile(s, 90),
        "p99": percentile(s, 99),
        "throughput": 1000.0 * n / total if total > 0 else float("inf"),
    }
