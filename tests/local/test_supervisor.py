"""No process a trial starts outlives the trial, and a trial holds none of the engine's files."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import uuid

import pytest

import automl
from automl.local import runner
from tests.faults.helpers import MARK, marked
from tests.local.helpers import records, run, spec

# A background child, and a daemon (setsid -f forks into a new session, its parent exits):
# neither is in the trial's process group any more by the time the trial ends.
LEAVE_BEHIND = "sleep 60 & setsid -f sleep 60; "


def _shell(script: str, deadline: int | None = None):
    experiment = spec(budget={"max_trials": 1, "parallel_trials": 1})
    trial = experiment.trial.model_copy(update={
        "command": ["sh", "-c", script, "sh", "${trialParameters.x}", "${trialParameters.y}"],
        "active_deadline_seconds": deadline})
    return experiment.model_copy(update={"trial": trial})


@pytest.fixture
def token(monkeypatch) -> str:
    """A mark in the environment of every trial process this test starts."""
    value = uuid.uuid4().hex
    monkeypatch.setenv(MARK, value)
    return value


@pytest.mark.parametrize(("ending", "script", "deadline", "status"), [
    ("it exits", LEAVE_BEHIND + "echo loss=$1", None, "Succeeded"),
    ("its deadline", LEAVE_BEHIND + "echo loss=$1; sleep 60", 1, "Failed"),
])
def test_every_process_a_command_trial_started_is_killed_at_its_end(
        tmp_path, token, ending, script, deadline, status) -> None:
    run(_shell(script, deadline), tmp_path)
    (row,) = records(tmp_path)
    assert row["status"] == status, row
    assert marked(token) == []  # at once: the trial ends once its processes are gone


def _leaves_children(params):
    subprocess.Popen(["sleep", "60"])
    subprocess.Popen(["setsid", "-f", "sleep", "60"]).wait()
    return 0.5


def test_every_process_a_function_trial_started_is_killed_at_its_end(tmp_path, token) -> None:
    summary = automl.tune("t", _leaves_children, {"x": {"type": "double", "min": 0, "max": 1}},
                          max_trial_count=1, progress=False, root=tmp_path / ".automl")
    assert summary.counts == {"Succeeded": 1}
    assert marked(token) == []


def test_a_trial_told_to_stop_gets_sigterm_first(tmp_path, monkeypatch) -> None:
    # Katib's stop: SIGTERM, then SIGKILL after the grace period, which this trial beats.
    monkeypatch.setattr(runner, "_GRACE_SECONDS", 30)
    script = ("trap 'echo got TERM >&2; exit 3' TERM; echo loss=$1; "
              "while :; do sleep 0.05; done")
    start = time.monotonic()
    run(_shell(script, deadline=1), tmp_path)
    (row,) = records(tmp_path)
    assert (row["status"], row["exit_code"]) == ("Failed", 3)
    # (the shell may first report its sleep, which got SIGTERM with it as its group)
    assert (tmp_path / ".automl/runs/t/t-0000/stderr.log").read_text().endswith("got TERM\n")
    assert time.monotonic() - start < 15


def _open_files(params):
    paths = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            paths.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # the listing's own descriptor, closed by now
            continue
    print("\n".join(f"open={p}" for p in paths))
    return 0.5


def test_a_function_trial_holds_no_file_of_the_engine(tmp_path) -> None:
    # Inherited, the experiment's lock or the journal's would outlive the engine in the trial,
    # or keep the engine waiting on a lock it has released itself.
    automl.tune("t", _open_files, {"x": {"type": "double", "min": 0, "max": 1}},
                max_trial_count=1, progress=False, root=tmp_path / ".automl")
    logs = tmp_path / ".automl/runs/t/t-0000"
    lines = (logs / "stdout.log").read_text().splitlines()
    opened = {line.removeprefix("open=") for line in lines if line.startswith("open=")}
    own = {os.devnull, str(logs / "stdout.log"), str(logs / "stderr.log")}
    assert opened - own - {p for p in opened if p.startswith("/proc/")} == set()
    assert os.devnull in opened


def test_a_command_trial_holds_no_file_of_the_engine(tmp_path) -> None:
    run(_shell('for f in /proc/$$/fd/*; do readlink "$f"; done; echo loss=$1'), tmp_path)
    lines = (tmp_path / ".automl/runs/t/t-0000/stdout.log").read_text().splitlines()
    opened = {line for line in lines if not line.startswith("loss=")}
    assert {p for p in opened if not p.startswith("pipe:")} == {os.devnull}


# A trial that kills its supervisor: then nothing kills its processes but the engine.
@pytest.mark.parametrize("script", [
    "kill -9 $PPID; sleep 60",  # the trial runs on
    "sleep 60 & kill -9 $PPID; echo loss=$1",  # the trial ends, a child that sleeps runs on
    "sh -c 'sleep 60 & sleep 60' & kill -9 $PPID; wait",  # grandchildren, then the trial
], ids=["trial-runs-on", "child-runs-on", "grandchildren-run-on"])
def test_a_command_trial_that_kills_its_supervisor_leaves_no_process(tmp_path, token,
                                                                      script) -> None:
    try:
        run(_shell(script), tmp_path)
        (row,) = records(tmp_path)
        assert (row["status"], row["reason"].split(";")[0]) == (
            "Failed", "killed by signal 9 (SIGKILL)")  # the supervisor's end, all there is
        assert marked(token) == []
    finally:
        _kill_marked(token)


def _kills_its_supervisor(params):
    subprocess.Popen(["sleep", "60"])
    os.kill(os.getppid(), 9)
    time.sleep(60)
    return 0.5


def test_a_function_trial_that_kills_its_supervisor_leaves_no_process(tmp_path, token) -> None:
    try:
        summary = automl.tune("t", _kills_its_supervisor,
                              {"x": {"type": "double", "min": 0, "max": 1}},
                              max_trial_count=1, progress=False, root=tmp_path / ".automl")
        assert summary.counts == {"Failed": 1}
        assert marked(token) == []
    finally:
        _kill_marked(token)


def _kill_marked(token: str) -> None:
    """Cleanup of a failed test: only the processes this test's own mark names."""
    for pid in marked(token):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
