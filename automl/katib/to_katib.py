"""ExperimentSpec → Katib Experiment (kubeflow-katib-api's ``V1beta1Experiment``) and YAML."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from automl.katib.container import to_job
from automl.katib.from_katib import API_VERSION, model_data
from automl.spec import ExperimentSpec, Parameter, SpecError, check
from automl.spec.errors import render_path
from automl.spec.rules.trial import cluster_findings
from automl.spec.settings import setting_text
from automl.spec.source import Location, locate
from automl.spec.trial import LOCAL_ANNOTATION

if TYPE_CHECKING:
    from kubeflow_katib_api.models import V1beta1Experiment

__all__ = ["katib_dict", "katib_str", "to_katib", "to_yaml"]


def to_katib(spec: ExperimentSpec) -> V1beta1Experiment:
    """Compile ``spec`` to the Katib Experiment that ``kubectl apply`` would take.

    Every default Katib's webhook would fill in is written out (metric strategies, trial
    conditions, distributions, resume policy), so the object means the same on any Katib.

    Raises:
        SpecError: When Katib would refuse the experiment or it cannot run on a cluster
            (e.g. no image).

    Example:
        >>> experiment = to_katib(automl.load("examples/quickstart/experiment.yaml"))
        >>> experiment.spec.algorithm.algorithm_name
        'tpe'
    """
    from kubeflow_katib_api.models import V1beta1Experiment

    findings = [*check(spec), *cluster_findings(spec)]
    if findings:
        raise SpecError(locate(findings, lambda p: (render_path(p), Location())))
    return V1beta1Experiment.from_dict(katib_dict(spec))


def to_yaml(experiment: V1beta1Experiment | ExperimentSpec) -> str:
    """The YAML of a Katib Experiment, for ``kubectl apply -f``.

    A spec is compiled with :func:`to_katib` first (and so checked); its YAML keeps Katib's
    usual field order (objective, algorithm, budget, search space, trial template).
    """
    if isinstance(experiment, ExperimentSpec):
        to_katib(experiment)
        data = katib_dict(experiment)
    else:
        data = model_data(experiment)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def katib_dict(spec: ExperimentSpec) -> dict[str, Any]:
    """The Katib Experiment as plain data (camelCase keys, every value Katib defaults set)."""
    body: dict[str, Any] = {"objective": _objective(spec)}
    body["algorithm"] = _algorithm(spec.algorithm.name, spec.algorithm.settings)
    if spec.early_stopping is not None:
        body["earlyStopping"] = _algorithm(spec.early_stopping.name, spec.early_stopping.settings)
    budget = spec.budget
    body["parallelTrialCount"] = budget.parallel_trials
    if budget.max_trials is not None:
        body["maxTrialCount"] = budget.max_trials
    if budget.max_failed_trials is not None:
        body["maxFailedTrialCount"] = budget.max_failed_trials
    body["resumePolicy"] = spec.resume_policy
    if spec.parameters:
        body["parameters"] = [_parameter(p) for p in spec.parameters]
    if spec.nas is not None:
        graph = {k: v for k, v in (("numLayers", spec.nas.graph.num_layers),
                                   ("inputSizes", spec.nas.graph.input_sizes),
                                   ("outputSizes", spec.nas.graph.output_sizes)) if v}
        body["nasConfig"] = {
            "graphConfig": graph,
            "operations": [{"operationType": op.type,
                            "parameters": [_parameter(p, nas=True) for p in op.parameters]}
                           for op in spec.nas.operations],
        }
    body["metricsCollectorSpec"] = _collector(spec)
    body["trialTemplate"] = _trial_template(spec)
    metadata: dict[str, Any] = {"name": spec.name}
    if spec.namespace is not None:
        metadata["namespace"] = spec.namespace
    if spec.trial.local is not None:
        metadata["annotations"] = {LOCAL_ANNOTATION: spec.trial.local.model_dump_json(
            exclude_defaults=True)}
    return {"apiVersion": API_VERSION, "kind": "Experiment", "metadata": metadata, "spec": body}


def katib_str(value: Any) -> str:
    """A value as Katib writes it: a string, numbers without a needless ``.0``."""
    return setting_text(value)


def _objective(spec: ExperimentSpec) -> dict[str, Any]:
    o = spec.objective
    out: dict[str, Any] = {"type": o.type, "objectiveMetricName": o.metric}
    if o.goal is not None:
        out["goal"] = o.goal
    if o.additional_metrics:
        out["additionalMetricNames"] = list(o.additional_metrics)
    out["metricStrategies"] = [{"name": m, "value": o.strategy(m)} for m in o.metrics]
    return out


def _algorithm(name: str, settings: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"algorithmName": name}
    if settings:
        out["algorithmSettings"] = [{"name": k, "value": katib_str(v)}
                                    for k, v in settings.items()]
    return out


def _parameter(p: Parameter, nas: bool = False) -> dict[str, Any]:
    """A parameter as Katib writes it.

    Katib's webhook fills in ``distribution: uniform`` for spec.parameters only, not for a
    NAS operation's parameters, so there it is written only when it says something.
    """
    space: dict[str, Any] = {}
    for field in ("min", "max", "step"):
        value = getattr(p, field)
        if value is not None:
            space[field] = katib_str(value)
    if p.values is not None:
        space["list"] = [katib_str(v) for v in p.values]
    if not (nas and p.distribution == "uniform"):
        space["distribution"] = p.distribution
    return {"name": p.name, "parameterType": p.type, "feasibleSpace": space}


def _collector(spec: ExperimentSpec) -> dict[str, Any]:
    mc = spec.trial.metrics_collector
    collector: dict[str, Any] = {"kind": mc.kind}
    if mc.container is not None:
        collector["customCollector"] = mc.container
    source: dict[str, Any] = {}
    path = mc.effective_path
    if path is not None:
        kind = {"File": "File", "TensorFlowEvent": "Directory"}.get(mc.kind, mc.path_kind)
        fsp = {"path": path, "kind": kind}
        if mc.effective_format is not None:
            fsp["format"] = mc.effective_format
        source["fileSystemPath"] = fsp
    if mc.filter:
        source["filter"] = {"metricsFormat": list(mc.filter)}
    out: dict[str, Any] = {"collector": collector}
    if source:
        out["source"] = source
    return out


def _trial_template(spec: ExperimentSpec) -> dict[str, Any]:
    t = spec.trial
    out: dict[str, Any] = {"primaryContainerName": t.primary_container_name}
    out["trialParameters"] = [tp.model_dump(exclude_none=True) for tp in spec.trial_parameters]
    if t.config_map is not None:
        out["configMap"] = {"configMapName": t.config_map.name,
                            "configMapNamespace": t.config_map.namespace,
                            "templatePath": t.config_map.template_path}
    else:
        out["trialSpec"] = t.trial_spec if t.trial_spec is not None else to_job(t)
    for key, value in (("successCondition", t.effective_success_condition),
                       ("failureCondition", t.effective_failure_condition),
                       ("primaryPodLabels", t.effective_primary_pod_labels)):
        if value is not None:
            out[key] = value
    if t.retain:
        out["retain"] = True
    return out
