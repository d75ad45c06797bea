"""What a user sees while an experiment runs: a Rich bar on a terminal, plain lines elsewhere."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from automl._terminal import plain, visible

if TYPE_CHECKING:
    from automl.spec import ExperimentSpec

__all__ = ["PLAIN_LINE", "STATUS_TOP", "Progress", "best_line", "best_text", "counts_line",
           "more_line", "objective_text", "short_value"]


PLAIN_LINE = re.compile(r"\[\d+/[\d?]+\] .*")
"""A line :class:`Progress` prints per finished trial off a terminal (``[3/12] name ...``),
as a reader of a step's log (automl.pipelines.local) finds it."""


class Progress:
    """Trials done out of the budget, running, failed, best so far with its parameters, ETA.

    A Rich bar on a terminal (or on ``console``, a Rich console given to draw on), else a
    plain line per finished trial on stderr (a pipe, a log, a notebook cell).
    """

    def __init__(self, name: str, total: int | None, *, enabled: bool = True,
                 console: Any = None) -> None:
        self.name = name
        self.total = total
        self.enabled = enabled
        self.console = console
        self.tty = enabled and (console is not None or sys.stderr.isatty())
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if self.tty:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress
            from rich.table import Column

            # The name and the info hold user text: shown as written, never read as markup.
            # The name, bar, count, ETA and the running and failed counts keep their width
            # on any terminal; the best so far takes what is left, cut with "…".
            self._bar = RichProgress(
                TextColumn("{task.description}", style="bold", markup=False,
                           table_column=Column(no_wrap=True)),
                BarColumn(bar_width=16),
                MofNCompleteColumn(table_column=Column(no_wrap=True)),
                TimeRemainingColumn(table_column=Column(no_wrap=True)),
                TextColumn("{task.fields[counts]}", markup=False,
                           table_column=Column(no_wrap=True)),
                TextColumn("{task.fields[info]}", markup=False,
                           table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1)),
                transient=False, console=self.console, expand=True)
            self._bar.__enter__()
            self._task = self._bar.add_task(visible(self.name), total=self.total, counts="",
                                            info="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def update(self, done: int, running: int, failed: int, best: str, last: str = "") -> None:
        """Show the counters; ``last`` is a line about the trial that just ended."""
        if not self.enabled:
            return
        counts = f"{running} running" + (f"  {failed} failed" if failed else "")
        if self._bar is not None:
            self._bar.update(self._task, completed=done, counts=counts,
                             info=visible(f"best {best}"))
            if last:
                self._bar.console.print(plain(last))
        elif last:
            total = self.total if self.total is not None else "?"
            print(f"[{done}/{total}] {visible(last)} | {counts}  best {visible(best)}",
                  file=sys.stderr, flush=True)


def best_text(spec: ExperimentSpec, best: dict[str, Any] | None) -> str:
    """``accuracy=0.98 (C=1.7 kernel=rbf)`` for a best trial (``objective``, ``params``).

    A NAS trial's parameters are said in words (``automl.spec.nas_assignments.shown_params``).
    """
    if best is None:
        return "-"
    from automl.spec.nas_assignments import shown_params

    params = " ".join(f"{k}={short_value(str(v))}"
                      for k, v in shown_params(spec.algorithm.name, best["params"]).items())
    shown = f"{spec.objective.metric}={objective_text(best['objective'])}"
    return f"{shown} ({params})" if params else shown


STATUS_TOP = 5
"""How many best trials ``automl status`` shows without ``--all``."""


def counts_line(total: int, max_trials: int | None, counts: Iterable[tuple[str, int]]) -> str:
    """``trials: 12 of 40 (10 Succeeded, 2 Failed)``, as ``automl status`` prints it."""
    budget = f" of {max_trials}" if max_trials else ""
    ordered = sorted(counts, key=lambda c: (-c[1], c[0]))  # the same whoever counted them
    return f"trials: {total}{budget} (" + ", ".join(f"{n} {s}" for s, n in ordered) + ")"


def more_line(rest: int, name: str, options: str = "", *, shown: int = 1) -> str:
    """What ``automl status`` says of the trials it left out, and how to see them: ``more``
    only after ``shown`` trials in its tables."""
    more = "more " if shown else ""
    return (f"{rest} {more}trials: automl status {name}{options} --all, or automl trials "
            f"{name}{options}")


def best_line(spec: ExperimentSpec, best: dict[str, Any] | None, failures: str = "") -> str:
    """``best: <trial> accuracy=0.98 (C=1.7 kernel=rbf)``, as ``automl status`` prints it;
    without a best trial ``best: -``, then ``failures`` (why they failed) when given."""
    if best is None:
        return f"best: -; {failures}" if failures else "best: -"
    return f"best: {best['name']} {best_text(spec, best)}"


def objective_text(value: float | str) -> str:
    """An objective for display: a number to 6 digits, a text (a DARTS genotype) as it is."""
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def short_value(value: str) -> str:
    """A parameter value for display: numbers to 4 significant digits."""
    try:
        number = float(value)
    except ValueError:
        return value
    return value if number.is_integer() and "." not in value else f"{number:.4g}"
