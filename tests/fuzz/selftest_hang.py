"""Not a target: a case that never ends, to test the harness."""
import time


def run_case(rng, workdir):
    time.sleep(1000)
