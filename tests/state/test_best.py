"""One best trial everywhere: a run's summary and progress, automl best and status, the tables,
the report and the pipeline step name the same trial, and it is the truly best one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import automl
from automl.pipelines.step import run_tuning
from automl.results.report import write_report
from automl.state import ranking
from tests.local.helpers import records

# Trial n prints line n: the best value, then the case's line, then a worse value. Before the
# one rule, the case's text became the best and the worse value then took over from it.
PROGRAM = ("import os, sys\n"
           "n = int(os.environ['KATIB_TRIAL_NAME'].rsplit('-', 1)[1])\n"
           "print(['loss=0.25', sys.argv[1], 'loss=0.75'][n], flush=True)\n")
ANY_VALUE = [r"(loss)=(\S*)"]


def _automl(folder: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "automl", *args], cwd=folder,
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "COLUMNS": "250"})
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.parametrize(("line", "filters", "reason"), [
    ("loss=-inf", None, "loss was '-', not a number"),  # Katib's default filter reads '-'
    ("loss=nan", ANY_VALUE, "loss was nan"),
    ("loss=", ANY_VALUE, "loss was '', not a number"),  # Katib records the empty text
    ("loss=abc", ANY_VALUE, "loss was 'abc', not a number"),
], ids=["minus-inf", "nan", "empty", "text"])
def test_a_non_numeric_objective_never_becomes_the_best_anywhere(tmp_path, line, filters,
                                                                 reason) -> None:
    collector = {"kind": "StdOut", **({"filter": filters} if filters else {})}
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump({
        "name": "t", "objective": {"metric": "loss", "type": "minimize"},
        "algorithm": {"name": "random", "settings": {"random_state": 1}},
        "budget": {"max_trials": 3, "parallel_trials": 1},
        "parameters": [{"name": "x", "type": "double", "min": 0, "max": 1}],
        "trial": {"command": [sys.executable, "-c", PROGRAM, line, "${trialParameters.x}"],
                  "metrics_collector": collector}}))
    ran = _automl(tmp_path, "run", "exp.yaml")
    results = automl.load_results("t", root=tmp_path / ".automl")
    assert list(results.trials["status"]) == ["Succeeded", "MetricsUnavailable", "Succeeded"]
    x = records(tmp_path)[0]["params"]["x"]  # as the trial received it
    shown = f"x={float(x):.4g}"

    # the run's summary, its progress ("best so far") and the bad trial's line
    assert f"best: t-0000 objective=0.25 x={x}" in ran.stdout
    progress = ran.stderr.splitlines()
    assert all(f"best loss=0.25 ({shown})" in p for p in progress), ran.stderr
    assert reason in progress[1] and "t-0001 MetricsUnavailable" in progress[1]
    if "never" not in reason:
        assert "Katib would" in progress[1]
    # automl best, automl status, the tables and the accessor
    assert _automl(tmp_path, "best", "t").stdout.split()[:2] == ["t-0000", "loss=0.25"]
    assert f"best: t-0000 loss=0.25 ({shown})" in _automl(tmp_path, "status", "t").stdout
    assert results.best()["trial"].tolist() == ["t-0000"]
    assert results.best(3)["trial"].tolist() == ["t-0000", "t-0002"]
    assert results.trials.automl.best()["trial"].tolist() == ["t-0000"]
    # the report
    body = write_report(results, tmp_path / "report.html").read_text()
    assert '<strong class="best-trial">t-0000</strong>' in body
    # the pipeline step, resuming the finished experiment from its storage
    step = run_tuning(automl.load(tmp_path / "exp.yaml").model_dump_json(by_alias=True),
                      trials_path=tmp_path / "out/t.csv", tensorboard_dir=tmp_path / "out/tb",
                      summary_path=tmp_path / "out/s.md", root=tmp_path / ".automl")
    assert (step.objective, step.best_params) == (0.25, {"x": x})
    assert "Best trial `t-0000`" in (tmp_path / "out/s.md").read_text()


@pytest.mark.parametrize("algorithm", ["random", "darts"])
def test_only_darts_lets_a_text_objective_win_and_then_the_latest_text(algorithm) -> None:
    trials = [("Succeeded", 0.5), ("Succeeded", "Genotype(a)"), ("Succeeded", 0.25),
              ("EarlyStopped", 0.25), ("Succeeded", "Genotype(b)"), ("Failed", 0.1),
              ("MetricsUnavailable", "-"), ("Succeeded", float("nan")),
              ("Succeeded", float("-inf")), ("Succeeded", None)]
    order = ranking(trials, maximize=False, algorithm=algorithm)
    numbers = [2, 3, 0]  # ties in trial order; failed and non-finite values never rank
    assert order == ([4, 1, *numbers] if algorithm == "darts" else numbers)
