"""Tables fit the terminal as kubectl get lays them out: names whole, the rest fits or goes."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from automl._table import fit

HEADERS = ["trial", "status", "objective", "C", "kernel", "gamma", "reason"]
REASON = ("Trial exited with status 1; stderr: ValueError: gamma must be positive; "
          "log: .automl/runs/digits-hyperband/digits-hyperband-0012/stderr.log")
ROWS = [["digits-hyperband-0012", "Failed", "", "12.5", "rbf", "0.00334567", REASON],
        ["digits-hyperband-0003", "Succeeded", "0.981481", "3.25", "linear", "0.0125", ""]]


def _drawn(headers, rows, width, **options) -> list[str]:
    fitted = fit(headers, rows, width, **options)
    console = Console(file=io.StringIO(), width=fitted.width, color_system=None)
    console.print(fitted.table, crop=False)
    return console.file.getvalue().splitlines()


@pytest.mark.parametrize("width", [80, 120, 200])
def test_every_line_fits_and_every_row_is_one_line_with_name_and_status_whole(width) -> None:
    lines = _drawn(HEADERS, ROWS, width)
    assert max(len(line) for line in lines) <= width
    for name, status in (("digits-hyperband-0012", "Failed"),
                         ("digits-hyperband-0003", "Succeeded")):
        row = [line for line in lines if name in line]
        assert len(row) == 1 and f" {status} " in row[0]
    assert len(lines) == 4 + len(ROWS)  # top, header, rule, rows, bottom: nothing wrapped


def test_at_80_columns_short_columns_stay_whole_and_the_long_reason_is_left_out() -> None:
    fitted = fit(HEADERS, ROWS, 80)
    text = "\n".join(_drawn(HEADERS, ROWS, 80))
    assert "0.00334567" in text and "linear" in text  # whole, never "0.0033…"
    assert fitted.hidden == ["reason"]
    assert fitted.note() == "not shown: reason (--wide shows every column whole)"


def test_at_120_columns_the_reason_is_cut_to_one_line_ending_in_an_ellipsis() -> None:
    fitted = fit(HEADERS, ROWS, 120)
    assert fitted.cut == ["reason"] and fitted.hidden == []
    failed = next(line for line in _drawn(HEADERS, ROWS, 120) if "0012" in line)
    assert "Trial exited with status 1" in failed and "…" in failed


def test_without_a_width_every_column_is_whole() -> None:
    fitted = fit(HEADERS, ROWS, None)
    assert fitted.hidden == [] and fitted.cut == [] and fitted.note() == ""
    assert any(REASON in line for line in _drawn(HEADERS, ROWS, None))


def test_names_are_whole_even_when_they_alone_are_wider_than_the_terminal() -> None:
    name = "an-experiment-with-a-very-long-name-0001"
    lines = _drawn(HEADERS, [[name, "Running", "", "1", "rbf", "0.1", ""]], 30)
    assert any(name in line and "Running" in line for line in lines)
    assert fit(HEADERS, [[name, "Running", "", "1", "rbf", "0.1", ""]], 30).hidden == [
        "C", "kernel", "gamma"]  # the empty objective and reason are no news


def test_priority_chooses_which_columns_get_the_room_first() -> None:
    headers = ["trial", "status", "start_time", "C"]
    rows = [["t-0001", "Succeeded", "2026-12-04 05:38:27", "12.5"]]
    assert fit(headers, rows, 46).hidden == ["C"]
    assert fit(headers, rows, 46, priority=["C"]).hidden == ["start_time"]


def test_a_long_text_too_narrow_to_read_is_left_out_not_cut_to_a_stub() -> None:
    fitted = fit(["trial", "genotype"], [["t-0001", "Genotype(normal=[('sep_conv_3x3', 0)])"]],
                 20)
    assert fitted.hidden == ["genotype"]


def test_a_column_with_nothing_in_it_is_left_out_without_a_note() -> None:
    fitted = fit(["trial", "status", "reason"], [["t-0001", "Succeeded", ""]], 80)
    assert fitted.hidden == [] and fitted.note() == ""
    assert [c.header.plain for c in fitted.table.columns] == ["trial", "status"]


def test_a_long_text_ranked_first_keeps_room_before_a_short_column_ranked_after() -> None:
    headers = ["trial", "status", "start_time", "reason"]
    rows = [["t-0001", "Failed", "2026-12-04 05:38:27", REASON]]
    # 50 columns: room for the start time, or for the reason cut short; not for both
    assert fit(headers, rows, 50).hidden == ["reason"]
    fitted = fit(headers, rows, 50, priority=["reason", "start_time"])
    assert fitted.hidden == ["start_time"] and fitted.cut == ["reason"]


def test_plain_columns_keep_an_empty_column_so_the_header_is_the_same_for_every_run() -> None:
    from automl._table import plain_columns

    lines = plain_columns(["trial", "status", "reason"], [["t-0001", "Succeeded", ""]])
    assert lines[0].split() == ["trial", "status", "reason"]
    assert lines[1].split() == ["t-0001", "Succeeded", "-"]
