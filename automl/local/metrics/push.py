"""Katib's Push collector, locally: the trial calls ``automl.report(...)``."""

from __future__ import annotations

from collections.abc import Iterable

from automl.local.metrics.base import MetricsCollectorBase, Observation, json_object

__all__ = ["PushCollector"]


class PushCollector(MetricsCollectorBase):
    """Reads the JSON lines ``automl.report`` appends to ``$AUTOML_METRICS_FILE``.

    Unlike Katib's JSON file format, numbers are accepted as numbers: ``report`` checks them
    (as Katib's ``report_metrics`` does) before writing.
    """

    kind = "Push"

    def line(self, text: str) -> Iterable[Observation]:
        record = json_object(text, "unreadable report line")
        if record is None:
            return []
        timestamp = record.get("timestamp")
        metrics = record.get("metrics", {})
        return [Observation(name, str(value), timestamp) for name, value in metrics.items()
                if name in self.metrics]
