"""Katib's TEXT format: ``name=value`` lines on stdout (StdOut) or in a file (File)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from automl.local.metrics.base import MetricsCollectorBase, Observation
from automl.local.metrics.timestamps import rfc3339_nano
from automl.spec.filters import DEFAULT_FILTER, compile_filter

__all__ = ["DEFAULT_FILTER", "StdOutCollector", "TextFileCollector"]


class StdOutCollector(MetricsCollectorBase):
    """Katib's StdOut collector: parses the trial's stdout and stderr.

    As Katib's file-metrics-collector does (pkg/metricscollector/v1beta1/file-metricscollector/
    file-metricscollector.go ``parseLogsInTextFormat``): only lines that contain one of the
    metric names are examined; the text before the first space stamps the values when it is
    an RFC 3339 timestamp (Go's ``time.RFC3339Nano``; else the values have none); every match
    of every filter (RE2, the default one when none is given) on the whole line counts when
    its trimmed group 1 is a requested metric, and its trimmed group 2 is the value, even when
    empty: ``loss=nan`` gives ``loss`` the value ``""`` under the default filter, as on Katib.
    """

    kind = "StdOut"

    def __init__(self, metrics: Sequence[str], filters: Sequence[str] = ()) -> None:
        super().__init__(metrics)
        self.patterns = [compile_filter(f) for f in (filters or [DEFAULT_FILTER])]

    def line(self, text: str) -> Iterable[Observation]:
        if not any(m in text for m in self.metrics):
            return []
        head, space, _ = text.partition(" ")
        timestamp = rfc3339_nano(head) if space else None
        found = []
        for pattern in self.patterns:
            if pattern.groups < 2:  # Go's collector skips a match without two groups
                continue
            for match in pattern.finditer(text):
                # Go gives "" for a group that took no part in the match.
                name, value = ((match.group(i) or "").strip() for i in (1, 2))
                if name in self.metrics:
                    found.append(Observation(name, value, timestamp))
        return found


class TextFileCollector(StdOutCollector):
    """Katib's File collector with format TEXT: the same parsing, on a file the trial writes."""

    kind = "File"
