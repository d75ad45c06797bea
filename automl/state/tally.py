"""Tally: an experiment's counts and best trial, kept up to date as each trial ends.

The engine asks after every trial how many trials failed, completed or may still be created,
and which is the best: recounting every record each time made a trial at 10,000 cost four
times one at 10. The tally answers in constant time and applies the same best-trial rule
as :func:`automl.state.best.ranking` (see there).
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from automl.state.best import DONE, finite_number, ranks_as_text
from automl.state.cut import cut_short

__all__ = ["Tally"]


class Tally:
    """Finished trials, their count per condition and the best, updated one at a time.

    Args:
        maximize: The objective's direction.
        algorithm: The algorithm's name (DARTS's objective is a text).
        records: Trials already finished, in trial order.
        leaders: How many of the best trials :meth:`leaders` keeps, best first.

    Example:
        >>> tally = Tally(maximize=True, algorithm="random")
        >>> tally.add({"name": "t-0000", "status": "Succeeded", "objective": 0.9,
        ...            "params": {"x": "1"}})
        >>> tally.count("Succeeded", "Failed"), tally.best["name"]
        (1, 't-0000')
    """

    def __init__(self, *, maximize: bool, algorithm: str,
                 records: Iterable[Mapping[str, Any]] = (), leaders: int = 5) -> None:
        self.maximize = maximize
        self.algorithm = algorithm
        self.records: list[Mapping[str, Any]] = []
        self.counts: Counter[str] = Counter()
        self.cut: Counter[str] = Counter()  # of counts: trials cut short (automl.state.cut)
        self.best: Mapping[str, Any] | None = None
        self._best_key: tuple[float, int] | None = None  # None while the best is a text
        self._text_at = -1  # the trial-order position of the best text
        self._keep = leaders
        self._numbers: list[tuple[tuple[float, int], Mapping[str, Any]]] = []  # best first
        self._texts: list[tuple[int, Mapping[str, Any]]] = []  # latest first
        for record in records:
            self.add(record)

    @property
    def total(self) -> int:
        """Trials finished, whatever their condition."""
        return len(self.records)

    def best_summary(self) -> dict[str, Any] | None:
        """The best trial as a run summary names it: ``name``, ``objective``, ``params``."""
        if self.best is None:
            return None
        return {k: self.best[k] for k in ("name", "objective", "params")}

    def leaders(self) -> list[Mapping[str, Any]]:
        """The best finished trials, best first, as :func:`automl.state.best.ranking` orders
        them: what ``automl status`` shows without ``--all``."""
        ranked = [r for _, r in self._texts] + [r for _, r in self._numbers]
        return ranked[:self._keep]

    def count(self, *statuses: str) -> int:
        """Trials finished in any of ``statuses``."""
        return sum(self.counts[s] for s in statuses)

    def counted(self, *statuses: str) -> int:
        """Trials finished in any of ``statuses`` that count toward the budget: all but
        those their engine's stop cut short (:func:`automl.state.cut.cut_short`)."""
        return sum(self.counts[s] - self.cut[s] for s in statuses)

    def add(self, record: Mapping[str, Any], position: int | None = None) -> None:
        """Count a finished trial (``status``, ``objective``) and let it contend for the best.

        Args:
            record: The trial's record.
            position: Its place in trial order (the trial number), which decides ties as
                :func:`automl.state.best.ranking` does whatever order trials end in; default:
                the order of the calls.
        """
        status, value = record.get("status"), record.get("objective")
        position = len(self.records) if position is None else position
        self.records.append(record)
        self.counts[status] += 1
        if cut_short(record):
            self.cut[status] += 1
        if status not in DONE:
            return
        number = finite_number(value)
        if number is not None:
            key = (-number if self.maximize else number, position)
            _keep_best(self._numbers, (key, record), self._keep, lambda item: item[0])
            # a text best outranks every number; a tie goes to the earlier trial
            if self.best is None or (self._best_key is not None and key < self._best_key):
                self.best, self._best_key = record, key
        elif ranks_as_text(value, self.algorithm):
            _keep_best(self._texts, (position, record), self._keep, lambda item: -item[0])
            if self._text_wins(position):
                self.best, self._best_key, self._text_at = record, None, position

    def _text_wins(self, position: int) -> bool:
        """A text objective later in trial order than the best text."""
        # texts outrank numbers; the latest in trial order wins, as Katib keeps the latest
        return self._best_key is not None or self.best is None or position > self._text_at


def _keep_best(ranked: list[Any], item: Any, keep: int, key: Callable[[Any], Any]) -> None:
    """Put ``item`` in its place in ``ranked`` (smallest key first), keeping ``keep`` items."""
    if len(ranked) >= keep and key(item) >= key(ranked[-1]):
        return
    bisect.insort(ranked, item, key=key)
    del ranked[keep:]
