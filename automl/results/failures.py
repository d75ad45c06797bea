"""Why trials failed, in one line: how many ended without a value, and the most common reason.

An experiment whose trials all failed has no best trial; ``automl best`` and the run's summary
say this line instead of a bare ``-``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["failures_line"]

ENDED_BADLY = ("Failed", "EarlyStopped", "MetricsUnavailable", "Killed")
"""Katib's conditions of a trial that ended without succeeding."""

# A local reason ends with the trial's own log path: the same failure, said per trial.
_LOG = re.compile(r"; log: \S+$")


def failures_line(trials: pd.DataFrame) -> str:
    """``3 of 4 trials ended without succeeding (3 Failed); most common reason (3): ...``.

    Args:
        trials: A trials table (``status`` and ``reason`` columns).

    Returns:
        The line, or '' when no trial ended without succeeding.

    Example:
        >>> failures_line(automl.load_results("digits-svm").trials)
        ''
    """
    ended = trials[trials["status"].isin(ENDED_BADLY)]
    if ended.empty:
        return ""
    counts = ended["status"].astype(str).value_counts()
    line = (f"{len(ended)} of {len(trials)} trials ended without succeeding ("
            + ", ".join(f"{n} {s}" for s, n in counts.items()) + ")")
    reasons = ended["reason"].dropna().astype(str).str.replace(_LOG, "", regex=True)
    if not reasons.empty:
        common = reasons.value_counts()
        line += f"; most common reason ({common.iloc[0]}): {common.index[0]}"
    return line
