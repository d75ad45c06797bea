"""The trials and observations tables: schema, values, best, compare, Pareto, CLI formats."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

import automl
from automl.results import TRIAL_COLUMNS
from tests.local.helpers import run, spec


@pytest.fixture
def finished(tmp_path):
    """A local experiment of 4 trials with 3 reports per metric, one of them failing."""
    run(spec(args=["--epochs=3"], budget={"max_trials": 4, "parallel_trials": 2}), tmp_path)
    return tmp_path


def test_trials_table_has_the_schema_and_typed_columns(finished) -> None:
    results = automl.load_results("t", root=finished / ".automl")
    trials = results.trials
    fixed = [c for c in trials.columns if not c.startswith(("params.", "metrics."))]
    assert fixed == TRIAL_COLUMNS
    assert list(trials.columns[4:8]) == ["params.x", "params.y", "metrics.loss",
                                         "metrics.accuracy"]
    assert trials["params.x"].dtype == "float64"
    assert trials["params.y"].dtype == "Int64"
    assert trials["status"].dtype == "category"
    assert str(trials["start_time"].dtype) == "datetime64[ns, UTC]"
    assert (trials["backend"] == "local").all()
    assert len(trials) == 4


def test_metric_values_follow_the_strategy_and_observations_have_steps(finished) -> None:
    results = automl.load_results("t", root=finished / ".automl")
    row = results.trials.iloc[0]
    loss = (row["params.x"] - 0.3) ** 2 + (row["params.y"] - 2) ** 2 / 10
    assert row["metrics.loss"] == pytest.approx(loss)            # min (minimize default)
    # Katib gives additional metrics the objective's default too: min of 1-3l, 1-2l, 1-l
    assert row["metrics.accuracy"] == pytest.approx(1 - 3 * loss)
    assert row["objective"] == row["metrics.loss"]
    mine = results.observations[(results.observations["trial"] == row["trial"])
                                & (results.observations["metric"] == "loss")]
    assert list(mine["step"]) == [0, 1, 2]
    assert list(mine["value"]) == pytest.approx([3 * loss, 2 * loss, loss])


def test_best_is_the_lowest_loss_first(finished) -> None:
    results = automl.load_results("t", root=finished / ".automl")
    best = results.best(2)
    assert list(best["objective"]) == sorted(results.trials["objective"])[:2]
    assert results.trials.automl.best(1)["trial"].item() == best["trial"].iloc[0]


def test_pareto_front_keeps_trials_no_other_beats_on_both() -> None:
    table = pd.DataFrame({"status": ["Succeeded"] * 5,
                          "a": [1.0, 2.0, 3.0, 2.0, 0.5],
                          "b": [3.0, 2.0, 1.0, 3.0, 0.5]})
    front = table.automl.pareto(["a", "b"], ["maximize", "maximize"])
    assert sorted(front.index) == [2, 3]  # (2, 3) beats (1, 3) and (2, 2)
    front = table.automl.pareto(["a", "b"], ["minimize", "minimize"])
    assert list(front.index) == [4]


def test_compare_stacks_experiments_with_aligned_params(finished) -> None:
    run(spec(name="u", parameters=[{"name": "x", "type": "double", "min": 0, "max": 1},
                                   {"name": "y", "type": "int", "min": 0, "max": 4},
                                   {"name": "z", "type": "categorical", "list": ["a"]}],
             args=["--path=${trialParameters.z}"],
             budget={"max_trials": 2, "parallel_trials": 2}), finished)
    table = automl.compare(["t", "u"], root=finished / ".automl")
    assert table.groupby("experiment").size().to_dict() == {"t": 4, "u": 2}
    assert table.loc[table["experiment"] == "t", "params.z"].isna().all()
    assert (table.loc[table["experiment"] == "u", "params.z"] == "a").all()
    assert table.automl.best(1)["objective"].item() == table["objective"].min()


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "automl", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_trials_command_writes_every_format(finished) -> None:
    out = _cli("trials", "t", "--format", "json", "--sort", "objective", "--top", "2",
               cwd=finished)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) == 2 and rows[0]["objective"] <= rows[1]["objective"]
    csv = _cli("trials", "t", "--format", "csv", cwd=finished).stdout.splitlines()
    assert csv[0].startswith("experiment,trial,status,objective,params.x,params.y")
    assert len(csv) == 5
    md = _cli("trials", "t", "--format", "markdown", cwd=finished).stdout
    assert md.startswith("| experiment")
    pq = finished / "t.parquet"
    assert _cli("trials", "t", "--format", "parquet", "-o", str(pq), cwd=finished).returncode == 0
    assert pd.read_parquet(pq)["params.y"].dtype == "Int64"
    bad = _cli("trials", "t", "--format", "xml", cwd=finished)
    assert bad.returncode == 2 and "unknown format 'xml'" in bad.stderr


def test_best_command_prints_the_best_trial(finished) -> None:
    out = _cli("best", "t", cwd=finished)
    assert out.returncode == 0, out.stderr
    best = automl.load_results("t", root=finished / ".automl").best()
    assert out.stdout.startswith(f"{best['trial'].item()} loss=")


def test_importance_ranks_the_parameter_that_drives_the_objective(tmp_path) -> None:
    # loss = (x - 0.3)^2 + (y - 2)^2 / 10: over these ranges y moves the loss far more than x
    run(spec(parameters=[{"name": "x", "type": "double", "min": 0.29, "max": 0.31},
                         {"name": "y", "type": "int", "min": 0, "max": 4}],
             budget={"max_trials": 12, "parallel_trials": 2}), tmp_path)
    importance = automl.load_results("t", root=tmp_path / ".automl").trials.automl.importance()
    assert list(importance.index) == ["params.y", "params.x"]
    assert importance.sum() == pytest.approx(1.0)
    assert importance["params.y"] > 0.7


def test_compare_command_prints_both_experiments(finished) -> None:
    run(spec(name="u", budget={"max_trials": 1, "parallel_trials": 1}), finished)
    out = _cli("compare", "t", "u", "--format", "csv", cwd=finished)
    assert out.returncode == 0, out.stderr
    experiments = [line.split(",")[0] for line in out.stdout.splitlines()[1:]]
    assert experiments == ["t"] * 4 + ["u"]
