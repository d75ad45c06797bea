"""Katib's medianstop early stopping, with its real semantics (FACTS.md, section e).

Optuna's MedianPruner compares against the median at every step; Katib's service does not:
it averages each succeeded trial's first ``start_step`` objective values, takes the mean of
those averages once ``min_trials_required`` trials have succeeded, and attaches that value as
a rule to the trials created afterwards. The rule is checked once, at the trial's
``start_step``-th report: the trial stops when its best value so far is worse than the rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from automl.spec import ExperimentSpec

__all__ = ["StopRule", "medianstop_rule"]


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


def medianstop_rule(spec: ExperimentSpec,
                    succeeded_histories: Sequence[Sequence[float]]) -> StopRule | None:
    """The rule for a trial created now, from the objective histories of succeeded trials.

    Returns None when the experiment has no medianstop or too few trials have succeeded.
    """
    es = spec.early_stopping
    if es is None or es.name != "medianstop":
        return None
    min_trials = int(es.settings.get("min_trials_required", 3))
    start_step = int(es.settings.get("start_step", 4))
    averages = [sum(h[:start_step]) / len(h[:start_step]) for h in succeeded_histories if h]
    if len(averages) < min_trials:
        return None
    maximize = spec.objective.type == "maximize"
    return StopRule(spec.objective.metric, sum(averages) / len(averages),
                    "less" if maximize else "greater", start_step)
