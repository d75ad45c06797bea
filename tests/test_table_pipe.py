"""Every table command prints plain columns to a pipe, as ``kubectl get`` does: a header row,
space-aligned columns, no box, no wrapping, the rows of the terminal's table in its order."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import automl
from tests.tty import on_terminal

SPACE = {"x": {"type": "double", "min": 0, "max": 1},
         "kernel": {"type": "categorical", "values": ["rbf", "poly"]}}
BOX = set("┏┳┓┃┡╇┩│└┴┘━─")


def _objective(params: dict[str, str]) -> float:
    if params["kernel"] == "poly":
        raise ValueError("the solver did not converge within the iteration budget " * 3)
    return float(params["x"])


def _succeeds(params: dict[str, str]) -> float:
    return float(params["x"])


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("pipe")
    for name, seed, objective in (("pipe-a", 1, _objective), ("pipe-b", 2, _objective),
                                  ("pipe-ok", 3, _succeeds)):
        automl.tune(name, objective, SPACE, objective_metric_name="accuracy",
                    objective_type="maximize", max_trial_count=6, parallel_trial_count=2,
                    max_failed_trial_count=6, root=work / ".automl", progress=False,
                    algorithm_settings={"random_state": seed})
    return work


# The table commands, with the header their table starts with.
COMMANDS = {"list": (["list"], "experiment"), "status": (["status", "pipe-a"], "trial"),
            "status --all": (["status", "pipe-a", "--all"], "trial"),
            "trials": (["trials", "pipe-a"], "trial"),
            "compare": (["compare", "pipe-a", "pipe-b"], "experiment"),
            "get trials": (["get", "trials", "pipe-a"], "trial")}


def _names(lines: list[str]) -> list[str]:
    """The first cell of each row, as a table on a terminal or on a pipe shows it."""
    cells = [line.strip("│┃ ").split()[0] for line in lines if line.strip("│┃ ")]
    return [c for c in cells if re.fullmatch(r"pipe-(a|b|ok)(-[0-9]{4})?", c)]


@pytest.mark.parametrize("command", COMMANDS, ids=str)
def test_a_table_on_a_pipe_is_plain_columns_with_the_terminal_tables_rows(folder,
                                                                          command) -> None:
    argv, header = COMMANDS[command]
    piped = subprocess.run([sys.executable, "-m", "automl", *argv], cwd=folder,
                           capture_output=True, text=True, timeout=120, check=True).stdout
    assert not set(piped) & BOX, piped
    lines = piped.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{header} "))
    table = lines[start:]
    if command == "status":  # the best trials, then how to see the rest
        table = table[:table.index(next(line for line in table if "more trials" in line))]
    rows = table[1:]
    # Space-aligned: each column starts where its header starts, on every row.
    starts = [i for i, c in enumerate(table[0])
              if c != " " and (i == 0 or table[0][i - 1] == " ")]
    for row in rows:
        assert all(row[s - 1] == " " and row[s] != " " for s in starts[1:]), (table[0], row)
    assert all(len(line.split()) >= len(starts) for line in rows)  # no cell left empty
    terminal = on_terminal([sys.executable, "-m", "automl", *argv, "--wide"], cwd=folder,
                           columns=100).splitlines()
    assert _names(rows) == _names(terminal) and len(rows) == len(_names(terminal))
    assert any(set(line) & BOX for line in terminal)


def test_a_long_reason_on_a_pipe_is_whole_on_its_row(folder) -> None:
    piped = subprocess.run([sys.executable, "-m", "automl", "status", "pipe-a", "--all"],
                           cwd=folder, capture_output=True, text=True, timeout=120,
                           check=True).stdout
    failed = [line for line in piped.splitlines() if " Failed " in line]
    assert failed and all(line.endswith("/stderr.log") for line in failed)
    assert "…" not in piped and "not shown" not in piped


def _piped(folder: Path, *argv: str) -> list[str]:
    return subprocess.run([sys.executable, "-m", "automl", *argv], cwd=folder,
                          capture_output=True, text=True, timeout=120, check=True
                          ).stdout.splitlines()


@pytest.mark.parametrize("argv", [["trials"], ["status", "--all"], ["get", "trials"]], ids=str)
def test_a_piped_table_has_the_same_header_whether_or_not_a_trial_has_a_reason(
        folder, argv) -> None:
    header = {name: next(line for line in _piped(folder, *argv, name)
                         if line.startswith("trial "))
              for name in ("pipe-a", "pipe-ok")}
    assert "reason" in header["pipe-a"].split()
    assert header["pipe-ok"].split() == header["pipe-a"].split()


@pytest.mark.parametrize("columns", [80, 110])
def test_on_a_narrow_terminal_the_reason_outranks_other_metrics_and_the_times(
        folder, columns) -> None:
    lines = on_terminal([sys.executable, "-m", "automl", "trials", "pipe-a"], cwd=folder,
                        columns=columns).splitlines()
    header = next(line for line in lines if "trial" in line and "status" in line).split()
    note = " ".join(lines[lines.index(next(line for line in lines if "not shown: " in line)):])
    assert "reason" in header and "start_time" not in header
    left_out = note.split("not shown: ")[1].split(";")[0].split(", ")
    assert "start_time" in left_out and "reason" not in left_out
    if columns == 80:  # room for the reason cut short, or for the accuracy: not both
        assert "accuracy" in left_out


def test_markdown_shows_a_missing_value_as_an_empty_cell(folder) -> None:
    lines = _piped(folder, "trials", "pipe-a", "--format", "markdown")
    cells = [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]
    rows = [dict(zip(cells[0], row, strict=True)) for row in cells[2:]]
    failed = [row for row in rows if row["status"] == "Failed"]
    assert failed and all(row["objective"] == "" and row["reason"] for row in failed)
    assert not {c for row in rows for c in row.values()} & {"nan", "<NA>", "NaT", "None"}
