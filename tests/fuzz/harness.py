"""Runs fuzz cases in a worker child process, each under a timeout.

The parent sends case seeds over the worker's stdin and reads one JSON line
per case from a private pipe (the worker's fd 1 and 2 both go to a log file,
so whatever loadrun prints cannot break the protocol). A worker that dies
(a signal: a crash) or does not answer within the timeout (a hang: it is
killed) is a finding for the case it was running, with that case's seed; a
fresh worker then carries on with the next case.
"""
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

STARTUP_TIMEOUT = 300  # seconds for a worker's imports and corpus (slow under ASan)
HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)


def _worker_env():
    import loadrun

    env = dict(os.environ)
    # The same loadrun as this process (a dev tree or an installed package).
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(loadrun.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([TESTS, pkg_parent] + [p for p in [env.get("PYTHONPATH")] if p])
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _sanitizer_env():
    return [f"{k}={os.environ[k]} " for k in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS") if os.environ.get(k)]


class Finding:
    def __init__(self, target, case_seed, kind, detail, known=None):
        self.target, self.case_seed, self.kind, self.detail, self.known = target, case_seed, kind, detail, known

    def repro(self):
        env = _worker_env()
        return (f"PYTHONPATH={env['PYTHONPATH']} {' '.join(_sanitizer_env())}python -m fuzz {self.target} "
                f"--case-seed {self.case_seed}")

    def __str__(self):
        tail = f" [known-open: {self.known}]" if self.known else ""
        return f"{self.target} case seed {self.case_seed}: {self.kind}: {self.detail}{tail}\n    reproduce: {self.repro()}"


class Worker:
    def __init__(self, target, workdir, timeout):
        self.target = target
        self.log = tempfile.NamedTemporaryFile(prefix=f"fuzz-{target}-", suffix=".log", dir=workdir, delete=False)
        r, w = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fuzz.worker", target, str(w), workdir, str(timeout)],
            stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT, env=_worker_env(),
            pass_fds=(w,), cwd=workdir, text=True)
        os.close(w)
        self.answers = os.fdopen(r, "r")
        self.ready = False
        self.start_error = None
        kind, ans = self._read(STARTUP_TIMEOUT)  # imports and the target's prepare()
        if kind != "answer" or ans.get("outcome") != "ready":
            self.start_error = f"worker did not start: {kind}: {ans}"
        self.ready = True

    def log_tail(self, n=2500):
        self.log.flush()
        with open(self.log.name, "rb") as f:
            data = f.read()
        return data[-n:].decode("utf-8", "replace")

    def ask(self, case_seed, timeout):
        """('answer', dict) | ('crash', text) | ('hang', text)."""
        try:
            self.proc.stdin.write(f"{case_seed}\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        return self._read(timeout)

    def _read(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                return "hang", f"no answer in {timeout:.0f} s; worker log tail:\n{self.log_tail()}"
            rl, _, _ = select.select([self.answers], [], [], left)
            if rl:
                line = self.answers.readline()
                if not line:  # the worker is gone
                    rc = self.proc.wait()
                    tail = self.log_tail()
                    if "Timeout (" in tail:  # faulthandler's dump at 0.9 x timeout
                        return "hang", f"no answer in {timeout:.0f} s; where it was:\n{tail}"
                    why = f"signal {signal.Signals(-rc).name}" if rc < 0 else f"exit code {rc}"
                    return "crash", f"worker died ({why}); log tail:\n{tail}"
                return "answer", json.loads(line)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        self.answers.close()
        self.log.close()
        os.unlink(self.log.name)


def case_seeds(seed, cases):
    """The seeds of cases 0, 1, ... of a run with base seed `seed` (lazily)."""
    import numpy as np

    for i in range(cases):
        yield int(np.random.SeedSequence([seed, i]).generate_state(1, np.uint32)[0])


def fuzz(target, seed, cases, seconds, timeout, workdir, log=None):
    """Runs up to `cases` cases of `target` within `seconds`.

    Returns (stats, findings): stats counts outcomes by kind.
    """
    from fuzz import known

    stats = {"cases": 0, "ok": 0, "refused": 0}
    findings = []
    spent = 0.0  # seconds in cases, worker start-ups not counted
    worker = None
    try:
        for cs in case_seeds(seed, cases):
            if spent > seconds:
                break
            if worker is None:
                worker = Worker(target, workdir, timeout)
                if worker.start_error:  # nothing can run: fail loudly
                    raise RuntimeError(f"fuzz {target}: {worker.start_error}")
            t0 = time.monotonic()
            kind, ans = worker.ask(cs, timeout)
            spent += time.monotonic() - t0
            stats["cases"] += 1
            if kind == "answer":
                if ans["outcome"] in ("ok", "refused"):
                    stats[ans["outcome"]] += 1
                    continue
                kind, detail = ans["outcome"], ans["detail"]
            else:
                detail = ans
                worker.close()
                worker = None
            f = Finding(target, cs, kind, detail.strip())
            f.known = known.match(target, kind, f.detail)
            findings.append(f)
            if log:
                log(str(f))
    finally:
        if worker is not None:
            worker.close()
    stats["seconds"] = round(spent, 1)
    return stats, findings
