"""Katib's TEXT format: ``name=value`` lines on stdout (StdOut) or in a file (File)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from automl.local.metrics.base import MetricsCollectorBase, Observation
from automl.spec.trial import DEFAULT_FILTER

__all__ = ["DEFAULT_FILTER", "StdOutCollector", "TextFileCollector"]


class StdOutCollector(MetricsCollectorBase):
    """Katib's StdOut collector: parses the trial's stdout and stderr.

    As Katib's file-metrics-collector does, only lines that contain one of the metric names
    are examined; a leading RFC 3339 timestamp followed by a space stamps the values; every
    match of every filter on the line counts when its trimmed name is a requested metric.
    """

    kind = "StdOut"

    def __init__(self, metrics: Sequence[str], filters: Sequence[str] = ()) -> None:
        super().__init__(metrics)
        self.patterns = [re.compile(f) for f in (filters or [DEFAULT_FILTER])]

    def line(self, text: str) -> Iterable[Observation]:
        if not any(m in text for m in self.metrics):
            return []
        timestamp = _timestamp(text)
        found = []
        for pattern in self.patterns:
            for match in pattern.finditer(text):
                name, value = match.group(1).strip(), match.group(2)
                if name in self.metrics and value not in (None, ""):
                    found.append(Observation(name, value.strip(), timestamp))
        return found


class TextFileCollector(StdOutCollector):
    """Katib's File collector with format TEXT: the same parsing, on a file the trial writes."""

    kind = "File"


def _timestamp(text: str) -> float | None:
    head = text.split(" ", 1)[0] if " " in text else ""
    if not head or not head[:1].isdigit():
        return None
    try:
        return datetime.fromisoformat(head.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
