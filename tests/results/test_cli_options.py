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


def test_sort_takes_the_short_name_and_desc_reverses_it(folder) -> None:
    short = _csv(_automl(folder, "trials", "svm", "--format", "csv", "--sort", "C").stdout)
    dotted = _csv(_automl(folder, "trials", "svm", "--format", "csv", "--sort", "params.C").stdout)
    assert list(short["trial"]) == list(dotted["trial"])
    assert list(short["params.C"]) == sorted(short["params.C"])
    reverse = _csv(_automl(folder, "trials", "svm", "--format", "csv", "--sort", "C",
                           "--desc").stdout)
    assert list(reverse["params.C"]) == sorted(short["params.C"], reverse=True)
    metric = _csv(_automl(folder, "trials", "svm", "--format", "csv", "--sort", "accuracy").stdout)
    assert list(metric["metrics.accuracy"]) == sorted(metric["metrics.accuracy"])
    wrong = _automl(folder, "trials", "svm", "--sort", "nope")
    assert wrong.returncode == 2 and "no column 'nope'" in wrong.stderr


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
