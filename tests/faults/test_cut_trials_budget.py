"""Trials a stopped engine cut short (SIGTERM, kill -9) count toward no budget: resumed, the
experiment completes max_trials trials that ended by themselves, as on Katib, where a
restarted controller leaves its trials running to their end."""

from __future__ import annotations

import signal
import sys
import textwrap

import pytest

import automl
from automl.spec import Budget
from automl.state.cut import INTERRUPTED, STOPPED
from tests.faults.helpers import (
    finished,
    run_to_end,
    stopped_when,
    trial_processes,
    trials,
    wait_until,
    write_experiment,
)
from tests.local.helpers import run

# Runs until the file "go" appears where it runs, then reports x as its loss.
_HELD = textwrap.dedent("""
    import os, sys, time
    deadline = time.monotonic() + 60
    while not os.path.exists("go") and time.monotonic() < deadline:
        time.sleep(0.02)
    print(f"loss={sys.argv[1]}")
""")
# What each stop leaves of the trials it cut: SIGTERM records them, the next run after a
# kill -9 does; and the engine's exit status.
STOPS = {"sigterm": (signal.SIGTERM, "Killed", STOPPED, 143),
         "kill-9": (signal.SIGKILL, "Failed", INTERRUPTED, -9)}


@pytest.mark.parametrize(("stop", "status", "reason", "code"), STOPS.values(), ids=STOPS.keys())
def test_trials_a_stop_cut_short_are_replaced_and_use_up_no_budget(tmp_path, monkeypatch, stop,
                                                                   status, reason,
                                                                   code) -> None:
    held = tmp_path / "held.py"
    held.write_text(_HELD)
    # max_failed_trials 1: the two cut trials would fail the experiment if they counted
    path = write_experiment(tmp_path, max_trials=3, parallel_trials=2, max_failed_trials=1,
                            resume_policy="LongRunning", command=[
                                sys.executable, str(held), "${trialParameters.x}",
                                "${trialParameters.y}"])
    assert stopped_when(tmp_path, lambda: len(trial_processes(tmp_path, held)) == 2,
                        stop) == code
    assert wait_until(lambda: not trial_processes(tmp_path, held), timeout=10)

    (tmp_path / "go").touch()
    assert run_to_end(tmp_path) == (
        "t: Succeeded (ExperimentMaxTrialsReached: 3 trials completed (2 more cut short by a "
        f"stopped engine, not counted)); trials: 2 {status}, 3 Succeeded")
    ended = [(r["status"], r["reason"]) for r in finished(trials(tmp_path)).values()]
    assert ended == [(status, reason)] * 2 + [("Succeeded", "")] * 3

    # Continued by one trial (Katib's rule: max_trials above the trials that count), one runs.
    monkeypatch.chdir(tmp_path)  # where the trials look for "go"
    grown = automl.load(path).model_copy(update={"budget": Budget(max_trials=4,
                                                                   parallel_trials=2,
                                                                   max_failed_trials=1)})
    assert run(grown, tmp_path).status == "Succeeded"
    assert [r["status"] for r in finished(trials(tmp_path)).values()] == (
        [status] * 2 + ["Succeeded"] * 4)
