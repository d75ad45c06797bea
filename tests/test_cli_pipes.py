"""Help and usage errors sent to a pipe are Click's plain text (``Usage: ...`` / ``Error:
...``), never Rich's boxes or ``<bool>``; a terminal still gets the boxes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.tty import on_terminal

BOX = set("╭╮╰╯│─┏┓┃━")

HELPS = [["--help"], ["trials", "--help"], ["pipeline", "--help"],
         ["pipeline", "compile", "--help"], ["spaces", "--help"]]
ERRORS = [["--bogus"], ["trials"], ["pipeline", "compile"], ["trials", "x", "--top", "0"],
          ["nosuch"]]


def _piped(argv: list[str], tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automl", *argv], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("argv", HELPS, ids=" ".join)
def test_help_to_a_pipe_is_plain_text_without_bool(argv, tmp_path) -> None:
    done = _piped(argv, tmp_path)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("Usage: python -m automl ")
    assert not set(done.stdout) & BOX and "<bool>" not in done.stdout
    assert "\nOptions:\n" in done.stdout and "\n  --help " in done.stdout


@pytest.mark.parametrize("argv", ERRORS, ids=" ".join)
def test_a_usage_error_to_a_pipe_is_clicks_plain_usage_and_error_lines(argv, tmp_path) -> None:
    done = _piped(argv, tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines[0].startswith("Usage: python -m automl ")
    assert lines[-1].startswith("Error: ") and not set(done.stderr) & BOX


def test_help_on_a_terminal_keeps_its_boxes_and_shows_no_bool(tmp_path) -> None:
    for argv in (["--help"], ["pipeline", "--help"]):
        shown = on_terminal([sys.executable, "-m", "automl", *argv], cwd=tmp_path, columns=80)
        assert set(shown) & BOX and "<bool>" not in shown
