"""Why trials failed, in one line, from their conditions and reasons (no table needed).

``automl status`` says it from its records, ``automl best`` and the run's summary from a
trials table (automl.results.failures): the same line.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

__all__ = ["ENDED_BADLY", "failures_text"]

ENDED_BADLY = ("Failed", "EarlyStopped", "MetricsUnavailable", "Killed")
"""Katib's conditions of a trial that ended without succeeding."""

# A local reason ends with the trial's own log path: the same failure, said per trial.
_LOG = re.compile(r"; log: \S+$")


def failures_text(trials: Iterable[tuple[str, object]], total: int) -> str:
    """:func:`failures_line` of trials given as ``(status, reason)`` pairs, ``total`` of them
    in all: what ``automl status`` says from its records, without a table.

    Example:
        >>> failures_text([("Failed", "exit status 1; log: a"), ("Failed", None)], 2)
        '2 of 2 trials ended without succeeding (2 Failed); most common reason (1): exit status 1'
    """
    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for status, reason in trials:
        if status in ENDED_BADLY:
            counts[status] += 1
            if isinstance(reason, str) and reason:
                reasons[_LOG.sub("", reason)] += 1
    if not counts:
        return ""
    line = (f"{sum(counts.values())} of {total} trials ended without succeeding ("
            + ", ".join(f"{n} {s}" for s, n in counts.most_common()) + ")")
    if reasons:
        (reason, n), = reasons.most_common(1)
        line += f"; most common reason ({n}): {reason}"
    return line
