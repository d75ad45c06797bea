"""Katib's Experiment and Trial objects → the same Results tables as the local engine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from automl.results import Results
from automl.results.schema import observations_frame, trials_frame
from automl.spec import ExperimentSpec
from automl.state.metric import MetricValue

__all__ = ["katib_results", "trial_rows", "trial_status"]

_FINAL = ("Succeeded", "Failed", "EarlyStopped", "MetricsUnavailable", "Killed")


def katib_results(spec: ExperimentSpec, trials: list[dict[str, Any]],
                  logs: dict[str, list[Any]] | None = None) -> Results:
    """The Results of a Katib experiment, from its Trial objects (and observation logs).

    Trial status carries each metric's min, max and latest (``status.observation``); the value
    after the metric strategy goes into the table. The full series lives in Katib's DB
    manager: ``logs`` (trial name → its MetricLog list, from KatibClient.get_trial_metrics)
    fills the observations table; without it that table is empty.
    """
    return Results(spec, trials_frame(trial_rows(spec, trials), spec),
                   observations_frame(_observations(spec, logs)))


def trial_rows(spec: ExperimentSpec, trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per Trial object, in creation order, as ``trials_frame`` takes them.

    ``objective`` is Katib's value after the metric strategy: a number, or the text Katib
    reads when it is not one (DARTS's genotype).
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
            "pbt": _lineage(t["metadata"].get("labels") or {}),
            "reason": trial_reason(t),
        })
    return rows


def _observations(spec: ExperimentSpec, logs: dict[str, list[Any]] | None) -> dict[str, list]:
    columns: dict[str, list[Any]] = {k: [] for k in ("experiment", "trial", "metric", "step",
                                                      "value", "timestamp")}
    for trial, metric_logs in (logs or {}).items():
        steps: dict[str, int] = {}
        for log in metric_logs:
            name = log.metric.name
            steps[name] = steps.get(name, -1) + 1
            columns["experiment"].append(spec.name)
            columns["trial"].append(trial)
            columns["metric"].append(name)
            columns["step"].append(steps[name])
            columns["value"].append(log.metric.value)
            columns["timestamp"].append(_epoch(log.time_stamp))
    return columns


_PBT_LABEL = "pbt.suggestion.katib.kubeflow.org/"


def _lineage(labels: dict[str, str]) -> dict[str, Any] | None:
    """A pbt trial's generation and parent, from the labels Katib's pbt service gives it."""
    generation = labels.get(_PBT_LABEL + "generation")
    if generation is None:
        return None
    return {"generation": int(generation), "parent": labels.get(_PBT_LABEL + "parent")}


def trial_status(trial: dict[str, Any]) -> str:
    """Katib's condition name for a Trial: its final condition, else Running or Pending."""
    conditions = {c.get("type"): c.get("status") == "True"
                  for c in (trial.get("status") or {}).get("conditions") or []}
    for name in _FINAL:
        if conditions.get(name):
            return name
    return "Running" if conditions.get("Running") else "Pending"


def trial_reason(trial: dict[str, Any]) -> str | None:
    """``reason: message`` of the condition that ended a Trial other than by succeeding.

    None for a Trial that succeeded or has not ended: its condition says nothing a user
    looks for (``TrialSucceeded: Trial has succeeded``), as a local trial's reason says
    nothing then.
    """
    status = trial_status(trial)
    if status not in _FINAL or status == "Succeeded":
        return None
    for condition in (trial.get("status") or {}).get("conditions") or []:
        if condition.get("type") == status:
            said = [condition.get("reason"), condition.get("message")]
            return ": ".join(str(s) for s in said if s) or None
    return None


def _value(metric: dict[str, Any] | None, strategy: str) -> float | str | None:
    """Katib's ``{min, max, latest}`` strings (``unavailable`` when unseen) → the trial's value."""
    if metric is None:
        return None
    seen = {k: None if metric.get(k) in (None, "unavailable") else metric[k]
            for k in ("min", "max", "latest")}
    return MetricValue(metric.get("name", ""), _number(seen["min"]), _number(seen["max"]),
                       seen["latest"]).value(strategy)


def _number(text: str | None) -> float | None:
    try:
        return None if text is None else float(text)
    except ValueError:
        return None


def _epoch(stamp: str | None) -> float | None:
    if not stamp:
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
