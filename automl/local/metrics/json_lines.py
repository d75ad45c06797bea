"""Katib's File collector with format JSON: one JSON object per line."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from automl.local.metrics.base import MetricsCollectorBase, Observation, json_object
from automl.local.metrics.timestamps import json_timestamp

__all__ = ["JsonLinesCollector"]

logger = logging.getLogger(__name__)


class JsonLinesCollector(MetricsCollectorBase):
    """Each non-empty line must be a JSON object; a metric counts when its key holds a string.

    This is Katib's rule (pkg/metricscollector/v1beta1/file-metricscollector/
    file-metricscollector.go ``parseLogsInJsonFormat``): numeric JSON values are ignored
    (Katib's examples write strings through cloudml-hypertune), which a warning in the
    trial's log points out; an empty line and a ``null`` line are skipped. An optional
    ``timestamp`` key (RFC 3339 string or epoch seconds, read as Katib's ``parseTimestamp``
    reads them) stamps the line.
    """

    kind = "File"

    def line(self, text: str) -> Iterable[Observation]:
        record = json_object(text, "failed to parse the json object")
        if record is None:
            return []
        timestamp = json_timestamp(record.get("timestamp"))
        found = []
        for metric in self.metrics:
            value = record.get(metric)
            if isinstance(value, str):
                found.append(Observation(metric, value, timestamp))
            elif value is not None:
                logger.warning("metric %s=%r ignored: Katib reads only string values in JSON "
                               "metrics files (write %r)", metric, value, str(value))
        return found

