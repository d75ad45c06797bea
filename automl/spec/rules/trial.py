"""Rules on the trial template, its placeholders and the metrics collector."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from automl.spec.defaults import TRIAL_KINDS
from automl.spec.errors import Finding
from automl.spec.filters import filter_problems
from automl.spec.rules.experiment import int32_budget_findings
from automl.spec.trial import PLACEHOLDER, TrialTemplate, find_containers

if TYPE_CHECKING:
    from automl.spec.experiment import ExperimentSpec

__all__ = ["META_REFERENCE", "cluster_findings", "template_text", "trial_findings"]

META_REFERENCE = re.compile(
    r"\$\{trialSpec\.(Name|Namespace|Kind|APIVersion|Labels\[(.+)\]|Annotations\[(.+)\])\}"
)
"""A trial-metadata reference such as ``${trialSpec.Name}`` or ``${trialSpec.Labels[key]}``."""

_GPU = "nvidia.com/gpu"
_CONTAINER_FIELDS = ("image", "command", "args", "env", "resources", "working_dir",
                     "active_deadline_seconds")
_KNOWN_KINDS = ", ".join(TRIAL_KINDS)


def trial_findings(spec: ExperimentSpec) -> Iterator[Finding]:
    """Trial source, conditions, placeholders and metrics-collector rules."""
    yield from _source(spec.trial)
    yield from _trial_parameters(spec)
    yield from _collector(spec.trial)


def template_text(trial: TrialTemplate) -> str | None:
    """The template as the text Katib substitutes into (None when it lives in a ConfigMap)."""
    # ensure_ascii=False: a placeholder such as ${trialParameters.é} must stay findable.
    if trial.trial_spec is not None:
        return json.dumps(trial.trial_spec, ensure_ascii=False)
    if trial.config_map is not None:
        return None
    return json.dumps(trial.model_dump(include=set(_CONTAINER_FIELDS)), ensure_ascii=False)


def _source(trial: TrialTemplate) -> Iterator[Finding]:
    at = ("trial",)
    if not trial.primary_container_name.strip():
        yield Finding((*at, "primary_container_name"), "required")
    if trial.trial_spec is not None and trial.config_map is not None:
        yield Finding((*at, "config_map"), "give trial_spec or config_map, not both")
    if not trial.is_container:
        for field in _CONTAINER_FIELDS:
            if field in trial.model_fields_set and getattr(trial, field):
                yield Finding((*at, field),
                              "image/command/args/env/resources/working_dir describe the "
                              "trial's container; with trial_spec or config_map put them there")
    elif not trial.command:
        yield Finding((*at, "command"), "required: the program each trial runs, e.g. "
                                        "[python, train.py, --lr=${trialParameters.lr}]")
    if trial.active_deadline_seconds is not None and trial.active_deadline_seconds <= 0:
        yield Finding((*at, "active_deadline_seconds"), "expected an integer > 0")
    for key, amounts in trial.resources.items():
        if key not in ("limits", "requests"):
            yield Finding((*at, "resources", key), "expected limits or requests")
        gpus = str(amounts.get(_GPU, "0"))
        if not gpus.isdigit():  # Kubernetes refuses the pod: extended resources are counts
            yield Finding((*at, "resources", key, _GPU),
                          f"expected a whole number of GPUs, got {gpus!r}")
    if trial.trial_spec is not None:
        yield from _trial_spec(trial)
    if trial.kind is None and (trial.effective_success_condition is None
                               or trial.effective_failure_condition is None):
        what = ("a trial template from a ConfigMap" if trial.config_map is not None
                else f"kind {trial.trial_spec.get('kind')!r}" if trial.trial_spec else "")
        yield Finding((*at, "success_condition"),
                      f"success_condition and failure_condition are required for {what} "
                      f"(Katib defaults them only for {_KNOWN_KINDS})")


def _trial_spec(trial: TrialTemplate) -> Iterator[Finding]:
    at = ("trial", "trial_spec")
    body = trial.trial_spec or {}
    for field in ("apiVersion", "kind"):
        if not body.get(field):
            yield Finding((*at, field), "required: the Kubernetes resource the trial creates")
    metadata = body.get("metadata") or {}
    for field in ("name", "namespace"):
        if isinstance(metadata, dict) and field in metadata:
            yield Finding((*at, "metadata", field),
                          "must be omitted: Katib names each trial's resource after the trial")
    names = [c.get("name") for c in find_containers(body)]
    # TrainJob keeps its containers in the training runtime, not in the trial spec.
    if trial.kind is not None and names and trial.primary_container_name not in names:
        yield Finding(("trial", "primary_container_name"),
                      f"no container named {trial.primary_container_name!r} in trial_spec "
                      f"(containers: {', '.join(map(str, names)) or 'none'})")


def _trial_parameters(spec: ExperimentSpec) -> Iterator[Finding]:
    at = ("trial", "trial_parameters")
    explicit = spec.trial.trial_parameters is not None
    params = spec.trial_parameters
    assignments = spec.assignment_names
    text = template_text(spec.trial)
    labels, annotations = _metadata(spec.trial)
    names: list[str] = []
    used: dict[str, int] = {}
    for i, tp in enumerate(params):
        here = (*at, i) if explicit else ("trial",)
        if not tp.name or not tp.reference or "{" in tp.name or "}" in tp.name:
            yield Finding(here, "name and reference are required, and name must not contain "
                                "'{' or '}'")
            continue
        if tp.name in names:
            yield Finding((*here, "name"), f"trial parameter {tp.name!r} is defined twice")
        names.append(tp.name)
        meta = META_REFERENCE.fullmatch(tp.reference)
        if meta is not None:
            yield from _meta(here, spec.trial, meta, labels, annotations)
        elif tp.reference.startswith("${"):
            yield Finding((*here, "reference"),
                          f"{tp.reference!r} is not trial metadata; expected ${{trialSpec.Name}}"
                          ", Namespace, Kind, APIVersion, Labels[key] or Annotations[key]")
        elif tp.reference in used:
            yield Finding((*here, "reference"),
                          f"{tp.reference!r} is referenced twice; each assignment fills exactly "
                          "one trial parameter")
        elif tp.reference not in assignments:
            yield Finding((*here, "reference"),
                          f"{tp.reference!r} is not assigned by the algorithm; expected one of: "
                          + (", ".join(assignments) or "(none)"))
        else:
            used[tp.reference] = i
        placeholder = "${trialParameters." + tp.name + "}"
        if text is not None and placeholder not in text:
            yield Finding(here, f"the trial never uses {placeholder}: put it in the command, "
                                "args or env")
    for name in assignments:
        if name not in used:
            where = at if explicit else ("trial",)
            yield Finding(where, f"{name!r} is assigned to every trial but no trial parameter "
                                 "references it (Katib refuses to render such a trial)")
    local = spec.trial.local
    if local is not None:
        local_text = json.dumps(local.model_dump(), ensure_ascii=False)
        if not local.command:
            yield Finding(("trial", "local", "command"), "required: the program to run locally")
        for name in sorted({m for m in PLACEHOLDER.findall(local_text) if m not in names}):
            yield Finding(("trial", "local"), f"${{trialParameters.{name}}} is used but "
                                              f"{name!r} is not a trial parameter")
    if text is not None:
        leftover = sorted({m for m in PLACEHOLDER.findall(text) if m not in names})
        for name in leftover:
            yield Finding(("trial",), f"${{trialParameters.{name}}} is used but {name!r} is "
                                      "not a trial parameter; defined: " + (", ".join(names)
                                                                             or "(none)"))


def _metadata(trial: TrialTemplate) -> tuple[dict, dict]:
    metadata = (trial.trial_spec or {}).get("metadata") or {}
    if not isinstance(metadata, dict):
        return {}, {}
    return metadata.get("labels") or {}, metadata.get("annotations") or {}


def _meta(here: tuple, trial: TrialTemplate, match: re.Match, labels: dict,
          annotations: dict) -> Iterator[Finding]:
    label, annotation = match.group(2), match.group(3)
    if label is not None and label not in labels:
        yield Finding((*here, "reference"),
                      f"the trial template has no label {label!r} (Katib fails to render it)")
    if annotation is not None and annotation not in annotations:
        yield Finding((*here, "reference"),
                      f"the trial template has no annotation {annotation!r} (Katib fails to "
                      "render it)")


def _collector(trial: TrialTemplate) -> Iterator[Finding]:
    mc = trial.metrics_collector
    at = ("trial", "metrics_collector")
    if mc.kind == "PrometheusMetric":
        yield Finding((*at, "kind"), "Katib's default katib-config has no PrometheusMetric "
                                     "collector; use StdOut, File, TensorFlowEvent or Push")
        return
    uses_path = {"File": "File", "TensorFlowEvent": "Directory", "Custom": mc.path_kind}
    if mc.kind not in uses_path and mc.path is not None:
        yield Finding((*at, "path"), f"the {mc.kind} collector reads no path")
    if mc.path_kind is not None and mc.kind != "Custom":
        yield Finding((*at, "path_kind"), "only the Custom collector takes path_kind")
    path = mc.effective_path
    if path is not None and not posixpath.isabs(path):
        yield Finding((*at, "path"), f"expected an absolute path in the trial's container, "
                                     f"got {path!r}")
    if mc.format is not None and mc.kind != "File":
        yield Finding((*at, "format"), "only the File collector takes a format")
    if mc.kind == "Custom" and not mc.container:
        yield Finding((*at, "container"), "required for the Custom collector: the collector "
                                          "container")
    if mc.container is not None and mc.kind != "Custom":
        yield Finding((*at, "container"), "only the Custom collector takes a container")
    if mc.filter and mc.kind in ("Push", "None", "TensorFlowEvent", "Custom"):
        yield Finding((*at, "filter"), f"the {mc.kind} collector does not parse text; filter "
                                       "applies to StdOut and File")
    elif mc.filter and mc.effective_format == "JSON":
        yield Finding((*at, "filter"), "must be empty when format is JSON")
    for i, pattern in enumerate(mc.filter):
        for problem in filter_problems(pattern):
            yield Finding((*at, "filter", i), problem)


def _metric_names(spec: ExperimentSpec) -> Iterator[tuple[tuple[str | int, ...], str]]:
    yield ("objective", "metric"), spec.objective.metric
    for i, name in enumerate(spec.objective.additional_metrics):
        yield ("objective", "additional_metrics", i), name


def cluster_findings(spec: ExperimentSpec) -> Iterator[Finding]:
    """What only a cluster needs: an image, a collector that exists in Katib, int32 budgets."""
    yield from int32_budget_findings(spec)
    if spec.trial.is_container and not spec.trial.image:
        yield Finding(("trial", "image"), "required to run on Katib: the container image each "
                                          "trial runs in (the local engine ignores it)")
    if spec.trial.metrics_collector.kind == "None":
        yield Finding(("trial", "metrics_collector", "kind"),
                      "Katib v1beta1 has no None collector; use Push (the trial reports its "
                      "own metrics) or StdOut")
