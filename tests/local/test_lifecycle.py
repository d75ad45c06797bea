"""The experiment's lifecycle as Katib's experiment controller runs it.

Pinned from kubeflow/katib: ``pkg/controller.v1beta1/experiment/util/status_util.go``
(``UpdateExperimentStatusCondition``, ``IsCompletedExperimentRestartable``),
``pkg/controller.v1beta1/experiment/experiment_controller.go`` (``Reconcile``,
``ReconcileTrials``) and ``pkg/webhook/v1beta1/experiment/validator/validator.go``
(``ValidateExperiment``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from automl.errors import AutomlError
from tests.local.helpers import records, run, spec

# Each trial takes the next number from a folder of marker files, and behaves by it:
# BEHAVIOUR[n] = (seconds to sleep, the line it prints).
_PROGRAM = """
import os, sys, time
folder, behaviour = sys.argv[1], eval(sys.argv[2])
n = 0
while True:
    try:
        os.close(os.open(os.path.join(folder, str(n)), os.O_CREAT | os.O_EXCL)); break
    except FileExistsError:
        n += 1
sleep, line = behaviour[min(n, len(behaviour) - 1)]
time.sleep(sleep)
print(line, flush=True)
"""


def _ordered(tmp_path: Path, behaviour: list[tuple[float, str]], **changes):
    folder = tmp_path / "markers"
    folder.mkdir()
    command = [sys.executable, "-c", _PROGRAM, str(folder), repr(behaviour),
               "--x=${trialParameters.x}", "--y=${trialParameters.y}"]
    data = {"trial": {"command": command}, **changes}
    return spec(**data)


def test_trials_running_when_the_goal_is_reached_finish_and_can_become_the_best(
        tmp_path) -> None:
    # status_util.go reaches the goal; Reconcile keeps reconciling running trials, and
    # updateTrialsSummary still moves currentOptimalTrial: nothing is killed.
    experiment = _ordered(tmp_path, [(0.0, "loss=0.5"), (1.5, "loss=0.1")],
                          objective={"metric": "loss", "type": "minimize", "goal": 0.6},
                          budget={"max_trials": 4, "parallel_trials": 2})
    summary = run(experiment, tmp_path)
    assert (summary.status, summary.reason) == ("Succeeded",
                                                "ExperimentGoalReached: loss=0.5")
    assert summary.counts == {"Succeeded": 2}
    assert summary.best["objective"] == 0.1
    assert [r["status"] for r in records(tmp_path)] == ["Succeeded", "Succeeded"]


def test_max_failed_trials_zero_fails_the_experiment_at_the_first_failed_trial(
        tmp_path) -> None:
    # status_util.go: failedTrialsCount != 0 && failedTrialsCount >= maxFailedTrialCount
    experiment = spec(budget={"max_trials": 4, "parallel_trials": 1, "max_failed_trials": 0},
                      args=["--exit=1"])
    summary = run(experiment, tmp_path)
    assert summary.status == "Failed"
    assert summary.counts == {"Failed": 1}


def test_unset_max_failed_trials_never_fails_the_experiment(tmp_path) -> None:
    experiment = spec(budget={"max_trials": 2, "parallel_trials": 1}, args=["--exit=1"])
    summary = run(experiment, tmp_path)
    assert (summary.status, summary.counts) == ("Succeeded", {"Failed": 2})


def test_a_metrics_unavailable_trial_is_replaced_so_katib_creates_more_than_max_trials(
        tmp_path) -> None:
    # ReconcileTrials leaves MetricsUnavailable out of completedCount when it decides how
    # many trials to create; UpdateExperimentStatusCondition counts it when it decides that
    # max trials are reached. With 3 trials allowed: #0 reports nothing, #1 runs long, #2 and
    # #3 end first; the experiment is complete at #3 and #1 still finishes: 4 trials.
    experiment = _ordered(tmp_path, [(0.0, "nothing"), (2.0, "loss=0.5"), (0.3, "loss=0.4")],
                          budget={"max_trials": 3, "parallel_trials": 2})
    summary = run(experiment, tmp_path)
    assert summary.status == "Succeeded"
    assert summary.reason.startswith("ExperimentMaxTrialsReached")
    assert summary.counts == {"MetricsUnavailable": 1, "Succeeded": 3}


def _finished(tmp_path: Path, **changes) -> None:
    run(spec(budget={"max_trials": 2, "parallel_trials": 1}, **changes), tmp_path)


@pytest.mark.parametrize("policy", ["LongRunning", "FromVolume"])
def test_an_experiment_at_max_trials_continues_with_a_larger_budget_when_its_policy_allows(
        tmp_path, policy) -> None:
    _finished(tmp_path, resume_policy=policy)
    summary = run(spec(budget={"max_trials": 3, "parallel_trials": 1}, resume_policy=policy),
                  tmp_path)
    assert summary.counts == {"Succeeded": 3}


def test_a_completed_experiment_with_resume_policy_never_is_not_continued(tmp_path) -> None:
    _finished(tmp_path)
    with pytest.raises(AutomlError, match="resume_policy is Never"):
        run(spec(budget={"max_trials": 3, "parallel_trials": 1}), tmp_path)
    assert len(records(tmp_path)) == 2


def test_an_experiment_that_reached_its_goal_is_not_continued_whatever_its_policy(
        tmp_path) -> None:
    goal = {"metric": "loss", "type": "minimize", "goal": 10.0}
    _finished(tmp_path, objective=goal, resume_policy="LongRunning")
    with pytest.raises(AutomlError, match=r"ExperimentGoalReached.*resume_policy"):
        run(spec(objective=goal, resume_policy="LongRunning",
                 budget={"max_trials": 5, "parallel_trials": 1}), tmp_path)


def test_a_new_max_trials_must_exceed_the_trials_so_far(tmp_path) -> None:
    _finished(tmp_path, resume_policy="LongRunning")
    with pytest.raises(AutomlError, match=r"budget\.max_trials: 2 must be greater than the 2"):
        run(spec(budget={"max_trials": 2, "parallel_trials": 2},
                 resume_policy="LongRunning"), tmp_path)


def test_run_refuses_a_restart_katib_refuses_with_status_2_naming_resume_policy(
        tmp_path) -> None:
    experiment = spec(budget={"max_trials": 1, "parallel_trials": 1}).model_dump(
        by_alias=True, exclude_none=True)
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(experiment))
    argv = [sys.executable, "-m", "automl", "run", str(path), "-q"]
    assert subprocess.run(argv, cwd=tmp_path, capture_output=True).returncode == 0
    experiment["budget"]["max_trials"] = 2
    path.write_text(yaml.safe_dump(experiment))
    result = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 2
    assert "resume_policy" in result.stderr and "Traceback" not in result.stderr
