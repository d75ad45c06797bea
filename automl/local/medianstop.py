"""Katib's medianstop early stopping, with its real semantics (FACTS.md, section e).

Optuna's MedianPruner compares against the median at every step; Katib's service does not:
it averages each succeeded trial's first ``start_step`` objective values, takes the mean of
those averages once ``min_trials_required`` trials have succeeded, and attaches that value as
a rule to the trials created afterwards. The rule is checked once, at the trial's
``start_step``-th report: the trial stops when its best value so far is worse than the rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automl.spec import ExperimentSpec

__all__ = ["MedianStop", "StopRule"]


STOPPING_COLLECTORS = ("StdOut", "File")
"""The collectors that apply early-stopping rules (on Katib and here)."""


@dataclass(frozen=True)
class StopRule:
    """Katib's ``earlyStoppingRules[]`` entry for one trial."""

    metric: str
    value: float
    comparison: str  # "less": stop when best < value (maximize); "greater": best > value
    start_step: int

    def should_stop(self, values: Sequence[float]) -> bool:
        """Whether to stop, given the objective values reported so far (checked at start_step)."""
        if len(values) != self.start_step:
            return False
        if self.comparison == "less":
            return max(values) < self.value
        return min(values) > self.value


class MedianStop:
    """The rule for trials created next, kept as trials succeed (constant time per trial).

    Args:
        spec: The experiment; without medianstop early stopping, :meth:`rule` is None.

    Example:
        >>> stop = MedianStop(spec)
        >>> stop.add({"status": "Succeeded", "history": [0.5, 0.6, 0.7, 0.8]})
        >>> stop.rule()   # None until min_trials_required trials have succeeded
    """

    def __init__(self, spec: ExperimentSpec) -> None:
        es = spec.early_stopping
        # Katib's stop rules reach only its file collector (StdOut, File: cmd/metricscollector/
        # v1beta1/file-metricscollector/main.go); with Push or TensorFlowEvent none applies
        self.enabled = (es is not None and es.name == "medianstop"
                        and spec.trial.metrics_collector.kind in STOPPING_COLLECTORS)
        settings = es.settings if es is not None else {}
        self.min_trials = int(settings.get("min_trials_required", 3))
        self.start_step = int(settings.get("start_step", 4))
        self.metric = spec.objective.metric
        self.maximize = spec.objective.type == "maximize"
        self._sum = 0.0
        self._count = 0

    def add(self, record: Mapping[str, Any]) -> None:
        """Count a finished trial: a succeeded one adds the average of its first values."""
        head = record.get("history", [])[:self.start_step]
        if record.get("status") == "Succeeded" and head:
            self._sum += sum(head) / len(head)
            self._count += 1

    def rule(self) -> StopRule | None:
        """The rule for a trial created now, or None (no medianstop, too few succeeded)."""
        if not self.enabled or self._count < self.min_trials:
            return None
        return StopRule(self.metric, self._sum / self._count,
                        "less" if self.maximize else "greater", self.start_step)
