"""Trials that misbehave, and runs that collide: recorded with their reason, nothing lost."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from automl.spec import SpecError
from tests.local.helpers import TRIAL, records, run, spec


def _printing(*lines: str, **changes):
    code = "; ".join(f"print({line!r}, flush=True)" for line in lines)
    experiment = spec(budget={"max_trials": 1, "parallel_trials": 1}, **changes)
    trial = experiment.trial.model_copy(update={
        "command": [sys.executable, "-c", code, "${trialParameters.x}", "${trialParameters.y}"],
        "metrics_collector": experiment.trial.metrics_collector.model_copy(
            update={"filter": [r"(loss)=(\S+)"]})})
    return experiment.model_copy(update={"trial": trial})


@pytest.mark.parametrize(("value", "named", "katib"), [
    ("nan", "nan", "compare NaN as a number"),
    ("inf", "inf", "rank this trial below every finite value"),  # minimize: worst
    ("-inf", "-inf", "rank this trial above every finite value"),
    ("abc", "'abc'", "make this trial the best"),
])
def test_an_objective_that_is_not_a_finite_number_is_metrics_unavailable(
        tmp_path, value, named, katib) -> None:
    run(_printing(f"loss={value}"), tmp_path)
    (row,) = records(tmp_path)
    assert row["status"] == "MetricsUnavailable"
    assert row["reason"].startswith(f"loss was {named}")
    assert f"Katib would {katib}" in row["reason"]


def test_finite_values_win_over_a_nan_among_them(tmp_path) -> None:
    run(_printing("loss=nan", "loss=0.5", "loss=0.25"), tmp_path)
    (row,) = records(tmp_path)
    assert (row["status"], row["objective"]) == ("Succeeded", 0.25)


def test_malformed_metric_lines_are_ignored_and_the_rest_is_read(tmp_path) -> None:
    run(_printing("loss=", "loss=abc def", "loss", "loss=0.75"), tmp_path)
    (row,) = records(tmp_path)
    assert (row["status"], row["objective"]) == ("Succeeded", 0.75)


def test_a_flood_of_output_is_logged_and_the_metric_still_read(tmp_path) -> None:
    code = ("import sys\nline = 'x' * 1023 + '\\n'\n"
            "for _ in range(20 * 1024): sys.stdout.write(line)\n"  # 20 MB
            "print('loss=0.5')")
    experiment = spec(budget={"max_trials": 1, "parallel_trials": 1})
    trial = experiment.trial.model_copy(update={
        "command": [sys.executable, "-c", code, "${trialParameters.x}", "${trialParameters.y}"]})
    run(experiment.model_copy(update={"trial": trial}), tmp_path)
    (row,) = records(tmp_path)
    assert (row["status"], row["objective"]) == ("Succeeded", 0.5)
    assert (tmp_path / ".automl/runs/t/t-0000/stdout.log").stat().st_size > 20 * 1024 * 1024


def test_a_second_engine_on_the_same_experiment_is_refused(tmp_path) -> None:
    import yaml

    (tmp_path / "e.yaml").write_text(yaml.safe_dump({
        "name": "t", "objective": {"metric": "loss", "type": "minimize"},
        "budget": {"max_trials": 2, "parallel_trials": 1},
        "parameters": [{"name": "x", "type": "double", "min": 0, "max": 1},
                       {"name": "y", "type": "int", "min": 0, "max": 4}],
        "trial": {"command": [sys.executable, TRIAL, "--x=${trialParameters.x}",
                              "--y=${trialParameters.y}", "--epochs=3", "--sleep=1"]}}))
    first = subprocess.Popen([sys.executable, "-m", "automl", "run", "e.yaml", "-q"],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        while time.time() < deadline and not (tmp_path / ".automl/runs/t/t-0000").exists():
            time.sleep(0.1)
        second = subprocess.run([sys.executable, "-m", "automl", "run", "e.yaml", "-q"],
                                cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1  # not bad input: another run holds it
        assert "is already running with the storage" in second.stderr
    finally:
        assert first.wait(timeout=60) == 0
    rows = records(tmp_path)
    assert len(rows) == 2 and len({r["name"] for r in rows}) == 2  # no duplicate, budget kept


def test_a_name_that_would_escape_the_runs_folder_is_refused_before_anything_runs(tmp_path):
    from automl.local import LocalEngine

    bad = spec().model_copy(update={"name": "../../escape"})
    with pytest.raises(SpecError, match="not a valid Katib experiment name"):
        LocalEngine(bad, root=tmp_path / ".automl", progress=False)
    assert not (tmp_path / ".automl").exists()
