"""Tables that fit the terminal, as ``kubectl get`` lays them out.

The name columns (trial, experiment) and the status are shown whole on every width. The
other columns are shown whole while they fit, left first (an empty one not at all); a long
text (a reason, a DARTS genotype, an ENAS architecture in words) is cut to one line ending
in ``…`` rather than wrapped into a tower of fragments; what does not fit at all is left
out and named under the table. ``wide`` shows every column whole, however wide that makes
the lines. Output that is not a terminal (a pipe, a file) gets plain columns, as ``kubectl
get`` prints them: a header row, then the rows, space-aligned, every column whole and
shown (an empty one too: the same header whatever the rows hold), no box and no wrapping
(``| grep``, ``| head`` and ``awk`` read lines, not drawings).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Column, Table

from automl._terminal import plain, visible

__all__ = ["FittedTable", "fit", "output_width", "plain_columns", "print_line", "print_table"]

KEYS = frozenset({"trial", "experiment", "status", "name"})
"""Columns shown whole on every width: what a row is and what state it is in."""

LONG = 24
"""A column wider than this is a long text: cut to the room left, not kept or dropped whole."""

_SHORTEST = 12
"""A long text gets at least this many characters, or is left out."""

EMPTY = "-"
"""A plain column's empty cell: something there, so that ``awk`` counts the fields right."""

_GAP = "   "  # between plain columns, as kubectl's


@dataclass
class FittedTable:
    """A table laid out for a width.

    Attributes:
        table: The Rich table, every cell one line.
        width: The width to draw it at (wider than asked when the keys alone are wider).
        hidden: The headers of the columns left out, in table order.
        cut: The headers of the columns shown cut short.
    """

    table: Table
    width: int
    hidden: list[str] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)

    def note(self) -> str:
        """``not shown at 80 columns: gamma, reason (--wide shows every column)``, or ''."""
        if not self.hidden and not self.cut:
            return ""
        parts = []
        if self.hidden:
            parts.append("not shown: " + ", ".join(self.hidden))
        if self.cut:
            parts.append("cut short: " + ", ".join(self.cut))
        return "; ".join(parts) + " (--wide shows every column whole)"


def output_width() -> int | None:
    """The width to lay tables out for: ``COLUMNS``, else the terminal's; None for a pipe."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def fit(headers: Sequence[str], rows: Sequence[Sequence[object]], width: int | None, *,
        title: str | None = None, keys: frozenset[str] = KEYS,
        priority: Sequence[str] = ()) -> FittedTable:
    """Lay ``rows`` out for ``width`` characters (None: every column whole).

    Args:
        headers: The column headers; those in ``keys`` are never cut or left out.
        rows: The cells, one sequence per row; each is shown as ``str`` of it, escaped.
        width: The characters a line may take; None for no limit (``--wide``, a pipe).
        title: A title above the table, on the left.
        keys: The headers to show whole on every width.
        priority: Headers to find room for first, in this order; the others follow, left
            first. A long text keeps the least room it needs (12 characters) ahead of the
            short columns ranked after it. The table keeps its column order whatever the
            priority.

    Example:
        >>> fitted = fit(["trial", "reason"], [["t-1", "x" * 100]], 40)
        >>> fitted.cut
        ['reason']
    """
    cells = [[visible(c) for c in row] for row in rows]
    natural = [max([cell_len(visible(h))] + [cell_len(row[i]) for row in cells])
               for i, h in enumerate(headers)]
    # A column with nothing in it (no trial has a reason yet) says nothing at any width.
    empty = {i for i, h in enumerate(headers) if h not in keys and not any(r[i] for r in cells)}
    limits: dict[int, int | None]
    if width is None:
        limits = {i: None for i in range(len(headers)) if i not in empty}
    else:
        limits = {i: None for i, h in enumerate(headers) if h in keys}
        used = _drawn(natural[i] for i in limits)
        ranked = sorted(range(len(headers)), key=lambda i: (
            priority.index(headers[i]) if headers[i] in priority else len(priority), i))
        ranked = [i for i in ranked if i not in empty]
        reserved, first = 0, []  # long texts ranked ahead that keep their least room
        for i in ranked:  # short columns whole while they fit
            size = natural[i]
            if i in limits:
                continue
            if size > LONG:
                if used + reserved + min(size, _SHORTEST) + 3 <= width:
                    reserved += min(size, _SHORTEST) + 3
                    first.append(i)
            elif used + reserved + size + 3 <= width:
                limits[i] = None
                used += size + 3
        for i in first + [i for i in ranked if i not in first]:  # long texts, on what is left
            size, room = natural[i], width - used - 3
            if i not in limits and size > LONG and room >= min(size, _SHORTEST):
                limits[i] = min(size, room)
                used += limits[i] + 3
    shown = sorted(limits)
    table = Table(*(Column(plain(headers[i]), no_wrap=True, overflow="ellipsis",
                           min_width=natural[i] if limits[i] is None else limits[i],
                           max_width=limits[i]) for i in shown),
                  title=title, title_justify="left", box=box.HEAVY_HEAD)
    for row in cells:
        table.add_row(*(plain(row[i]) for i in shown))
    drawn = _drawn(natural[i] if limits[i] is None else limits[i] for i in shown)
    return FittedTable(table, max(drawn, width or 0),
                       hidden=[headers[i] for i in range(len(headers))
                               if i not in limits and i not in empty],
                       cut=[headers[i] for i in shown
                            if limits[i] is not None and limits[i] < natural[i]])


def plain_columns(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """The table as ``kubectl get`` prints it to a pipe: header row, space-aligned rows.

    Every column is whole and shown, an empty one too (a script reads the same header
    whether or not some row has a value in it); an empty cell is :data:`EMPTY`; line ends in
    a cell are shown as ``\\n``, so a row stays one line.

    Example:
        >>> plain_columns(["trial", "objective"], [["t-0001", "0.9"], ["t-0002", ""]])
        ['trial    objective', 't-0001   0.9', 't-0002   -']
    """
    cells = [[visible(c).replace("\n", "\\n") for c in row] for row in rows]
    table = [[visible(h) for h in headers], *([c or EMPTY for c in row] for row in cells)]
    widths = [max(cell_len(line[k]) for line in table) for k in range(len(headers))]
    return [_GAP.join(cell + " " * (width - cell_len(cell))
                      for cell, width in zip(line, widths, strict=True)).rstrip()
            for line in table]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], *,
                wide: bool = False, title: str | None = None, priority: Sequence[str] = (),
                console: Console | None = None, terminal: bool | None = None) -> None:
    """Print a fitted table on stdout (or ``console``), with a line naming what it left out.

    The width is :func:`output_width`'s; a table wider than that (its keys alone, or
    ``wide``) is drawn whole, as kubectl draws it, for the terminal to wrap. Output that is
    not a terminal gets :func:`plain_columns` (with the title, if any, on a line above).

    Args:
        headers: The column headers.
        rows: The cells, one sequence per row.
        wide: Every column whole, however wide the lines.
        title: A line above the table.
        priority: The headers to find room for first (see :func:`fit`).
        console: Where to print (default: stdout).
        terminal: Whether the output ends on a terminal (default: whether stdout is one).
    """
    out = console or Console()
    if not (sys.stdout.isatty() if terminal is None else terminal):
        lines = ([visible(title)] if title else []) + plain_columns(headers, rows)
        for line in lines:
            out.print(plain(line), soft_wrap=True, highlight=False)
        return
    fitted = fit(headers, rows, None if wide else output_width(), title=title,
                 priority=priority)
    asked = out.width
    out.width = fitted.width
    try:
        out.print(fitted.table, crop=False)
    finally:
        out.width = asked
    if fitted.note():
        out.print(plain(fitted.note(), "dim"), highlight=False)


def print_line(console: Console, *parts: object, sep: str = " ") -> None:
    """Print a line of text beside the tables: wrapped at words on a terminal, whole on a
    pipe or in a file (one line for ``grep``); the first part bold on a terminal."""
    texts = [plain(part, "bold" if i == 0 and len(parts) > 1 else "")
             for i, part in enumerate(parts)]
    console.print(*texts, sep=sep, highlight=False, soft_wrap=not sys.stdout.isatty())


def _drawn(widths: Iterable[int]) -> int:
    """The characters a row takes in Rich's boxed table: ``│ a │ b │``."""
    sizes = list(widths)
    return sum(sizes) + 3 * len(sizes) + 1
