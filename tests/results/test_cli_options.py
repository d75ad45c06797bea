"""Options that behave the same everywhere: --sort by the names the table shows, --desc,
best --format, and JSON that keeps every digit."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import automl
from tests.faults.helpers import automl_each

SPACE = {"C": {"type": "double", "min": 0.001, "max": 1000, "distribution": "logUniform"}}


def _objective(params: dict[str, str]) -> float:
    return 1 / 3 + float(params["C"]) * 1e-9  # values with more than 10 significant digits


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("cli")
    automl.tune("svm", _objective, SPACE, objective_metric_name="accuracy",
                objective_type="maximize", max_trial_count=6, parallel_trial_count=2,
                root=work / ".automl", progress=False, algorithm_settings={"random_state": 3})
    return work


def _automl(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automl", *args], cwd=folder,
                          capture_output=True, text=True, timeout=120)


def _csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text))


def test_sort_takes_the_short_name_and_desc_asc_set_the_order(folder) -> None:
    short = _csv(_automl(folder, "trials", "svm", "--format", "csv", "--sort", "C").stdout)
    dotted = _csv(_automl(folder, "trials", "svm", "--format", "csv", "--sort",
                          "params.C").stdout)
    assert list(short["trial"]) == list(dotted["trial"])
    assert list(short["params.C"]) == sorted(short["params.C"])
    reverse = _csv(_automl(folder, "trials", "svm", "--format", "csv", "--sort", "C",
                           "--desc").stdout)
    assert list(reverse["params.C"]) == sorted(short["params.C"], reverse=True)
    wrong = _automl(folder, "trials", "svm", "--sort", "nope")
    assert wrong.returncode == 2 and "no column 'nope'" in wrong.stderr


def test_sort_by_a_maximized_metric_puts_the_best_first_and_asc_overrides(folder) -> None:
    columns = ["objective", "accuracy", "metrics.accuracy"]
    listed = ["trials", "svm", "--format", "csv", "--top", "2", "--sort"]
    shown = automl_each(folder, [["trials", "svm", "--format", "csv"],
                                 *([*listed, c] for c in columns),
                                 *([*listed, c, "--asc"] for c in columns),
                                 ["trials", "svm", "--sort", "accuracy", "--asc", "--desc"]])
    values = sorted(_csv(shown[0][1])["objective"])
    for code, out, _ in shown[1:4]:
        assert code == 0
        assert list(_csv(out)["objective"]) == values[::-1][:2]
        assert list(_csv(out)["metrics.accuracy"]) == values[::-1][:2]
    for code, out, _ in shown[4:7]:
        assert (code, list(_csv(out)["objective"])) == (0, values[:2])
    assert shown[7][0] == 2 and "give one of --asc and --desc" in shown[7][2]


@pytest.mark.parametrize(("direction", "strategies", "column", "largest_first"), [
    ("maximize", {}, "objective", True), ("minimize", {}, "objective", False),
    ("maximize", {}, "metrics.accuracy", True), ("minimize", {}, "metrics.loss", False),
    ("maximize", {}, "metrics.loss", True),  # Katib's default strategy follows the type
    ("maximize", {"loss": "min"}, "metrics.loss", False),
    ("minimize", {"accuracy": "max"}, "metrics.accuracy", True),
    ("minimize", {"accuracy": "latest"}, "metrics.accuracy", False),  # as the objective
    ("maximize", {"loss": "latest"}, "metrics.loss", True),
    ("maximize", {}, "params.C", False), ("maximize", {}, "duration_s", False)])
def test_the_sort_order_of_a_column_follows_its_metric_strategy(direction, strategies, column,
                                                               largest_first) -> None:
    from automl.cli_results import _maximized

    metric = "accuracy" if direction == "maximize" else "loss"
    other = "loss" if metric == "accuracy" else "accuracy"
    spec = automl.load({"name": "s", "objective": {
        "metric": metric, "type": direction, "additional_metrics": [other],
        "metric_strategies": strategies},
        "parameters": [{"name": "C", "type": "double", "min": 0.1, "max": 1}],
        "trial": {"command": ["echo", "${trialParameters.C}"]}})
    assert _maximized(spec, column) is largest_first


def test_best_as_json_and_csv_keeps_every_digit(folder) -> None:
    results = automl.load_results("svm", str(folder / ".automl" / "studies.journal"))
    expected = results.best(2)
    records = json.loads(_automl(folder, "best", "svm", "--top", "2", "--format", "json").stdout)
    assert [r["trial"] for r in records] == list(expected["trial"])
    assert [r["objective"] for r in records] == list(expected["objective"])  # exactly
    assert [r["params.C"] for r in records] == list(expected["params.C"])
    table = _csv(_automl(folder, "best", "svm", "--top", "2", "--format", "csv").stdout)
    assert list(table["objective"]) == list(expected["objective"])
    bad = _automl(folder, "best", "svm", "--format", "yaml")
    assert bad.returncode == 2 and "expected text, json or csv" in bad.stderr


def test_trials_json_keeps_every_digit_and_writes_times_as_iso(folder) -> None:
    frame = automl.load_results("svm", str(folder / ".automl" / "studies.journal")).trials
    records = json.loads(_automl(folder, "trials", "svm", "--format", "json").stdout)
    assert [r["objective"] for r in records] == list(frame["objective"])
    assert pd.Timestamp(records[0]["start_time"]) == frame["start_time"].iloc[0]
