"""Metrics filters (``metricsFormat``) with the RE2 semantics of Katib's Go collector.

Katib's file-metrics-collector compiles each filter with Go's ``regexp`` (RE2 syntax: no
lookaround, no backreferences; ``\\w`` is ASCII only) and takes group 1 as the metric name
and group 2 as its value. Python's ``re`` accepts filters Go refuses and lets ``\\w`` match
``é``, so filters are compiled here with RE2 itself (google-re2).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import re2

from automl.spec.errors import Finding

if TYPE_CHECKING:
    from automl.spec.experiment import ExperimentSpec

__all__ = ["DEFAULT_FILTER", "FILTER_SEPARATOR", "compile_filter", "filter_advice",
           "filter_problems", "unreadable_metric_names"]

DEFAULT_FILTER = r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"
"""Katib's default filter (pkg/metricscollector/v1beta1/common/const.go ``DefaultFilter``)."""

FILTER_SEPARATOR = ";"
"""Katib passes the filters to its collector joined by this and splits them on it again
(pkg/webhook/v1beta1/pod/inject_webhook.go ``getMetricsCollectorArgs``,
cmd/metricscollector/v1beta1/file-metricscollector/main.go ``main``)."""

# The webhook's test for "two top subexpressions": two bracket pairs anywhere in the text.
_TWO_BRACKETS = re.compile(r"\(.*\).*\(.*\)")

# An unescaped \C: the one escape C++ RE2 knows and Go's regexp/syntax refuses.
_ANY_BYTE = re.compile(r"(?<!\\)(?:\\\\)*\\C")

# The default filter's name group: RE2's ASCII \w, "|" and "-".
_DEFAULT_NAME = re.compile(r"[0-9A-Za-z_|-]+")

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the error is raised; RE2's own stderr log would repeat it


def compile_filter(pattern: str) -> Any:
    """``pattern`` compiled by RE2, as Go's ``regexp.Compile`` would compile it.

    Raises:
        re2.error: RE2 cannot compile it (lookahead, backreference, ...).
    """
    return re2.compile(pattern, _OPTIONS)


def filter_problems(pattern: str) -> Iterator[str]:
    """Why Katib's collector could not use ``pattern`` as a filter (nothing when it can).

    Example:
        >>> next(filter_problems(r"(\\w+)=(?=\\d)(\\d+)"))
        "RE2 cannot compile it (Katib's collector uses Go's regexp): invalid perl operator: (?="
    """
    if FILTER_SEPARATOR in pattern:
        yield (f"contains {FILTER_SEPARATOR!r}: Katib joins the filters with it to hand them to "
               "its collector, which splits them there again and so would get other filters "
               "(inject_webhook.go getMetricsCollectorArgs); write it as \\x3B")
        return
    if _ANY_BYTE.search(pattern):
        yield "Go's regexp has no \\C (any byte), which RE2 in C++ would accept"
        return
    try:
        compile_filter(pattern)
    except re2.error as exc:
        message = exc.args[0] if exc.args else exc
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        yield f"RE2 cannot compile it (Katib's collector uses Go's regexp): {message}"
        return
    if not _TWO_BRACKETS.search(pattern):
        # Katib's webhook (validator.go, validateMetricsCollector) looks for two "(...)" in
        # the text; the collector then needs two groups
        yield ("two top subexpressions are required: the metric name, then its value, e.g. "
               "([\\w|-]+)=([+-]?\\d*(\\.\\d+)?)")


def filter_advice(spec: ExperimentSpec) -> Iterator[Finding]:
    """Filters Katib's webhook accepts (two bracket pairs) that its collector cannot read.

    Its file collector skips a match with fewer than two groups
    (pkg/metricscollector/v1beta1/file-metricscollector/file-metricscollector.go, parseLogs),
    as the local collector does: no metric is ever read through such a filter.
    """
    for i, pattern in enumerate(spec.trial.metrics_collector.filter):
        try:
            groups = compile_filter(pattern).groups
        except re2.error:
            continue  # refused by the rules
        if groups < 2 and _TWO_BRACKETS.search(pattern):
            yield Finding(("trial", "metrics_collector", "filter", i),
                          f"has {groups} capturing group{'s' * (groups != 1)}: Katib accepts "
                          "it, but its collector reads a metric only from a match with two "
                          "(name, value), so no metric is collected, here as on Katib")


def unreadable_metric_names(spec: ExperimentSpec) -> Iterator[Finding]:
    """Metrics the default filter can never read, here as on Katib: a name with a character
    outside ``[\\w|-]`` (RE2's ``\\w`` is ASCII: ``précision``, ``val.acc``, ``top 1``)."""
    mc = spec.trial.metrics_collector
    if mc.kind not in ("StdOut", "File") or mc.filter or mc.effective_format == "JSON":
        return
    for i, metric in enumerate(spec.objective.metrics):
        if not _DEFAULT_NAME.fullmatch(metric):
            yield Finding(("objective", "metric") if i == 0
                          else ("objective", "additional_metrics", i - 1),
                          f"{metric!r} is never collected: Katib's default filter reads names "
                          "of ASCII letters, digits, '_', '|' and '-' only; rename the metric "
                          "or give trial.metrics_collector.filter")
