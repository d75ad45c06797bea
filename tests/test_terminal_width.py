"""status, list, trials and compare at 80, 120 and 200 columns, as a user's terminal shows them.

What is asserted is what a user reads: every line within the width, each trial on one line
with its whole name and its status, long reasons never wrapped into fragments, a line naming
what was left out, and --wide showing every column whole; a pipe gets plain columns.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import automl
from tests.tty import on_terminal

NAME = "digits-hyperband-width"
OTHER = "digits-hyperband-width-again"
SPACE = {"C": {"type": "double", "min": 0.001, "max": 1000, "distribution": "logUniform"},
         "gamma": {"type": "double", "min": 0.0001, "max": 0.01, "distribution": "logUniform"},
         "kernel": {"type": "categorical", "values": ["rbf", "linear", "poly"]},
         "degree": {"type": "int", "min": 2, "max": 5},
         "tolerance": {"type": "double", "min": 0.0001, "max": 0.1}}
WHY = "ValueError: the solver did not converge within the iteration budget we gave it"


def _objective(params: dict[str, str]) -> float:
    if params["kernel"] == "poly":
        raise ValueError(WHY.removeprefix("ValueError: "))
    return 0.9 + float(params["tolerance"])


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("width")
    automl.tune(NAME, _objective, SPACE, objective_metric_name="accuracy",
                objective_type="maximize", max_trial_count=8, parallel_trial_count=2,
                max_failed_trial_count=8, root=work / ".automl", progress=False,
                algorithm_settings={"random_state": 5})
    automl.tune(OTHER, _objective, SPACE, objective_metric_name="accuracy",
                objective_type="maximize", max_trial_count=2, parallel_trial_count=2,
                max_failed_trial_count=2, root=work / ".automl", progress=False,
                algorithm_settings={"random_state": 6})
    return work


def _automl(folder: Path, *args: str, columns: int | None) -> str:
    """The command's output on a terminal ``columns`` wide, or on a pipe (None)."""
    argv = [sys.executable, "-m", "automl", *args]
    if columns is not None:
        return on_terminal(argv, cwd=folder, columns=columns)
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    return subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True,
                          timeout=120, check=True).stdout


def _rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if f"{NAME}-00" in line]


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_status_all_fits_the_width_with_each_trial_whole_on_one_line(folder, columns) -> None:
    text = _automl(folder, "status", NAME, "--all", columns=columns)
    table = text[text.index("┏"):]  # the heading lines are text, wrapped by the terminal
    assert max(len(line) for line in table.splitlines()) <= columns
    rows = _rows(table)
    assert len(rows) == 8 and len({r.split()[1] for r in rows}) == 8  # names whole, once each
    assert all(" Succeeded " in r or " Failed " in r for r in rows)
    if columns == 80:
        assert "not shown:" in table and "reason" in table.split("not shown:")[1]
    if columns == 200:
        failed = [r for r in rows if " Failed " in r]
        assert failed and all("exit status 1; stderr: " in r for r in failed)


def test_status_wide_shows_every_column_whole_however_narrow_the_terminal(folder) -> None:
    text = _automl(folder, "status", NAME, "--all", "--wide", columns=80)
    failed = [r for r in _rows(text) if " Failed " in r]
    assert failed and all(WHY in r for r in failed)
    assert "not shown" not in text and "…" not in text


@pytest.mark.parametrize("columns", [80, 120])
def test_trials_table_fits_and_puts_parameters_before_times(folder, columns) -> None:
    text = _automl(folder, "trials", NAME, columns=columns)
    assert max(len(line) for line in text.splitlines()) <= columns
    assert len(_rows(text)) == 8
    header = next(line for line in text.splitlines() if "trial" in line and "status" in line)
    assert "C" in header.split() or "┃ C " in header
    assert "start_time" not in header or "kernel" in header


def test_trials_table_on_a_pipe_is_plain_whole_columns_as_kubectl_prints_them(folder) -> None:
    text = _automl(folder, "trials", NAME, columns=None)
    assert "…" not in text and "not shown" not in text
    assert not set(text) & set("┏┃━│─┡┗└╇")
    header, *rows = text.splitlines()
    assert header.split() == ["trial", "status", "objective", "C", "gamma", "kernel", "degree",
                              "tolerance", "accuracy", "start_time", "completion_time",
                              "duration_s", "reason"]
    assert [r.split()[0] for r in rows] == [f"{NAME}-{i:04d}" for i in range(8)]


def test_compare_keeps_both_experiment_names_whole_at_80_columns(folder) -> None:
    text = _automl(folder, "compare", NAME, OTHER, columns=80)
    assert max(len(line) for line in text.splitlines()) <= 80
    rows = [line for line in text.splitlines() if "-00" in line]
    assert len(rows) == 10
    assert sum(f" {NAME} " in r and f" {NAME}-00" in r for r in rows) == 8
    assert sum(f" {OTHER} " in r and f" {OTHER}-00" in r for r in rows) == 2


def test_a_darts_status_keeps_its_status_column_and_cuts_the_genotype(tmp_path) -> None:
    from tests.local.helpers import darts
    from tests.local.test_nas import GENOTYPE, _darts_trial, _run

    _run(darts("darts-t", ["python", "t.py"], num_epochs=1), _darts_trial, tmp_path)
    storage = ["--storage", str(tmp_path / "studies.journal")]
    text = on_terminal([sys.executable, "-m", "automl", "status", "darts-t", *storage],
                       cwd=tmp_path, columns=80)
    table = text[text.index("┏"):].splitlines()
    assert max(len(line) for line in table) <= 80
    (row,) = [line for line in table if "darts-t-0000" in line]
    assert " Succeeded " in row and row.rstrip(" │").endswith("…")
    assert GENOTYPE[:20] in row
    wide = on_terminal([sys.executable, "-m", "automl", "status", "darts-t", "--wide",
                        *storage], cwd=tmp_path, columns=80)
    assert GENOTYPE in wide
