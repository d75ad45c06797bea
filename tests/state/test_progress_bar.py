"""The progress bar keeps its count and ETA on a narrow terminal; the info gives way."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from automl.state.progress import Progress

BEST = "accuracy=0.981481 (C=12.5 kernel=rbf gamma=0.00334567)"


def _line(width: int, failed: int = 1) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None)
    with Progress("digits-hyperband", 40, console=console) as bar:
        bar.update(12, 2, failed, BEST)
        table = bar._bar.make_tasks_table(bar._bar.tasks)
    drawn = Console(file=io.StringIO(), width=width, color_system=None)
    drawn.print(table)
    return drawn.file.getvalue().rstrip("\n")


@pytest.mark.parametrize("width", [60, 80, 120, 200])
def test_name_count_and_eta_stay_whole_at_any_width(width) -> None:
    line = _line(width)
    assert "\n" not in line and len(line) <= width
    assert line.startswith("digits-hyperband ") and " 12/40 " in line and "-:--:--" in line


@pytest.mark.parametrize("width", [60, 80])
def test_at_a_narrow_width_the_running_and_failed_counts_stay_and_the_best_is_cut(
        width) -> None:
    line = _line(width)
    assert " 2 running  1 failed " in line and line.endswith("…")


def test_the_info_says_counts_then_the_best() -> None:
    assert _line(200).split("-:--:-- ")[1].rstrip() == f"2 running  1 failed best {BEST}"
    assert "failed" not in _line(200, failed=0)
