"""Metrics filters are Katib's: RE2 (Go's regexp) compiles them, and ';' cannot be in one.

Katib compiles filters with Go's ``regexp`` (pkg/metricscollector/v1beta1/file-metricscollector/
file-metricscollector.go ``GetFilterRegexpList``, which ignores the error and then uses a nil
regexp) and hands them to its collector joined by ';', split there again
(pkg/webhook/v1beta1/pod/inject_webhook.go ``getMetricsCollectorArgs``,
cmd/metricscollector/v1beta1/file-metricscollector/main.go ``main``).
"""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from automl.cli import app
from tests.conftest import KATIB, needs_katib

EXAMPLE = KATIB / "examples/metrics-collector/file-metrics-collector.yaml"


def _with_filter(tmp_path, pattern):
    experiment = yaml.safe_load(EXAMPLE.read_text())
    experiment["spec"]["metricsCollectorSpec"]["source"]["filter"]["metricsFormat"] = [
        r"([\w|-]+)=(\d+)", pattern]
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(experiment, sort_keys=False))
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1)
                if "metricsFormat" in text) + 2
    return path, line


@pytest.mark.parametrize(("pattern", "problem"), [
    (r"(\w+)=(?=\d)(\d+)", "RE2 cannot compile it (Katib's collector uses Go's regexp): "
                           "invalid perl operator: (?="),
    (r"(\w+)=(?<!x)(\d+)", "RE2 cannot compile it (Katib's collector uses Go's regexp): "
                           "invalid perl operator: (?<!"),
    (r"(\w+)=(\d)\2", "RE2 cannot compile it (Katib's collector uses Go's regexp): "
                      "invalid escape sequence: \\2"),
    (r"(\w+)=\C(\d+)", "Go's regexp has no \\C (any byte), which RE2 in C++ would accept"),
    (r"(\w+)=([^;]+)", "contains ';': Katib joins the filters with it"),
    (r"(\w+);(\d+)", "contains ';': Katib joins the filters with it"),
])
@needs_katib
def test_validate_refuses_a_filter_katibs_collector_cannot_use_with_a_located_error(
        tmp_path, pattern, problem) -> None:
    path, line = _with_filter(tmp_path, pattern)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    (error,) = [e for e in result.stderr.splitlines() if e.startswith("error:")]
    assert error.startswith(f"error: {path}:{line}: spec.metricsCollectorSpec.source.filter."
                            f"metricsFormat[1]: {problem}")


@needs_katib
@pytest.mark.parametrize("example", ["nas/darts-cpu.yaml",
                                     "metrics-collector/file-metrics-collector.yaml",
                                     "kubeflow-training-operator/xgboostjob-lightgbm.yaml"])
def test_katibs_example_filters_are_accepted(example) -> None:
    result = CliRunner().invoke(app, ["validate", str(KATIB / "examples" / example)])
    assert result.exit_code == 0, result.output


def test_validate_warns_of_a_metric_name_the_default_filter_never_reads(tmp_path) -> None:
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump({
        "name": "names", "objective": {"metric": "précision", "type": "maximize",
                                       "additional_metrics": ["loss", "val.acc"]},
        "parameters": [{"name": "x", "type": "double", "min": 0, "max": 1}],
        "trial": {"command": ["python", "t.py", "--x=${trialParameters.x}"]}},
        allow_unicode=True, sort_keys=False))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    warnings = [w.split(": ", 3)[2:] for w in result.stderr.splitlines()]
    assert warnings == [
        ["objective.metric", "'précision' is never collected: Katib's default filter reads "
         "names of ASCII letters, digits, '_', '|' and '-' only; rename the metric or give "
         "trial.metrics_collector.filter"],
        ["objective.additional_metrics[1]", "'val.acc' is never collected: Katib's default "
         "filter reads names of ASCII letters, digits, '_', '|' and '-' only; rename the "
         "metric or give trial.metrics_collector.filter"]]
