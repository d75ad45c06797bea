"""Metrics collectors by Katib's kind names: StdOut, File (TEXT, JSON), TensorFlowEvent, Push."""

from automl.local.metrics.base import (
    MetricsCollectorBase,
    MetricsError,
    Observation,
    ReadingCut,
)
from automl.local.metrics.json_lines import JsonLinesCollector
from automl.local.metrics.push import PushCollector
from automl.local.metrics.reduce import MetricValue, reduce_observations
from automl.local.metrics.text import DEFAULT_FILTER, StdOutCollector, TextFileCollector
from automl.local.metrics.tfevent import TfEventCollector

__all__ = [
    "DEFAULT_FILTER",
    "JsonLinesCollector",
    "MetricValue",
    "MetricsCollectorBase",
    "MetricsError",
    "Observation",
    "PushCollector",
    "ReadingCut",
    "StdOutCollector",
    "TextFileCollector",
    "TfEventCollector",
    "reduce_observations",
]
