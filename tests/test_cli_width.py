"""The CLI at 80 columns: help paragraphs filled whole (no ragged source line breaks), no
``<bool>`` beside a flag, and lines that break between words, never inside one."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest
import typer.main
from typer.testing import CliRunner

from automl.cli import app
from tests.faults.helpers import write_experiment
from tests.tty import on_terminal

WIDTH = 80


def _commands() -> list[list[str]]:
    found = []

    def walk(group, words):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                walk(command, [*words, name])
            else:
                found.append([*words, name])
    walk(typer.main.get_command(app), [])
    return found


@pytest.fixture(scope="module")
def helps() -> dict[str, str]:
    """Each command's help as a terminal gets it (CliRunner's output is no terminal: the
    layout is the subject here; tests/test_cli_pipes.py tells terminals and pipes apart)."""
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("automl._cli_help.on_terminal", lambda stream: True)
        return {" ".join(words): runner.invoke(app, [*words, "--help"],
                                               env={"COLUMNS": str(WIDTH)},
                                               terminal_width=WIDTH).output
                for words in _commands()}


def _description(text: str) -> list[list[str]]:
    """The paragraphs between the usage line and the first panel, as their lines."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "Usage:" in line) + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("╭"))
    paragraphs: list[list[str]] = [[]]
    for line in lines[start:end]:
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


def test_every_command_has_help_at_80_columns(helps) -> None:
    assert len(helps) >= 20 and all("Usage:" in text for text in helps.values())


@pytest.mark.parametrize("command", [" ".join(c) for c in _commands()])
def test_help_at_80_columns_fills_each_line_and_shows_no_bool(helps, command) -> None:
    text = helps[command]
    assert "<bool>" not in text
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    for paragraph in _description(text):
        for line, following in itertools.pairwise(paragraph):
            # A line ends early only when the next word would not have fitted on it.
            assert len(line) + 1 + len(following.split()[0]) > WIDTH - 4, (line, following)


def test_a_multi_paragraph_docstring_is_shown_as_filled_paragraphs(helps) -> None:
    run = _description(helps["run"])
    assert len(run) == 2 and run[1][0].startswith("Locally trials run as processes;")
    assert " ".join(run[1]).endswith("--dry-run warns.")


def test_each_example_of_an_epilog_starts_a_line(helps) -> None:
    lines = [line.strip() for line in helps["run"].splitlines()]
    assert "automl run my-katib-experiment.yaml --storage sqlite:///runs.db" in lines
    assert "Examples:  automl run examples/quickstart/experiment.yaml" in lines


def test_the_run_summary_at_80_columns_breaks_between_words(tmp_path) -> None:
    write_experiment(tmp_path, max_trials=2, parallel_trials=2)
    argv = [sys.executable, "-m", "automl", "run", "exp.yaml", "-q"]
    piped = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                           check=True).stdout
    assert max(len(line) for line in piped.splitlines()) > WIDTH  # a line to break
    shown = on_terminal(argv, cwd=tmp_path, columns=WIDTH)
    assert max(len(line) for line in shown.splitlines()) <= WIDTH
    assert shown.split() == piped.split()  # the same words, none cut in two
    assert "completed);" in shown.split()
