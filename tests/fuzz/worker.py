"""The fuzz worker: reads case seeds on stdin, runs each case of one target,
answers one JSON line per case on the fd given on its command line."""
import importlib
import json
import os
import sys
import traceback


def classify(run, case_seed, workdir):
    import numpy as np

    from loadrun.errors import InternalError, LoadrunError

    try:
        what = run(np.random.default_rng(case_seed), workdir)
        return {"outcome": "ok", "detail": str(what or "")}
    except InternalError as e:
        return {"outcome": "InternalError", "detail": _where(e)}
    except LoadrunError as e:
        return {"outcome": "refused", "detail": f"{type(e).__name__}: {e}"}
    except MemoryError as e:  # the worker's address-space limit: a clean refusal
        return {"outcome": "refused", "detail": f"MemoryError: {e}"}
    except AssertionError as e:
        return {"outcome": "wrong result", "detail": _where(e)}
    except BaseException as e:  # noqa: BLE001 - every other exception is a finding
        return {"outcome": "traceback", "detail": _where(e)}


def _where(e):
    tb = traceback.format_exception(type(e), e, e.__traceback__)
    msg = f"{type(e).__name__}: {e}"
    return msg[:2000] + "\n" + "".join(tb[-4:])[-1500:]


def limit_memory():
    """A valid model may ask for many GB (Expand to 2^30 x 2): cap the worker's
    address space (LOADRUN_FUZZ_MEMORY_MB, default 4096) so such a case ends
    in MemoryError instead of swapping the machine. Under AddressSanitizer
    (which reserves terabytes of shadow) ASAN_OPTIONS' max_allocation_size_mb
    and allocator_may_return_null do the same job."""
    import resource

    if "asan" in os.environ.get("LD_PRELOAD", ""):
        return
    mb = int(os.environ.get("LOADRUN_FUZZ_MEMORY_MB", "4096"))
    resource.setrlimit(resource.RLIMIT_AS, (mb << 20, mb << 20))


def main():
    target, fd, workdir, timeout = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    limit_memory()
    import faulthandler

    faulthandler.enable()  # a crash prints the Python stack into the log
    answers = os.fdopen(fd, "w")
    import numpy  # noqa: F401  (imports before "ready": not in any case's time)

    import loadrun.errors  # noqa: F401

    mod = importlib.import_module(f"fuzz.{target}")
    if hasattr(mod, "prepare"):  # build the target's corpus before the clock starts
        mod.prepare(workdir)
    answers.write(json.dumps({"outcome": "ready"}) + "\n")
    answers.flush()
    for line in sys.stdin:
        case_seed = int(line)
        print(f"== case seed {case_seed}", flush=True)
        # A case near its timeout: print where it is (the harness reports a hang).
        faulthandler.dump_traceback_later(timeout * 0.9, exit=True)
        ans = classify(mod.run_case, case_seed, workdir)
        faulthandler.cancel_dump_traceback_later()
        answers.write(json.dumps(ans) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
