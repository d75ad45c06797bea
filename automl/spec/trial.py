"""What a trial runs and how its metrics are collected (Katib's ``trialTemplate``)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, model_validator

from automl.spec._base import SpecModel
from automl.spec.defaults import (
    DEFAULT_PRIMARY_CONTAINER,
    FILE_METRICS_PATH,
    TFEVENT_DIRECTORY,
    TrialKind,
    trial_kind,
)

__all__ = [
    "DEFAULT_FILTER",
    "LOCAL_ANNOTATION",
    "PLACEHOLDER",
    "ConfigMapSource",
    "LocalTrial",
    "MetricsCollector",
    "TrialParameter",
    "TrialTemplate",
    "find_containers",
]

PLACEHOLDER = re.compile(r"\$\{trialParameters\.(.+?)\}")
"""Katib's placeholder regex; group 1 is the trial parameter name."""

DEFAULT_FILTER = r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"
"""Katib's default metrics regex (TEXT format): group 1 the name, group 2 the value."""

LOCAL_ANNOTATION = "automl.kubeflow.org/local-trial"
"""The Experiment annotation that carries ``trial.local`` through Katib."""

CollectorKind = Literal["StdOut", "File", "TensorFlowEvent", "Push", "Custom", "PrometheusMetric",
                        "None"]


def find_containers(node: Any) -> list[dict[str, Any]]:
    """Every container (and init container) anywhere in a Kubernetes object, in order."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                found += [c for c in value if isinstance(c, dict)]
            else:
                found += find_containers(value)
    elif isinstance(node, list):
        for item in node:
            found += find_containers(item)
    return found


class MetricsCollector(SpecModel):
    """How metrics leave the trial (Katib's ``metricsCollectorSpec``).

    Attributes:
        kind: ``StdOut`` (default: lines like ``loss=0.3`` on stdout), ``File`` (a file the
            trial writes, ``TEXT`` or ``JSON``), ``TensorFlowEvent`` (event files in a
            directory), ``Push`` (the trial calls ``report_metrics``), ``Custom`` (your own
            collector container), or ``None`` (collect nothing; local runs only).
        path: File: the metrics file (default ``/var/log/katib/metrics.log``);
            TensorFlowEvent: the event directory (default ``/var/log/katib/tfevent/``);
            Custom: an optional path shared with the collector.
        path_kind: Custom only: whether ``path`` is a ``File`` or a ``Directory``.
        format: File only: ``TEXT`` (default) or ``JSON``.
        filter: RE2 regexes (as Katib's Go collector compiles them; no ``;``, which Katib
            splits filters on) with two groups, metric name then value (``metricsFormat``); the
            default is Katib's ``([\\w|-]+)\\s*=\\s*([+-]?\\d*(\\.\\d+)?([Ee][+-]?\\d+)?)``.
        container: Custom only: the collector container, as a Kubernetes Container.

    Example:
        >>> MetricsCollector(kind="File", path="/tmp/metrics.json", format="JSON")
    """

    kind: CollectorKind = "StdOut"
    path: str | None = None
    path_kind: Literal["File", "Directory"] | None = None
    format: Literal["TEXT", "JSON"] | None = None
    filter: list[str] = Field(default_factory=list)
    container: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _drop_defaults(self) -> MetricsCollector:
        if (self.kind, self.path) in (("File", FILE_METRICS_PATH),
                                      ("TensorFlowEvent", TFEVENT_DIRECTORY)):
            object.__setattr__(self, "path", None)
        if self.kind == "File" and self.format == "TEXT":
            object.__setattr__(self, "format", None)
        if self.kind == "Custom" and self.path is not None and self.path_kind is None:
            object.__setattr__(self, "path_kind", "File")
        return self

    @property
    def effective_path(self) -> str | None:
        """The path Katib uses, its default filled in."""
        if self.path is None and self.kind == "File":
            return FILE_METRICS_PATH
        if self.path is None and self.kind == "TensorFlowEvent":
            return TFEVENT_DIRECTORY
        return self.path

    @property
    def effective_format(self) -> str | None:
        """``TEXT``/``JSON`` for File (TEXT by default), None for other kinds."""
        return (self.format or "TEXT") if self.kind == "File" else self.format


class TrialParameter(SpecModel):
    """A placeholder of the trial template and what fills it (Katib's ``trialParameters``).

    Attributes:
        name: Written ``${trialParameters.<name>}`` in the command, args or env.
        reference: A parameter name, a NAS assignment (``architecture``, ``nn_config``,
            ``algorithm-settings``, ``search-space``, ``num-layers``), or trial metadata such as
            ``${trialSpec.Name}``.
        description: Free text.
    """

    name: str
    reference: str
    description: str | None = None


class ConfigMapSource(SpecModel):
    """A trial template stored in a Kubernetes ConfigMap (Katib's ``configMap`` source)."""

    name: str
    namespace: str
    template_path: str


class LocalTrial(SpecModel):
    """How the local engine runs the trial when the template's command exists only in its image.

    Placeholders work as in the template. Katib never sees this (it travels as an annotation).

    Example:
        >>> LocalTrial(command=["python", "mnist.py", "--lr=${trialParameters.learningRate}"])
    """

    command: list[str] = Field(default_factory=list)
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    working_dir: str | None = None


class TrialTemplate(SpecModel):
    """What each trial runs.

    Either the short form (``image``, ``command``, ``args``, ``env``, ``resources``,
    ``working_dir``), which becomes a ``batch/v1`` Job with one container, or a whole
    Kubernetes object in ``trial_spec`` (any kind Katib runs: Job, TFJob, PyTorchJob, ...), or a
    ``config_map`` that holds one.

    Attributes:
        image: Container image (used on the cluster; the local engine ignores it).
        command: The program and its arguments, with ``${trialParameters.x}`` placeholders.
        args: More arguments, appended to ``command``.
        env: Environment variables.
        resources: Kubernetes resources, e.g. ``{limits: {cpu: "1", memory: 2Gi}}``.
        working_dir: The container's working directory.
        active_deadline_seconds: A trial running longer fails (the Job's
            ``activeDeadlineSeconds``; with ``trial_spec``, set it there).
        trial_spec: A raw Kubernetes object (Katib's ``trialSpec``).
        config_map: A ConfigMap holding the template.
        primary_container_name: The container that trains and reports metrics.
        primary_pod_labels: Only pods with these labels get the metrics collector.
        success_condition: GJSON condition on the trial resource (defaults per kind).
        failure_condition: GJSON condition on the trial resource (defaults per kind).
        trial_parameters: Placeholder names and what fills them; by default one per
            search-space parameter (or NAS assignment) with the same name.
        retain: Keep the trial's resources after it completes.
        metrics_collector: How metrics are collected.
        local: What the local engine runs instead of the container's command (for commands
            that exist only inside the image).

    Example:
        >>> TrialTemplate(image="python:3.11-slim",
        ...               command=["python", "train.py", "--lr=${trialParameters.lr}"])
    """

    image: str | None = None
    command: list[str] = Field(default_factory=list)
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    resources: dict[str, dict[str, str]] = Field(default_factory=dict)
    working_dir: str | None = None
    active_deadline_seconds: int | None = None
    trial_spec: dict[str, Any] | None = None
    config_map: ConfigMapSource | None = None
    primary_container_name: str = DEFAULT_PRIMARY_CONTAINER
    primary_pod_labels: dict[str, str] | None = None
    success_condition: str | None = None
    failure_condition: str | None = None
    trial_parameters: list[TrialParameter] | None = None
    retain: bool = False
    metrics_collector: MetricsCollector = Field(default_factory=MetricsCollector)
    local: LocalTrial | None = None

    @model_validator(mode="after")
    def _drop_defaults(self) -> TrialTemplate:
        known = self.kind
        if known is not None:
            for field, default in (
                ("success_condition", known.success_condition),
                ("failure_condition", known.failure_condition),
                ("primary_pod_labels", known.primary_pod_labels),
            ):
                if getattr(self, field) == default:
                    object.__setattr__(self, field, None)
        return self

    @property
    def deadline(self) -> int | None:
        """Seconds a trial may run: ``active_deadline_seconds``, or a Job trial_spec's own."""
        if self.active_deadline_seconds is not None or self.trial_spec is None:
            return self.active_deadline_seconds
        if (self.trial_spec.get("apiVersion"), self.trial_spec.get("kind")) != ("batch/v1", "Job"):
            return None
        value = (self.trial_spec.get("spec") or {}).get("activeDeadlineSeconds")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def is_container(self) -> bool:
        """True for the short form (image/command/...), which becomes a Job."""
        return self.trial_spec is None and self.config_map is None

    @property
    def kind(self) -> TrialKind | None:
        """The trial resource kind when Katib knows it (None for a ConfigMap or other kinds)."""
        if self.is_container:
            return trial_kind("Job")
        if self.trial_spec is not None:
            return trial_kind(self.trial_spec.get("kind"))
        return None

    @property
    def effective_success_condition(self) -> str | None:
        """The success condition Katib uses (explicit, else the kind's default)."""
        if self.success_condition is None and self.kind is not None:
            return self.kind.success_condition
        return self.success_condition

    @property
    def effective_failure_condition(self) -> str | None:
        """The failure condition Katib uses (explicit, else the kind's default)."""
        if self.failure_condition is None and self.kind is not None:
            return self.kind.failure_condition
        return self.failure_condition

    @property
    def effective_primary_pod_labels(self) -> dict[str, str] | None:
        """The primary pod labels Katib uses (explicit, else the kind's default)."""
        if self.primary_pod_labels is None and self.kind is not None:
            return self.kind.primary_pod_labels
        return self.primary_pod_labels
