"""What a Katib Experiment means, independent of how it is written.

An independent reading of Katib's mutating webhook (FACTS.md, section a): fill every default,
then normalise spelling (numbers written as strings, ``[{name, value}]`` lists, empty lists).
Two Experiments with equal ``meaning`` are treated identically by Katib.
"""

from __future__ import annotations

import copy
from typing import Any

_JOB_OK = 'status.conditions.#(type=="Complete")#|#(status=="True")#'
_FAILED = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
_OP_OK = 'status.conditions.#(type=="Succeeded")#|#(status=="True")#'
_MASTER = {"training.kubeflow.org/job-role": "master"}
_CONDITIONS = {
    ("batch/v1", "Job"): (_JOB_OK, _FAILED, None),
    ("kubeflow.org/v1", "TFJob"): (_OP_OK, _FAILED, _MASTER),
    ("kubeflow.org/v1", "PyTorchJob"): (_OP_OK, _FAILED, _MASTER),
    ("kubeflow.org/v1", "XGBoostJob"): (_OP_OK, _FAILED, _MASTER),
    ("kubeflow.org/v1", "MPIJob"): (_OP_OK, _FAILED, _MASTER),
    ("trainer.kubeflow.org/v1alpha1", "TrainJob"): (
        _JOB_OK, _FAILED, {"jobset.sigs.k8s.io/replicatedjob-name": "node",
                           "batch.kubernetes.io/job-completion-index": "0"}),
}


def with_defaults(experiment: dict[str, Any]) -> dict[str, Any]:
    """The Experiment as Katib stores it after its mutating webhook."""
    e = copy.deepcopy(experiment)
    spec = e["spec"]
    spec.setdefault("parallelTrialCount", 3)
    spec.setdefault("resumePolicy", "Never")
    objective = spec["objective"]
    default = "min" if objective["type"] == "minimize" else "max"
    strategies = list(objective.get("metricStrategies") or [])
    named = {s["name"] for s in strategies}
    for metric in [objective["objectiveMetricName"], *objective.get("additionalMetricNames", [])]:
        if metric not in named:
            strategies.append({"name": metric, "value": default})
    objective["metricStrategies"] = strategies
    collector = spec.setdefault("metricsCollectorSpec", {}).setdefault("collector", {})
    collector.setdefault("kind", "StdOut")
    if collector["kind"] in ("File", "TensorFlowEvent"):
        fsp = spec["metricsCollectorSpec"].setdefault("source", {}).setdefault(
            "fileSystemPath", {})
        if collector["kind"] == "File":
            fsp.setdefault("kind", "File")
            fsp.setdefault("path", "/var/log/katib/metrics.log")
            fsp.setdefault("format", "TEXT")
        else:
            fsp.setdefault("kind", "Directory")
            fsp.setdefault("path", "/var/log/katib/tfevent/")
    # setDefaultParameterDistribution: spec.parameters only, not nasConfig's operations
    for p in spec.get("parameters") or []:
        p.setdefault("feasibleSpace", {}).setdefault("distribution", "uniform")
    template = spec["trialTemplate"]
    trial_spec = template.get("trialSpec")
    if trial_spec is not None:
        known = _CONDITIONS.get((trial_spec.get("apiVersion"), trial_spec.get("kind")))
        if known is not None:
            template.setdefault("successCondition", known[0])
            template.setdefault("failureCondition", known[1])
            if known[2] is not None:
                template.setdefault("primaryPodLabels", known[2])
    return e


def meaning(experiment: dict[str, Any]) -> dict[str, Any]:
    """Defaults filled, then spelling normalised (see the module docstring)."""
    e = with_defaults(experiment)
    spec = e["spec"]
    objective = spec["objective"]
    objective["metricStrategies"] = {s["name"]: s["value"] for s in objective["metricStrategies"]}
    if "goal" in objective:
        objective["goal"] = float(objective["goal"])
    for key in ("algorithm", "earlyStopping"):
        if key in spec:
            settings = spec[key].pop("algorithmSettings", None) or []
            spec[key]["settings"] = {s["name"]: _number(s["value"]) for s in settings}
    for p in _all_parameters(spec):
        space = p["feasibleSpace"]
        for field in ("min", "max", "step"):
            if field in space:
                space[field] = _number(space[field])
        if "list" in space:
            space["list"] = [_number(v) if p["parameterType"] != "categorical" else str(v)
                             for v in space["list"]]
    template = spec["trialTemplate"]
    if not template.get("retain"):
        template.pop("retain", None)
    for tp in template.get("trialParameters") or []:
        if not tp.get("description"):
            tp.pop("description", None)
    if "trialSpec" in template:
        template["trialSpec"] = _quantities(template["trialSpec"])
    meta = e.get("metadata") or {}
    return {"metadata": {k: meta[k] for k in ("name", "namespace") if k in meta},
            "spec": _drop_empty(spec)}


def _all_parameters(spec: dict[str, Any]) -> list[dict[str, Any]]:
    parameters = list(spec.get("parameters") or [])
    for op in (spec.get("nasConfig") or {}).get("operations") or []:
        parameters += op.get("parameters") or []
    return parameters


def _number(value: Any) -> Any:
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _quantities(node: Any) -> Any:
    """Kubernetes quantities may be written as numbers or strings; compare them as strings."""
    if isinstance(node, dict):
        if set(node) <= {"limits", "requests"} and all(isinstance(v, dict) for v in node.values()):
            return {k: {r: str(q) for r, q in v.items()} for k, v in node.items()}
        return {k: _quantities(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_quantities(v) for v in node]
    return node


def _drop_empty(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _drop_empty(v) for k, v in node.items() if v not in ([], {}, None)}
    if isinstance(node, list):
        return [_drop_empty(v) for v in node]
    return node
