"""The results schema: the same columns and dtypes from every backend (ARCHITECTURE.md)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from automl.spec import ExperimentSpec

__all__ = ["OBSERVATION_COLUMNS", "RAW_NAS_COLUMNS", "STATUSES", "TRIAL_COLUMNS", "architecture",
           "observations_frame", "trials_frame"]

STATUSES = ["Succeeded", "Failed", "EarlyStopped", "MetricsUnavailable", "Running", "Pending",
            "Killed"]
"""Katib's trial condition names, the categories of the ``status`` column."""

TRIAL_COLUMNS = ["experiment", "trial", "status", "objective", "start_time", "completion_time",
                 "duration_s", "backend", "reason"]
"""The fixed columns of the trials table; ``reason`` says why a trial did not succeed, or
what to know of one that did (its log was cut at the size limit); empty when there is
nothing to say: the engine's reason locally, the ending Trial condition's ``reason:
message`` on Katib. ``params.<name>`` and ``metrics.<name>`` follow
``objective``, and between them a NAS experiment has ``architecture`` (in words) and a pbt
experiment ``generation`` and ``parent`` (the trial whose checkpoint it started from)."""

RAW_NAS_COLUMNS = frozenset(f"params.{name}" for name in (
    "architecture", "nn_config", "algorithm-settings", "search-space", "num-layers"))
"""Katib's NAS assignments: long JSON texts, said in words by the ``architecture`` column.
Tables meant to be read (terminal, report) leave them out; data formats keep them."""

OBSERVATION_COLUMNS = ["experiment", "trial", "metric", "step", "value", "timestamp"]


def trials_frame(rows: list[dict[str, Any]], spec: ExperimentSpec) -> pd.DataFrame:
    """The trials table from one dict per trial.

    Each row has the fixed columns (times as epoch seconds or None; ``reason`` may be
    missing), ``params`` (name → the
    string the trial received), ``metrics`` (name → the value after the metric strategy) and,
    for pbt, ``pbt`` (``generation`` and ``parent``).
    """
    import pandas as pd

    params = [p.name for p in spec.parameters] or sorted(
        {k for r in rows for k in r.get("params", {})})
    types = {p.name: p.type for p in spec.parameters}
    metrics = spec.objective.metrics
    columns: dict[str, Any] = {
        "experiment": pd.array([r["experiment"] for r in rows], dtype="string"),
        "trial": pd.array([r["trial"] for r in rows], dtype="string"),
        "status": pd.Categorical([r["status"] for r in rows], categories=STATUSES),
        "objective": _floats([r.get("objective") for r in rows]),
    }
    for name in params:
        values = [r.get("params", {}).get(name) for r in rows]
        columns[f"params.{name}"] = _typed(values, types.get(name, "categorical"))
    if spec.algorithm.name == "pbt":
        lineage = [r.get("pbt") or {} for r in rows]
        columns["generation"] = pd.array([t.get("generation") for t in lineage], dtype="Int64")
        columns["parent"] = pd.array([t.get("parent") for t in lineage], dtype="string")
    if spec.nas is not None:
        columns["architecture"] = pd.array([architecture(spec, r) for r in rows], dtype="string")
    for name in metrics:
        columns[f"metrics.{name}"] = _floats([r.get("metrics", {}).get(name) for r in rows])
    start = _times([r.get("start") for r in rows])
    end = _times([r.get("end") for r in rows])
    columns["start_time"] = start
    columns["completion_time"] = end
    columns["duration_s"] = (end - start).total_seconds().to_numpy(dtype="float64")
    columns["backend"] = pd.array([r.get("backend", "local") for r in rows], dtype="string")
    columns["reason"] = pd.array([r.get("reason") or None for r in rows], dtype="string")
    frame = pd.DataFrame(columns)
    # for df.automl.best() and friends
    frame.attrs.update({"automl.direction": spec.objective.type,
                        "automl.algorithm": spec.algorithm.name,
                        # df.automl.importance() scores on the spec's ranges, as the report
                        # and optuna-dashboard do, not on the range the trials happened to see
                        "automl.parameters": [p.model_dump(mode="json", by_alias=True)
                                              for p in spec.parameters]})
    return frame


def architecture(spec: ExperimentSpec, row: dict[str, Any]) -> str | None:
    """A NAS trial's architecture in words: ENAS's layers, or the genotype DARTS reported."""
    from automl.spec.nas_assignments import describe_architecture

    params = row.get("params", {})
    if spec.algorithm.name == "enas" and {"architecture", "nn_config"} <= params.keys():
        return describe_architecture(params["architecture"], params["nn_config"])
    value = row.get("metrics", {}).get(spec.objective.metric)
    return value if isinstance(value, str) else None


def observations_frame(rows: dict[str, list[Any]]) -> pd.DataFrame:
    """The observations table from column lists (timestamps as epoch seconds or None)."""
    import pandas as pd

    return pd.DataFrame({
        "experiment": pd.array(rows.get("experiment", []), dtype="string"),
        "trial": pd.array(rows.get("trial", []), dtype="string"),
        "metric": pd.array(rows.get("metric", []), dtype="string"),
        "step": pd.array(rows.get("step", []), dtype="Int64"),
        "value": _floats(rows.get("value", [])),
        "timestamp": _times(rows.get("timestamp", [])),
    })


def _times(seconds: list[float | None]) -> Any:
    """UTC datetimes in nanoseconds always: pandas 3 would pick the unit from the input."""
    import pandas as pd

    return pd.to_datetime(seconds, unit="s", utc=True).as_unit("ns")


def _typed(values: list[Any], kind: str) -> Any:
    import pandas as pd

    if kind == "int":
        return pd.array([None if v is None else int(float(v)) for v in values], dtype="Int64")
    if kind in ("double", "discrete"):
        return _floats(values)
    return pd.array([None if v is None else str(v) for v in values], dtype="string")


def _floats(values: list[Any]) -> Any:
    """float64 values; None and non-numbers (a DARTS genotype) become NaN."""
    import numpy as np

    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        with contextlib.suppress(TypeError, ValueError):
            out[i] = float(v)
    return out
