"""Any Katib Experiment → ExperimentSpec, with errors at the Katib field and line."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from automl.katib._reader import KatibReader
from automl.katib.container import container_form
from automl.spec.build import build
from automl.spec.errors import Finding, Path, SpecError, render_path
from automl.spec.source import Location, SourceMap, locate, parse_yaml, read_yaml
from automl.spec.trial import LOCAL_ANNOTATION

if TYPE_CHECKING:
    from automl.spec import ExperimentSpec

__all__ = ["API_VERSION", "from_katib", "model_data", "spec_from_katib_data"]

API_VERSION = "kubeflow.org/v1beta1"

_SPEC_KEYS = ("objective", "algorithm", "earlyStopping", "parallelTrialCount", "maxTrialCount",
              "maxFailedTrialCount", "parameters", "nasConfig", "metricsCollectorSpec",
              "trialTemplate", "resumePolicy")
_PARAMETER_KEYS = ("name", "parameterType", "feasibleSpace")
_SPACE_KEYS = {"min": "min", "max": "max", "step": "step", "list": "list",
               "distribution": "distribution"}


def from_katib(experiment: Any) -> ExperimentSpec:
    """Read a Katib Experiment into an ExperimentSpec.

    Args:
        experiment: A ``V1beta1Experiment`` (kubeflow-katib-api's or kubeflow-katib's), a
            mapping as ``kubectl get -o yaml`` prints it, YAML text, or a path
            (``os.PathLike``) to a YAML file.

    Returns:
        The experiment, with Katib's defaults understood (a Katib field left out and the same
        field set to its default give equal specs).

    Raises:
        SpecError: When Katib would refuse the experiment, at admission or later when its
            suggestion service validates it; each problem names the Katib field path and line.

    Example:
        >>> spec = from_katib(Path("random.yaml"))
        >>> spec.parameters[0].name
        'lr'
    """
    if isinstance(experiment, os.PathLike):
        data, source = read_yaml(experiment)
    elif isinstance(experiment, str):
        data, source = parse_yaml(experiment)
    elif isinstance(experiment, dict):
        data, source = experiment, SourceMap()
    else:
        data, source = model_data(experiment), SourceMap()
    return spec_from_katib_data(data, source)


def model_data(experiment: Any) -> dict[str, Any]:
    """A Katib model object as the data ``kubectl get -o yaml`` shows (camelCase keys).

    Takes kubeflow-katib-api's pydantic models (what :func:`automl.to_katib` returns and the
    Kubeflow SDK uses) and kubeflow-katib's older OpenAPI models, where that package is installed.

    Raises:
        TypeError: For any other object.
    """
    if callable(getattr(experiment, "model_dump", None)):
        return experiment.to_dict()
    if type(experiment).__module__.startswith("kubeflow.katib."):
        from kubeflow.katib import ApiClient

        return ApiClient().sanitize_for_serialization(experiment)
    raise TypeError(f"expected a Katib Experiment (kubeflow-katib-api's V1beta1Experiment), a "
                    f"mapping, YAML text or a path, not {type(experiment).__name__}")


def spec_from_katib_data(data: Any, source: SourceMap, *,
                         cluster: bool = False) -> ExperimentSpec:
    """Convert loaded Katib Experiment data; see :func:`from_katib`."""
    reader = KatibReader()
    ours = _experiment(reader, data)

    def katib_locator(path: Path) -> tuple[str, Location]:
        for end in range(len(path), -1, -1):
            katib = reader.origin.get(tuple(path[:end]))
            if katib is not None:
                full = (*katib, *path[end:])
                return render_path(full), source.locate(full)
        return render_path(path), source.locate(())

    if reader.findings:
        raise SpecError(locate(reader.findings, lambda p: (render_path(p), source.locate(p))))
    return build(ours, katib_locator, cluster=cluster)


def _experiment(r: KatibReader, data: Any) -> dict[str, Any]:
    top = r.mapping(data, ())
    if top.get("apiVersion") != API_VERSION or top.get("kind") != "Experiment":
        r.findings.append(Finding(
            ("kind",), f"expected a Katib Experiment (apiVersion {API_VERSION}, kind "
                       f"Experiment), got apiVersion {top.get('apiVersion')!r}, kind "
                       f"{top.get('kind')!r}"))
        return {}
    ours: dict[str, Any] = {}
    meta = r.mapping(top.get("metadata"), ("metadata",))
    r.copy(meta, "name", ours, ("name",), ("metadata",))
    r.copy(meta, "namespace", ours, ("namespace",), ("metadata",))
    at: Path = ("spec",)
    spec = r.mapping(top.get("spec"), at, _SPEC_KEYS)
    if "objective" in spec:
        ours["objective"] = _objective(r, spec["objective"], (*at, "objective"))
    r.origin[("objective",)] = (*at, "objective")
    ours["algorithm"] = _algorithm(r, spec.get("algorithm"), (*at, "algorithm"), "algorithm",
                                   "algorithmName", "algorithmSettings")
    if "earlyStopping" in spec:
        ours["early_stopping"] = _algorithm(r, spec["earlyStopping"], (*at, "earlyStopping"),
                                            "early_stopping", "algorithmName",
                                            "algorithmSettings")
    budget: dict[str, Any] = {}
    for katib_key, our_key in (("maxTrialCount", "max_trials"),
                               ("parallelTrialCount", "parallel_trials"),
                               ("maxFailedTrialCount", "max_failed_trials")):
        r.copy(spec, katib_key, budget, ("budget", our_key), at)
    ours["budget"] = budget
    if "parameters" in spec:
        ours["parameters"] = _parameters(r, spec["parameters"], (*at, "parameters"),
                                         ("parameters",))
    if "nasConfig" in spec:
        ours["nas"] = _nas(r, spec["nasConfig"], (*at, "nasConfig"))
    r.copy(spec, "resumePolicy", ours, ("resume_policy",), at)
    trial = _trial(r, spec.get("trialTemplate"), (*at, "trialTemplate"))
    trial["metrics_collector"] = _collector(r, spec.get("metricsCollectorSpec"),
                                            (*at, "metricsCollectorSpec"))
    local = r.mapping(meta.get("annotations"), ("metadata", "annotations")).get(LOCAL_ANNOTATION)
    if local is not None:
        try:
            trial["local"] = json.loads(local)
        except (TypeError, json.JSONDecodeError):
            r.findings.append(Finding(("metadata", "annotations", LOCAL_ANNOTATION),
                                      "expected the JSON automl writes"))
        r.origin[("trial", "local")] = ("metadata", "annotations", LOCAL_ANNOTATION)
    ours["trial"] = trial
    return ours


def _objective(r: KatibReader, value: Any, at: Path) -> dict[str, Any]:
    o = r.mapping(value, at, ("type", "goal", "objectiveMetricName", "additionalMetricNames",
                              "metricStrategies"))
    out: dict[str, Any] = {}
    for katib_key, our_key in (("objectiveMetricName", "metric"), ("type", "type"),
                               ("goal", "goal"), ("additionalMetricNames",
                                                  "additional_metrics")):
        r.copy(o, katib_key, out, ("objective", our_key), at)
    if "metricStrategies" in o:
        out["metric_strategies"] = r.named_values(
            o["metricStrategies"], (*at, "metricStrategies"), ("objective", "metric_strategies"))
    return out


def _algorithm(r: KatibReader, value: Any, at: Path, ours: str, name_key: str,
               settings_key: str) -> dict[str, Any]:
    a = r.mapping(value, at, (name_key, settings_key))
    out: dict[str, Any] = {}
    r.origin[(ours,)] = at
    r.copy(a, name_key, out, (ours, "name"), at)
    raw = r.named_values(a.get(settings_key), (*at, settings_key), (ours, "settings"))
    r.origin[(ours, "settings")] = (*at, settings_key)
    out["settings"] = raw  # the model types known settings (Katib writes them as strings)
    return out


def _parameters(r: KatibReader, value: Any, at: Path, ours: Path) -> list[dict[str, Any]]:
    result = []
    for i, item in enumerate(r.sequence(value, at)):
        here, mine = (*at, i), (*ours, i)
        p = r.mapping(item, here, _PARAMETER_KEYS)
        r.origin[mine] = here
        out: dict[str, Any] = {}
        r.copy(p, "name", out, (*mine, "name"), here)
        r.copy(p, "parameterType", out, (*mine, "type"), here)
        space_at = (*here, "feasibleSpace")
        space = r.mapping(p.get("feasibleSpace"), space_at, tuple(_SPACE_KEYS))
        for katib_key, our_key in _SPACE_KEYS.items():
            r.copy(space, katib_key, out, (*mine, our_key), space_at)
        result.append(out)
    return result


def _nas(r: KatibReader, value: Any, at: Path) -> dict[str, Any]:
    nas = r.mapping(value, at, ("graphConfig", "operations"))
    r.origin[("nas",)] = at
    graph_at = (*at, "graphConfig")
    graph_in = r.mapping(nas.get("graphConfig"), graph_at,
                         ("numLayers", "inputSizes", "outputSizes"))
    graph: dict[str, Any] = {}
    for katib_key, our_key in (("numLayers", "num_layers"), ("inputSizes", "input_sizes"),
                               ("outputSizes", "output_sizes")):
        r.copy(graph_in, katib_key, graph, ("nas", "graph", our_key), graph_at)
    operations = []
    ops_at = (*at, "operations")
    r.origin[("nas", "operations")] = ops_at
    for i, item in enumerate(r.sequence(nas.get("operations"), ops_at)):
        op = r.mapping(item, (*ops_at, i), ("operationType", "parameters"))
        out: dict[str, Any] = {}
        r.copy(op, "operationType", out, ("nas", "operations", i, "type"), (*ops_at, i))
        out["parameters"] = _parameters(r, op.get("parameters"), (*ops_at, i, "parameters"),
                                        ("nas", "operations", i, "parameters"))
        r.origin[("nas", "operations", i, "parameters")] = (*ops_at, i, "parameters")
        operations.append(out)
    return {"graph": graph, "operations": operations}


def _trial(r: KatibReader, value: Any, at: Path) -> dict[str, Any]:
    t = r.mapping(value, at, ("trialSpec", "configMap", "trialParameters",
                              "primaryContainerName", "primaryPodLabels", "successCondition",
                              "failureCondition", "retain"))
    r.origin[("trial",)] = at
    if value is not None and not str(t.get("primaryContainerName") or "").strip():
        # Katib's webhook (validateTrialTemplate) defaults nothing here: it refuses
        r.findings.append(Finding((*at, "primaryContainerName"), "must be specified"))
    out: dict[str, Any] = {}
    for katib_key, our_key in (("primaryContainerName", "primary_container_name"),
                               ("primaryPodLabels", "primary_pod_labels"),
                               ("successCondition", "success_condition"),
                               ("failureCondition", "failure_condition"),
                               ("retain", "retain"), ("trialParameters", "trial_parameters")):
        r.copy(t, katib_key, out, ("trial", our_key), at)
    if "configMap" in t:
        cm_at = (*at, "configMap")
        cm = r.mapping(t["configMap"], cm_at, ("configMapName", "configMapNamespace",
                                                "templatePath"))
        config_map: dict[str, Any] = {}
        for katib_key, our_key in (("configMapName", "name"),
                                   ("configMapNamespace", "namespace"),
                                   ("templatePath", "template_path")):
            r.copy(cm, katib_key, config_map, ("trial", "config_map", our_key), cm_at)
        out["config_map"] = config_map
    if "trialSpec" in t:
        spec_at = (*at, "trialSpec")
        primary = t.get("primaryContainerName")
        simple = container_form(t["trialSpec"], primary)
        if simple is None:
            out["trial_spec"] = t["trialSpec"]
            r.origin[("trial", "trial_spec")] = spec_at
        else:
            fields, origins = simple
            out.update(fields)
            for ours, katib in origins.items():
                r.origin[("trial", *ours)] = (*spec_at, *katib)
    return out


def _collector(r: KatibReader, value: Any, at: Path) -> dict[str, Any]:
    m = r.mapping(value, at, ("collector", "source"))
    ours: Path = ("trial", "metrics_collector")
    r.origin[ours] = at
    collector = r.mapping(m.get("collector"), (*at, "collector"), ("kind", "customCollector"))
    out: dict[str, Any] = {}
    r.copy(collector, "kind", out, (*ours, "kind"), (*at, "collector"))
    r.copy(collector, "customCollector", out, (*ours, "container"), (*at, "collector"))
    source_at = (*at, "source")
    source = r.mapping(m.get("source"), source_at, ("fileSystemPath", "filter", "httpGet"))
    if "httpGet" in source and out.get("kind") != "PrometheusMetric":
        r.findings.append(Finding((*source_at, "httpGet"),
                                   "httpGet is read only by the PrometheusMetric collector"))
    fsp_at = (*source_at, "fileSystemPath")
    fsp = r.mapping(source.get("fileSystemPath"), fsp_at, ("path", "kind", "format"))
    r.copy(fsp, "path", out, (*ours, "path"), fsp_at)
    r.copy(fsp, "format", out, (*ours, "format"), fsp_at)
    kind = out.get("kind", "StdOut")
    expected = {"File": "File", "TensorFlowEvent": "Directory"}.get(kind)
    if "kind" in fsp:
        if kind == "Custom":
            r.copy(fsp, "kind", out, (*ours, "path_kind"), fsp_at)
        elif expected is not None and fsp["kind"] != expected:
            r.findings.append(Finding((*fsp_at, "kind"),
                                       f"the {kind} collector reads a {expected}, got "
                                       f"{fsp['kind']!r}"))
    filter_at = (*source_at, "filter")
    flt = r.mapping(source.get("filter"), filter_at, ("metricsFormat",))
    r.copy(flt, "metricsFormat", out, (*ours, "filter"), filter_at)
    return out
