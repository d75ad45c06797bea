"""MetricValue: one metric of one trial reduced to min, max and latest, as Katib stores it."""

from __future__ import annotations

from dataclasses import dataclass

from automl.state.numbers import parse_float

__all__ = ["MetricValue"]


@dataclass(frozen=True)
class MetricValue:
    """Katib's ``observation.metrics[]`` entry: min, max and latest (None = unavailable)."""

    name: str
    min: float | None
    max: float | None
    latest: str | None

    def value(self, strategy: str) -> float | str | None:
        """The trial's value under ``strategy``; min/max fall back to latest, as in Katib."""
        if strategy == "min" and self.min is not None:
            return self.min
        if strategy == "max" and self.max is not None:
            return self.max
        if self.latest is None:
            return None
        number = parse_float(self.latest)
        return self.latest if number is None else number
