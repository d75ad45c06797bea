"""Nothing is lost when the engine is killed (kill -9), interrupted (Ctrl-C) or stopped (TERM)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import yaml

from automl.local.store import ATTR, open_storage
from automl.state.cut import cut_short
from tests.faults.helpers import trial_processes
from tests.local.helpers import TRIAL, study_trials

MAX_TRIALS = 6


def _experiment(tmp_path: Path, max_failed_trials: int | None = None) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump({
        "name": "slow",
        "objective": {"metric": "loss", "type": "minimize"},
        "algorithm": {"name": "random", "settings": {"random_state": 5}},
        "budget": {"max_trials": MAX_TRIALS, "parallel_trials": 2,
                   "max_failed_trials": max_failed_trials},
        "parameters": [{"name": "x", "type": "double", "min": 0, "max": 1},
                       {"name": "y", "type": "int", "min": 0, "max": 4}],
        "trial": {"command": [sys.executable, TRIAL, "--x=${trialParameters.x}",
                              "--y=${trialParameters.y}", "--epochs=3", "--sleep=0.4"]},
    }))
    return path


def _start(tmp_path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "automl", "run", "exp.yaml", "-q"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _wait_for_finished(tmp_path: Path, count: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if sum(t.state.is_finished() for t in study_trials(tmp_path, "slow")) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} trials finished in {timeout}s")


def _wait_gone(tmp_path: Path, timeout: float = 10) -> list[int]:
    deadline = time.time() + timeout
    while time.time() < deadline and trial_processes(tmp_path):
        time.sleep(0.1)
    return trial_processes(tmp_path)


def _wait_running(tmp_path: Path, timeout: float = 10) -> None:
    """Until trials run again: two trials that ended together leave both slots empty until
    the engine's next launch, and a signal sent then finds no trial to stop."""
    deadline = time.time() + timeout
    while not trial_processes(tmp_path) and time.time() < deadline:
        time.sleep(0.02)


def _finish(tmp_path: Path) -> list[dict]:
    result = subprocess.run([sys.executable, "-m", "automl", "run", "exp.yaml", "-q"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("slow: Succeeded (ExperimentMaxTrialsReached")
    return [t.user_attrs[ATTR] for t in study_trials(tmp_path, "slow")]


def test_kill_9_keeps_finished_trials_leaves_no_orphans_and_resumes(tmp_path) -> None:
    _experiment(tmp_path)
    engine = _start(tmp_path)
    _wait_for_finished(tmp_path, 2)
    _wait_running(tmp_path)
    assert trial_processes(tmp_path), "trials should be running when the engine is killed"
    before = {t.number: t.user_attrs[ATTR] for t in study_trials(tmp_path, "slow")
              if t.state.is_finished()}
    engine.send_signal(signal.SIGKILL)
    engine.wait(timeout=10)
    assert _wait_gone(tmp_path) == []  # the trials died with their engine

    rows = _finish(tmp_path)
    for number, record in before.items():
        assert rows[number] == record  # finished trials kept as they were
    interrupted = [r for r in rows if r["reason"].startswith("interrupted")]
    assert interrupted and all(r["status"] == "Failed" for r in interrupted)
    # the interrupted trials count toward no budget: as many others as max_trials ran
    assert [r["status"] for r in rows if not cut_short(r)] == ["Succeeded"] * MAX_TRIALS
    assert len({r["name"] for r in rows}) == len(rows)


def test_ctrl_c_stops_every_trial_and_the_run_resumes(tmp_path) -> None:
    _experiment(tmp_path)
    engine = _start(tmp_path)
    _wait_for_finished(tmp_path, 1)
    _wait_running(tmp_path)
    engine.send_signal(signal.SIGINT)
    _, err = engine.communicate(timeout=30)
    assert engine.returncode == 130
    assert "finished trials are kept" in err
    assert "Traceback" not in err
    assert _wait_gone(tmp_path, timeout=2) == []
    states = {t.state for t in study_trials(tmp_path, "slow")}
    assert optuna.trial.TrialState.RUNNING not in states  # the study is consistent
    killed = [t.user_attrs[ATTR] for t in study_trials(tmp_path, "slow")
              if t.user_attrs[ATTR]["status"] == "Killed"]
    assert killed

    rows = _finish(tmp_path)
    assert [r["status"] for r in rows if not cut_short(r)] == ["Succeeded"] * MAX_TRIALS
    assert [r for r in rows if cut_short(r)] == killed  # kept, counted toward no budget


def test_sigterm_stops_as_ctrl_c_does_and_its_cut_off_trials_are_not_failures(tmp_path):
    # timeout, systemd, docker stop and Kubernetes stop a process with SIGTERM. Had it killed
    # the engine, a resume would record the cut-off trials as Failed, and with
    # max_failed_trials 1 end the experiment Failed for good.
    _experiment(tmp_path, max_failed_trials=1)
    engine = _start(tmp_path)
    _wait_for_finished(tmp_path, 1)
    _wait_running(tmp_path)
    engine.send_signal(signal.SIGTERM)
    _, err = engine.communicate(timeout=30)
    assert engine.returncode == 143
    assert "stopped by SIGTERM" in err and "run the same command to resume" in err
    assert "Traceback" not in err
    assert _wait_gone(tmp_path, timeout=2) == []
    found = study_trials(tmp_path, "slow")
    assert optuna.trial.TrialState.RUNNING not in {t.state for t in found}
    statuses = [t.user_attrs[ATTR]["status"] for t in found]
    assert "Killed" in statuses and "Failed" not in statuses

    rows = _finish(tmp_path)
    assert [r["status"] for r in rows if not cut_short(r)] == ["Succeeded"] * MAX_TRIALS
    assert "Failed" not in {r["status"] for r in rows}


def test_a_trial_recorded_but_not_yet_told_when_killed_keeps_its_record(tmp_path) -> None:
    from automl.local.space import assignments, search_space
    from tests.local.helpers import run, spec

    # LongRunning: Katib lets a completed experiment continue with a larger budget
    experiment = spec(budget={"max_trials": 1, "parallel_trials": 1}, resume_policy="LongRunning")
    run(experiment, tmp_path)
    # The engine records a trial, then tells Optuna: a kill between the two leaves this.
    study = optuna.load_study(study_name="t", storage=open_storage(None, tmp_path / ".automl"))
    trial = study.ask(search_space(experiment))
    record = {"name": "t-0001", "status": "Succeeded", "reason": "", "exit_code": 0,
              "log_dir": "", "start": 1.0, "end": 2.0, "objective": 0.125, "metrics": {},
              "history": [], "params": assignments(experiment, trial.params)}
    trial.set_user_attr(ATTR, record)

    run(spec(budget={"max_trials": 3, "parallel_trials": 1}, resume_policy="LongRunning"),
        tmp_path)

    study = optuna.load_study(study_name="t", storage=open_storage(None, tmp_path / ".automl"))
    finished = [t for t in study.get_trials() if t.state.is_finished()]
    assert len(finished) == 3
    assert finished[1].user_attrs[ATTR] == record
    assert finished[1].state == optuna.trial.TrialState.COMPLETE
    assert finished[1].value == 0.125
