"""The objective: which metric to optimise, in which direction, and how to read it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from automl.spec._base import Number, SpecModel

__all__ = ["Objective"]

Strategy = Literal["min", "max", "latest"]


class Objective(SpecModel):
    """Katib's ``ObjectiveSpec``.

    Attributes:
        metric: The metric to optimise, exactly as the trial prints it (``objectiveMetricName``).
        type: ``minimize`` or ``maximize``.
        goal: Stop once the best trial reaches it (``<= goal`` when minimising).
        additional_metrics: Other metrics to collect (``additionalMetricNames``).
        metric_strategies: How one value per trial is taken from a metric's reports: ``min``,
            ``max`` or ``latest``. Katib's default for every metric is ``min`` when
            minimising and ``max`` when maximising (the best value reported, not the last);
            entries equal to that default are dropped.

    Example:
        >>> Objective(metric="loss", type="minimize", metric_strategies={"loss": "latest"})
    """

    metric: str
    type: Literal["minimize", "maximize"]
    goal: Number | None = None
    additional_metrics: list[str] = Field(default_factory=list)
    metric_strategies: dict[str, Strategy] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _drop_default_strategies(self) -> Objective:
        kept = {m: s for m, s in self.metric_strategies.items() if s != self.default_strategy}
        object.__setattr__(self, "metric_strategies", kept)
        if self.goal is not None:
            object.__setattr__(self, "goal", float(self.goal))
        return self

    @property
    def default_strategy(self) -> Strategy:
        """Katib's webhook default: ``min`` for minimize, ``max`` for maximize."""
        return "min" if self.type == "minimize" else "max"

    @property
    def metrics(self) -> list[str]:
        """The objective metric followed by the additional metrics."""
        return [self.metric, *self.additional_metrics]

    def strategy(self, metric: str) -> Strategy:
        """The strategy Katib applies to ``metric`` (explicit, else the default)."""
        return self.metric_strategies.get(metric, self.default_strategy)
