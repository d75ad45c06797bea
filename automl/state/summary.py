"""RunSummary: how a run ended, whichever backend ran it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["RunSummary"]


@dataclass
class RunSummary:
    """How an experiment run ended.

    Attributes:
        name: The experiment.
        status: ``Succeeded``, ``Failed``, or ``Running`` when it was interrupted.
        reason: Katib's reason, e.g. ``ExperimentGoalReached``, in words.
        counts: Trials per Katib condition.
        best: The best trial (``name``, ``objective``, ``params``), or None.
    """

    name: str
    status: str
    reason: str
    counts: dict[str, int]
    best: dict[str, Any] | None
