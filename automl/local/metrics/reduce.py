"""Metric strategies: one value per metric per trial, as Katib's trial controller computes it."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from automl.local.metrics.base import Observation
from automl.state.metric import MetricValue

__all__ = ["MetricValue", "reduce_observations"]


def reduce_observations(observations: Iterable[Observation],
                        metrics: Sequence[str]) -> dict[str, MetricValue]:
    """min/max over numeric values; latest = newest timestamp, the later report on ties."""
    result = {}
    seen = list(observations)
    for metric in metrics:
        mine = [(i, o) for i, o in enumerate(seen) if o.metric == metric]
        numbers = [o.number for _, o in mine
                   if o.number is not None and math.isfinite(o.number)]
        latest = None
        if mine:
            _, newest = max(mine, key=lambda io: (io[1].timestamp or 0.0, io[0]))
            latest = newest.value
        result[metric] = MetricValue(metric, min(numbers) if numbers else None,
                                     max(numbers) if numbers else None, latest)
    return result
