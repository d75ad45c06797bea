"""Katib's Experiment and Trial objects → the same Results tables as the local engine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from automl.results import Results
from automl.results.schema import observations_frame, trials_frame
from automl.spec import ExperimentSpec

__all__ = ["katib_results", "trial_status"]

_FINAL = ("Succeeded", "Failed", "EarlyStopped", "MetricsUnavailable", "Killed")


def katib_results(spec: ExperimentSpec, trials: list[dict[str, Any]]) -> Results:
    """The Results of a Katib experiment, from its Trial objects.

    Trial status carries each metric's min, max and latest (``status.observation``); the value
    after the metric strategy goes into the table. The observations table is empty: the full
    series lives in Katib's DB manager, reachable only from inside the cluster.
    """
    rows = []
    for t in sorted(trials, key=lambda t: t["metadata"].get("creationTimestamp") or ""):
        status = t.get("status") or {}
        observed = {m["name"]: m for m in (status.get("observation") or {}).get("metrics") or []}
        metrics = {name: _value(observed.get(name), spec.objective.strategy(name))
                   for name in spec.objective.metrics}
        rows.append({
            "experiment": spec.name, "trial": t["metadata"]["name"],
            "status": trial_status(t),
            "objective": metrics.get(spec.objective.metric),
            "params": {a["name"]: a["value"]
                       for a in (t.get("spec") or {}).get("parameterAssignments") or []},
            "metrics": metrics,
            "start": _epoch(status.get("startTime")),
            "end": _epoch(status.get("completionTime")),
            "backend": "katib",
        })
    return Results(spec, trials_frame(rows, spec), observations_frame({}))


def trial_status(trial: dict[str, Any]) -> str:
    """Katib's condition name for a Trial: its final condition, else Running or Pending."""
    conditions = {c.get("type"): c.get("status") == "True"
                  for c in (trial.get("status") or {}).get("conditions") or []}
    for name in _FINAL:
        if conditions.get(name):
            return name
    return "Running" if conditions.get("Running") else "Pending"


def _value(metric: dict[str, Any] | None, strategy: str) -> str | None:
    if metric is None:
        return None
    chosen = metric.get(strategy) if strategy in ("min", "max") else None
    value = chosen if chosen not in (None, "unavailable") else metric.get("latest")
    return None if value == "unavailable" else value


def _epoch(stamp: str | None) -> float | None:
    if not stamp:
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
