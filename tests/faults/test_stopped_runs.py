"""`automl run` and scripts calling automl.tune, stopped by kill -9, SIGTERM or Ctrl-C.

Whatever stops them, no trial process and nothing a trial started is left running, even a
process that left the trial's process group or daemonized.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.faults.helpers import (
    MARK,
    finished,
    marked,
    run_argv,
    trials,
    wait_until,
    write_experiment,
)

# A background child, a daemon in its own session (setsid -f), then the trial hangs.
TREE = "sleep 60 & setsid -f sleep 60; sleep 60"
SCRIPT = f"""
import os, subprocess, sys, time
import automl

def train(params):
    if os.environ.get("HANG"):
        subprocess.Popen(["sh", "-c", {TREE!r}])
        time.sleep(60)
    return float(params["x"])

summary = automl.tune("s", train, {{"x": {{"type": "double", "min": 0, "max": 1}}}},
                      max_trial_count=int(sys.argv[1]), progress=False)
print(summary.status)
"""
EXIT_STATUS = {  # how each stops: kill -9, SIGTERM as a stop (143), Ctrl-C
    ("run", signal.SIGKILL): -9, ("run", signal.SIGTERM): 143, ("run", signal.SIGINT): 130,
    ("tune", signal.SIGKILL): -9, ("tune", signal.SIGTERM): 143,
    ("tune", signal.SIGINT): -signal.SIGINT,  # Python's own exit on a KeyboardInterrupt
}


def _start(kind: str, folder: Path, token: str, *, hang: bool = True,
           trials_wanted: int = 1) -> subprocess.Popen:
    env = {**os.environ, MARK: token}
    if hang:
        env["HANG"] = "1"
    if kind == "run":
        write_experiment(folder, max_trials=trials_wanted, parallel_trials=1,
                         command=["sh", "-c", TREE, "sh", "${trialParameters.x}",
                                  "${trialParameters.y}"])
        argv = run_argv()
    else:
        (folder / "script.py").write_text(SCRIPT)
        argv = [sys.executable, "script.py", str(trials_wanted)]
    return subprocess.Popen(argv, cwd=folder, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _sleeping(token: str) -> list[int]:
    """The trial's three sleeps, once they run."""
    found = []
    for pid in marked(token):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "sleep":
                found.append(pid)
        except OSError:
            continue
    return found


@pytest.mark.parametrize("kind", ["run", "tune"])
@pytest.mark.parametrize("number", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT],
                         ids=["kill-9", "SIGTERM", "Ctrl-C"])
def test_no_process_of_a_trial_outlives_its_stopped_run(tmp_path, kind, number) -> None:
    token = uuid.uuid4().hex
    engine = _start(kind, tmp_path, token)
    try:
        assert wait_until(lambda: len(_sleeping(token)) == 3, timeout=60), engine.stderr
        engine.send_signal(number)
        _, err = engine.communicate(timeout=60)
    finally:
        engine.kill()
    assert engine.returncode == EXIT_STATUS[kind, number], err
    assert wait_until(lambda: marked(token) == [], timeout=10), marked(token)


def test_sigterm_ends_a_tune_script_with_143_and_its_trial_killed(tmp_path) -> None:
    token = uuid.uuid4().hex
    script = _start("tune", tmp_path, token)
    assert wait_until(lambda: len(_sleeping(token)) == 3, timeout=60)
    script.send_signal(signal.SIGTERM)
    _, err = script.communicate(timeout=60)
    assert script.returncode == 143, err
    assert "Traceback" not in err
    found = trials(tmp_path, "s")
    assert [(t.state.name, r["status"]) for t, r in zip(found, finished(found).values(),
                                                       strict=True)] == [("FAIL", "Killed")]


def test_after_kill_9_of_a_tune_script_the_experiment_runs_again_at_once(tmp_path) -> None:
    # An orphaned forked trial held the experiment's lock file, inherited from the engine:
    # the next run was refused as "already running" for as long as the trial lived.
    token = uuid.uuid4().hex
    script = _start("tune", tmp_path, token)
    assert wait_until(lambda: len(_sleeping(token)) == 3, timeout=60)
    script.kill()
    script.communicate(timeout=30)
    start = time.monotonic()
    again = _start("tune", tmp_path, token, hang=False)
    out, err = again.communicate(timeout=60)
    assert (again.returncode, out) == (0, "Succeeded\n"), err
    assert time.monotonic() - start < 30
    statuses = [r["status"] for r in finished(trials(tmp_path, "s")).values()]
    # the cut-off trial, then a new one: the cut-off one counts toward no budget
    assert statuses == ["Failed", "Succeeded"]
