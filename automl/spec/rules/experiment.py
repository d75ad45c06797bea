"""Rules on the name, budget, objective, algorithm and early stopping."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from automl.spec.algorithms import ALGORITHMS, EARLY_STOPPING
from automl.spec.errors import NAME, Finding, Path, field_ref
from automl.spec.settings import Setting

if TYPE_CHECKING:
    from automl.spec.experiment import ExperimentSpec

__all__ = ["check_settings", "early_stopping_advice", "experiment_findings",
           "int32_budget_findings", "name_problem"]

# Katib's webhook matches this as a prefix; Kubernetes needs the whole name to be a DNS label
# (trial Jobs and their pods are named after it), so the whole name must match.
_NAME = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_MAX_NAME = 40
_MAX = field_ref("budget", "max_trials")
_INT32_MAX = 2**31 - 1  # Katib's maxTrialCount, parallelTrialCount, maxFailedTrialCount


def experiment_findings(spec: ExperimentSpec) -> Iterator[Finding]:
    """Name, budget, objective, algorithm and early-stopping rules."""
    yield from _name(spec)
    yield from _budget(spec)
    yield from _objective(spec)
    yield from _algorithm(spec)
    yield from _early_stopping(spec)


def name_problem(name: str) -> str | None:
    """Why ``name`` is no valid Katib experiment name, or None when it is one."""
    if _NAME.fullmatch(name) and len(name) <= _MAX_NAME:
        return None
    return (f"{name!r} is not a valid Katib experiment name: expected lower-case letters, "
            "digits and '-', starting with a letter, ending with a letter or digit, at most "
            f"{_MAX_NAME} characters (e.g. 'digits-svm')")


def _name(spec: ExperimentSpec) -> Iterator[Finding]:
    problem = name_problem(spec.name)
    if problem is not None:
        yield Finding(("name",), problem)
    if spec.namespace is not None and (not _NAME.fullmatch(spec.namespace)
                                       or len(spec.namespace) > 63):
        yield Finding(("namespace",), f"{spec.namespace!r} is not a valid Kubernetes namespace")


def _budget(spec: ExperimentSpec) -> Iterator[Finding]:
    b = spec.budget
    if b.max_failed_trials is not None and b.max_failed_trials < 0:
        yield Finding(("budget", "max_failed_trials"), "expected an integer >= 0")
    if b.max_trials is not None and b.max_trials <= 0:
        yield Finding(("budget", "max_trials"), "expected an integer > 0")
        return
    if b.parallel_trials <= 0:
        yield Finding(("budget", "parallel_trials"), "expected an integer > 0")
    if b.max_trials is None:
        return
    if b.max_failed_trials is not None and b.max_failed_trials > b.max_trials:
        yield Finding(("budget", "max_failed_trials"),
                      f"must be <= {_MAX} ({b.max_trials})")
    if b.parallel_trials > b.max_trials:
        default = "" if "parallel_trials" in b.model_fields_set else " (Katib's default)"
        yield Finding(("budget", "parallel_trials"),
                      f"{b.parallel_trials}{default} must be <= {_MAX} ({b.max_trials})")


def int32_budget_findings(spec: ExperimentSpec) -> Iterator[Finding]:
    """Budgets a cluster cannot hold: Katib's budget fields are int32 (the local engine can)."""
    for field in ("max_trials", "parallel_trials", "max_failed_trials"):
        value = getattr(spec.budget, field)
        if value is not None and value > _INT32_MAX:
            yield Finding(("budget", field), f"{value} is more than Katib can hold (an int32: "
                                             f"at most {_INT32_MAX})")


def _objective(spec: ExperimentSpec) -> Iterator[Finding]:
    o = spec.objective
    if not o.metric.strip():
        yield Finding(("objective", "metric"), "required: the metric name the trial reports")
    for i, name in enumerate(o.additional_metrics):
        if name == o.metric:
            yield Finding(("objective", "additional_metrics", i),
                          "must not repeat the objective metric")
        elif name in o.additional_metrics[:i]:
            yield Finding(("objective", "additional_metrics", i), f"{name!r} is listed twice")
    for name in o.metric_strategies:
        if name not in o.metrics:
            yield Finding(("objective", "metric_strategies", name, NAME),
                          f"{name!r} is neither the objective metric nor an additional metric")


def _algorithm(spec: ExperimentSpec) -> Iterator[Finding]:
    algorithm = ALGORITHMS.get(spec.algorithm.name)
    if algorithm is None:
        yield Finding(("algorithm", "name"),
                      f"unknown algorithm {spec.algorithm.name!r}; expected one of: "
                      + ", ".join(sorted(ALGORITHMS)))
        return
    yield from check_settings(("algorithm", "settings"), algorithm.name,
                              spec.algorithm.settings, algorithm.settings,
                              ignores_unknown=algorithm.ignores_unknown)
    for rule in algorithm.checks:
        yield from rule(spec)


def _early_stopping(spec: ExperimentSpec) -> Iterator[Finding]:
    es = spec.early_stopping
    if es is None:
        return
    settings = EARLY_STOPPING.get(es.name)
    if settings is None:
        yield Finding(("early_stopping", "name"),
                      f"unknown early-stopping algorithm {es.name!r}; expected one of: "
                      + ", ".join(sorted(EARLY_STOPPING)))
        return
    yield from check_settings(("early_stopping", "settings"), es.name, es.settings, settings)


def early_stopping_advice(spec: ExperimentSpec) -> Iterator[Finding]:
    """Early stopping Katib accepts but never applies: a collector other than StdOut or File.

    Katib's stop rules reach only its file metrics collector
    (cmd/metricscollector/v1beta1/file-metricscollector/main.go); with Push no collector runs,
    and the TensorFlowEvent collector reads no rule. A local run does the same.
    """
    kind = spec.trial.metrics_collector.kind
    if spec.early_stopping is not None and kind not in ("StdOut", "File"):
        yield Finding(("early_stopping",),
                      f"Katib applies early stopping only with the StdOut or File metrics "
                      f"collector; with {field_ref('trial', 'metrics_collector', 'kind')} "
                      f"{kind} no trial is stopped early (nor here)")


def check_settings(path: Path, algorithm: str, given: Mapping[str, Any],
                   known: Mapping[str, Setting], *,
                   ignores_unknown: bool = False) -> Iterator[Finding]:
    """Unknown (unless the service ignores them), missing and invalid settings of ``algorithm``.

    An unknown setting is reported on its name, which is what is wrong.
    """
    for name, value in given.items():
        setting = known.get(name)
        if setting is None:
            if not ignores_unknown:
                accepted = ", ".join(sorted(known)) if known else "none"
                yield Finding((*path, name, NAME),
                              f"unknown setting {name!r} for {algorithm}; expected one of: "
                              f"{accepted}")
            continue
        problem = setting.problem(value)
        if problem is not None:
            yield Finding((*path, name), problem)
    for name, setting in known.items():
        if setting.required and name not in given:
            yield Finding(path, f"{algorithm} requires the setting {name!r} "
                                f"({setting.expected})")
