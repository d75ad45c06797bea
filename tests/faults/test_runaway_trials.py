"""Trials that hang, crash or flood their output: each ends recorded, the engine unharmed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from automl.local import runner
from tests.faults.helpers import alive
from tests.local.helpers import records, run, spec

REPO = Path(__file__).resolve().parents[2]


def _python(code: str, deadline: int | None = None, **changes):
    """A one-trial experiment whose trial is ``python -c code`` (StdOut collector)."""
    experiment = spec(budget={"max_trials": 1, "parallel_trials": 1}, **changes)
    trial = experiment.trial.model_copy(update={
        "command": [sys.executable, "-c", code, "${trialParameters.x}", "${trialParameters.y}"],
        "active_deadline_seconds": deadline})
    return experiment.model_copy(update={"trial": trial})


_IGNORES_SIGTERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "


def test_a_hanging_trial_fails_at_its_deadline_and_its_process_group_is_gone(
        tmp_path, monkeypatch) -> None:
    # Silent, deaf to SIGTERM, with a child as deaf that holds its output open: only SIGKILL
    # of the whole group ends it, after the grace period (shortened here).
    monkeypatch.setattr(runner, "_GRACE_SECONDS", 0.5)
    pids = tmp_path / "pids"
    deaf = _IGNORES_SIGTERM + "time.sleep(60)"
    code = (_IGNORES_SIGTERM + "import os, subprocess, sys\n"
            f"child = subprocess.Popen([sys.executable, '-c', {deaf!r}])\n"
            f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
            "time.sleep(60)")
    start = time.monotonic()
    run(_python(code, deadline=1), tmp_path)
    took = time.monotonic() - start
    (row,) = records(tmp_path)
    assert (row["status"], row["reason"]) == (
        "Failed", "deadline of 1s passed (activeDeadlineSeconds)")
    assert [pid for pid in map(int, pids.read_text().split()) if alive(pid)] == []
    assert took < 5  # 1 s deadline + 0.5 s grace, not the 60 s the processes sleep


def test_a_trial_whose_child_outlives_it_still_ends(tmp_path) -> None:
    # Katib ends a pod's processes with its container; a leftover child holding the output
    # open would otherwise keep the trial (and the engine) waiting for it.
    pid_file = tmp_path / "pid"
    code = ("import subprocess, sys\n"
            "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
            f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
            "print('loss=0.5')")
    start = time.monotonic()
    run(_python(code), tmp_path)
    (row,) = records(tmp_path)
    assert (row["status"], row["objective"]) == ("Succeeded", 0.5)
    assert not alive(int(pid_file.read_text()))
    assert time.monotonic() - start < 10


@pytest.mark.parametrize(("crash", "reason", "exit_code"), [
    ("os.kill(os.getpid(), signal.SIGSEGV)", "killed by signal 11 (SIGSEGV)", -11),
    ("os._exit(139)", "exit status 139", 139),
])
def test_a_crashing_trial_fails_with_its_exit_code_and_keeps_its_logs(
        tmp_path, crash, reason, exit_code) -> None:
    code = ("import os, signal, sys\n"
            "print('loss=0.5', flush=True)\n"
            "print('about to crash', file=sys.stderr, flush=True)\n" + crash)
    run(_python(code), tmp_path)
    (row,) = records(tmp_path)
    assert (row["status"], row["exit_code"]) == ("Failed", exit_code)
    assert row["reason"].startswith(f"{reason}; stderr: about to crash; log: ")
    assert row["reason"].endswith("stderr.log")  # where the rest of the story is
    logs = tmp_path / ".automl/runs/t/t-0000"
    assert (logs / "stdout.log").read_text() == "loss=0.5\n"
    assert (logs / "stderr.log").read_text() == "about to crash\n"


_MB = 1024 * 1024
_FLOODS = {  # 100 chunks of about 1 MiB
    # 10-byte lines: per-line work in the engine would take most of a minute.
    "short lines": b"x" * 9 + b"\n",
    # no newline at all: one 100 MB line, which must not be held in memory.
    "one line": b"x" * 10,
}
_ENGINE = """
import json, resource, sys, time
from pathlib import Path
from tests.faults.test_runaway_trials import _python
from tests.local.helpers import run
experiment = _python(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
run(experiment, Path(sys.argv[1]))
print(json.dumps({"seconds": time.monotonic() - start,
                  "rss_growth_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before}))
"""


@pytest.mark.parametrize("flood", sorted(_FLOODS))
def test_a_100_mb_flood_is_logged_quickly_in_bounded_memory_and_the_metric_read(
        tmp_path, flood) -> None:
    chunk = _FLOODS[flood] * (_MB // 10)
    code = (f"import sys\nchunk = {_FLOODS[flood]!r} * {_MB // 10}\n"
            "out = sys.stdout.buffer\nout.write(b'loss=0.5\\n')\n"
            "for _ in range(100): out.write(chunk)\n"
            "out.write(b'\\nloss=0.25\\n')\n")
    # The engine in its own process, so that its peak memory is its own.
    result = subprocess.run([sys.executable, "-c", _ENGINE, str(tmp_path), code], cwd=REPO,
                            capture_output=True, text=True, timeout=120, check=True)
    measured = json.loads(result.stdout)
    (row,) = records(tmp_path)
    assert (row["status"], row["objective"]) == ("Succeeded", 0.25)
    assert row["metrics"]["loss"]["max"] == 0.5  # the report before the flood, too
    size = (tmp_path / ".automl/runs/t/t-0000/stdout.log").stat().st_size
    assert size == len(b"loss=0.5\n") + 100 * len(chunk) + len(b"\nloss=0.25\n")
    assert measured["rss_growth_kb"] < 32 * 1024  # vs 100 MB written
    assert measured["seconds"] < 15


def test_past_the_cap_only_each_metrics_extremes_and_latest_are_kept(
        tmp_path, monkeypatch) -> None:
    # A trial reporting its loss at every step for millions of steps must not fill the
    # engine's memory; the values a metric strategy reads stay exact.
    monkeypatch.setattr(runner, "_KEPT", 50)
    values = [1 / (1 + i) for i in range(500)]
    values[300], values[400] = 7.5, 1e-6  # the maximum and the minimum, past the cap
    code = "".join(f"print('loss={v!r}')\n" for v in values)
    run(_python(code), tmp_path)
    (row,) = records(tmp_path)
    assert row["metrics"]["loss"] == {"min": 1e-6, "max": 7.5, "latest": repr(values[-1])}
    lines = (tmp_path / ".automl/runs/t/t-0000/observations.jsonl").read_text().splitlines()
    kept = [float(json.loads(line)["value"]) for line in lines]
    assert kept == [*values[:50], 7.5, 1e-6, values[-1]]
