"""tuning_pipeline's control flow on kfp's local runner (kfp 2.16+): dsl.If on the goal,
ParallelFor over seeds, ExitHandler whatever happens."""

from __future__ import annotations

import builtins
import json
from pathlib import Path

import pytest

from automl.errors import AutomlError
from automl.pipelines.builder import tuning_pipeline
from automl.pipelines.local import PipelineFailed, run_local
from tests.local.helpers import spec
from tests.pipelines.components import echo, final_state, seeded

BUDGET = {"max_trials": 2, "parallel_trials": 1}


def _goal(goal: float, **changes):
    return spec(objective={"metric": "loss", "type": "minimize", "goal": goal}, budget=BUDGET,
                **changes)


def test_then_runs_when_the_experiment_reaches_its_goal(tmp_path: Path) -> None:
    out = run_local(tuning_pipeline(_goal(1e9), then=echo, require_goal=True), tmp_path,
                    quiet=True)
    assert out["metrics"]["tune"]["trials"] == 1  # the first trial reached it
    assert out["outputs"]["goal-reached"]["Output"] is True
    [echoed] = [v for task, v in out["outputs"].items() if task.endswith("echo")]
    assert json.loads(echoed["received"].read_text()) == out["best_params"]


def test_then_is_skipped_when_the_goal_is_not_reached(tmp_path: Path) -> None:
    out = run_local(tuning_pipeline(_goal(-1e9), then=echo, require_goal=True), tmp_path,
                    quiet=True)
    assert out["metrics"]["tune"]["trials"] == 2  # ran out of trials instead
    assert out["outputs"]["goal-reached"]["Output"] is False
    assert not [task for task in out["outputs"] if task.endswith("echo")]


def test_require_goal_needs_an_objective_goal() -> None:
    with pytest.raises(AutomlError, match=r"require_goal: experiment 't' has no objective\.goal"):
        tuning_pipeline(spec(budget=BUDGET), then=echo, require_goal=True)


def test_seeds_run_then_once_per_seed(tmp_path: Path) -> None:
    print_before = builtins.print
    out = run_local(tuning_pipeline(spec(budget=BUDGET), then=seeded, seeds=[3, 5, 8]),
                    tmp_path, quiet=True)
    # kfp.local's per-task print indenting, raced by the loop's threads, is undone
    assert builtins.print is print_before
    runs = {task: v["Output"] for task, v in out["outputs"].items() if task.endswith("/seeded")}
    assert len(runs) == 3 and all("-iteration-" in task for task in runs)
    params = json.dumps(out["best_params"], sort_keys=True)
    assert sorted(runs.values()) == [f"{seed}:{params}" for seed in (3, 5, 8)]


def test_the_exit_handler_runs_last_when_the_pipeline_succeeds(tmp_path: Path) -> None:
    out = run_local(tuning_pipeline(spec(budget=BUDGET), then=echo, on_exit=final_state),
                    tmp_path, quiet=True)
    assert out["outputs"]["final-state"]["Output"] == "SUCCEEDED"
    assert set(out["outputs"]) == {"tune", "echo", "final-state"}


def test_the_exit_handler_runs_when_the_tuning_step_fails(tmp_path: Path) -> None:
    failing = spec(budget={"max_trials": 2, "parallel_trials": 1, "max_failed_trials": 1},
                   args=["--exit=3"])
    with pytest.raises(PipelineFailed) as caught:
        run_local(tuning_pipeline(failing, then=echo, on_exit=final_state), tmp_path,
                  quiet=True)
    assert caught.value.task == "tune"
    [ended] = tmp_path.glob("*/final-state/executor_output.json")
    assert json.loads(ended.read_text())["parameterValues"]["Output"] == "FAILED"
    assert not list(tmp_path.glob("*/echo"))
