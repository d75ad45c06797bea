"""``automl.report``: a trial reports its metrics (Katib's Push collector)."""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping

from automl._katib_sdk import katib_sdk
from automl.errors import AutomlError

__all__ = ["METRICS_FILE_ENV", "report"]

METRICS_FILE_ENV = "AUTOML_METRICS_FILE"


def report(metrics: Mapping[str, float], *, step: int | None = None) -> None:
    """Report metrics from inside a trial whose collector kind is ``Push``.

    Locally each call appends one line to the file the engine named in
    ``$AUTOML_METRICS_FILE``; on a Katib cluster (no such variable) it calls
    ``kubeflow.katib.report_metrics``, so the same trial code runs in both places.

    Args:
        metrics: Metric name → number, e.g. ``{"accuracy": 0.93, "loss": 0.21}``.
        step: Optional step (epoch) the values belong to.

    Raises:
        AutomlError: When a value is not a finite number, or on a cluster without
            kubeflow-katib (``automl[katib-sdk]``), which sends the values to Katib.

    Example:
        >>> import automl
        >>> automl.report({"accuracy": 0.93})
    """
    values: dict[str, float] = {}
    for name, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise AutomlError(f"metric {name}={value!r} is not a number") from None
        if not math.isfinite(number):
            raise AutomlError(f"metric {name}={value!r} is not a finite number")
        values[name] = number
    path = os.environ.get(METRICS_FILE_ENV)
    if path is None:
        katib_sdk("automl.report outside an automl trial (Katib's Push collector)") \
            .report_metrics(values)
        return
    record = {"metrics": values, "timestamp": time.time(), "step": step}
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(record) + "\n")
