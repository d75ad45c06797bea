"""Every Markdown table automl writes keeps its shape whatever text a value holds."""

from __future__ import annotations

import itertools
import re
import sys

import pytest

import automl
from automl.pipelines.step import _markdown
from automl.results.export import write_table
from tests.local.helpers import TRIAL, run, spec

HOSTILE = ["a|b", "c\nd|", "e\\", "f\r\n|g"]
UNESCAPED_PIPE = re.compile(r"(?<!\\)(?:\\\\)*\|")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A finished local run whose categorical values hold ``|``, line breaks, backslashes."""
    root = tmp_path_factory.mktemp("md")
    run(spec(algorithm={"name": "grid"},
             parameters=[{"name": "code", "type": "categorical", "list": HOSTILE}],
             trial={"command": [sys.executable, TRIAL, "--path=${trialParameters.code}"]},
             budget={"max_trials": len(HOSTILE), "parallel_trials": 2}), root)
    return automl.load_results("t", root=root / ".automl")


def _export_file(results, tmp_path, capsys) -> str:
    write_table(results.trials, "markdown", tmp_path / "t.md")
    return (tmp_path / "t.md").read_text()


def _export_stdout(results, tmp_path, capsys) -> str:
    write_table(results.trials, "markdown", None)
    return capsys.readouterr().out


def _step_summary(results, tmp_path, capsys) -> str:
    best = results.best().iloc[0]
    return _markdown(results, "Succeeded", "done", {
        "name": best["trial"], "objective": float(best["objective"]),
        "params": {"code": best["params.code"], "a|b": "x"}})


@pytest.mark.parametrize("writer", [_export_file, _export_stdout, _step_summary],
                         ids=["trials-format-markdown-file", "trials-format-markdown-stdout",
                              "pipeline-summary"])
def test_a_value_with_a_pipe_or_a_line_break_stays_in_its_cell(results, tmp_path, capsys,
                                                               writer) -> None:
    text = writer(results, tmp_path, capsys)
    tables = [list(lines) for is_row, lines in
              itertools.groupby(text.split("\n"), key=lambda line: line.startswith("|"))
              if is_row]
    assert tables
    for lines in tables:
        columns = {len(UNESCAPED_PIPE.findall(line)) for line in lines}
        assert len(columns) == 1, lines  # every row has the header's cells
    body = "\n".join(line for lines in tables for line in lines)
    shown = [value.replace("\\", "\\\\").replace("|", "\\|") for value in HOSTILE]
    assert any(re.sub(r"\r\n|\r|\n", "<br>", v) in body for v in shown)
