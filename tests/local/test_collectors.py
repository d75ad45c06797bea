"""Metrics collectors read what trials write exactly as Katib's collectors do."""

from __future__ import annotations

import pytest

from automl.local.metrics import (
    JsonLinesCollector,
    MetricsError,
    Observation,
    StdOutCollector,
    reduce_observations,
)
from tests.local.helpers import records, run, spec

METRICS = ["loss", "accuracy"]


def _parse(collector, lines):
    return [o for line in lines for o in collector.line(line)]


def test_stdout_default_regex_reads_katib_formats() -> None:
    found = _parse(StdOutCollector(METRICS), [
        "epoch 1 loss=0.5 accuracy = .75",
        "Score=-7.53e-05 loss=1e-3",
        "val_loss: 0.89",               # Katib's default filter ignores the colon form
        "nothing here",
    ])
    assert [(o.metric, o.value) for o in found] == [
        ("loss", "0.5"), ("accuracy", ".75"), ("loss", "1e-3")]


def test_stdout_only_exact_metric_names_count() -> None:
    found = _parse(StdOutCollector(["loss"]), ["val_loss=0.3 loss=0.4 train-loss=9"])
    assert [(o.metric, o.value) for o in found] == [("loss", "0.4")]


def test_a_leading_rfc3339_timestamp_stamps_the_line() -> None:
    (obs,) = _parse(StdOutCollector(["loss"]), ["2026-01-02T03:04:05Z loss=0.25"])
    assert obs.timestamp == 1767323045.0


def test_a_custom_filter_replaces_the_default() -> None:
    collector = StdOutCollector(["accuracy"], [r"{metricName: ([\w|-]+), metricValue: "
                                               r"((-?\d+)(\.\d+)?)}"])
    found = _parse(collector, ["{metricName: accuracy, metricValue: 0.9765}", "accuracy=0.1"])
    assert [(o.metric, o.value) for o in found] == [("accuracy", "0.9765")]


def test_json_lines_take_string_values_only_as_katib_does() -> None:
    found = _parse(JsonLinesCollector(METRICS), [
        '{"loss": "0.4", "accuracy": 0.9, "timestamp": 1700000000}', ""])
    assert [(o.metric, o.value, o.timestamp) for o in found] == [("loss", "0.4", 1700000000.0)]
    with pytest.raises(MetricsError, match="failed to parse the json object"):
        _parse(JsonLinesCollector(METRICS), ["loss=0.4"])


def test_strategies_min_max_latest_follow_katib() -> None:
    obs = [Observation("loss", "0.5", None), Observation("loss", "0.2", None),
           Observation("loss", "0.3", None), Observation("acc", "0.7", 20.0),
           Observation("acc", "0.9", 10.0), Observation("genotype", "Genotype(x)", None)]
    values = reduce_observations(obs, ["loss", "acc", "genotype", "missing"])
    assert (values["loss"].min, values["loss"].max, values["loss"].latest) == (0.2, 0.5, "0.3")
    assert values["acc"].latest == "0.7"  # the newest timestamp, not the last line
    assert values["genotype"].value("max") == "Genotype(x)"  # non-numeric: latest
    assert values["missing"].value("min") is None
    assert values["loss"].value("latest") == 0.3


@pytest.mark.parametrize(("collector", "args"), [
    ({"kind": "StdOut"}, []),
    ({"kind": "File", "path": "/var/log/katib/metrics.log"},
     ["--mode=file", "--path=/var/log/katib/metrics.log"]),
    ({"kind": "File", "path": "/katib/mnist.json", "format": "JSON"},
     ["--mode=json", "--path=/katib/mnist.json"]),
    ({"kind": "TensorFlowEvent", "path": "/logs/tb"}, ["--mode=tfevent", "--path=/logs/tb"]),
    ({"kind": "Push"}, ["--mode=push"]),
])
def test_every_collector_kind_gives_the_same_trial_values(tmp_path, collector, args) -> None:
    experiment = spec(args=["--epochs=3", *args], budget={"max_trials": 2, "parallel_trials": 2})
    trial = experiment.trial.model_copy(update={
        "metrics_collector": experiment.trial.metrics_collector.model_validate(collector)})
    run(experiment.model_copy(update={"trial": trial}), tmp_path)
    for r in records(tmp_path):
        assert r["status"] == "Succeeded", r["reason"]
        x, y = float(r["params"]["x"]), int(r["params"]["y"])
        loss = (x - 0.3) ** 2 + (y - 2) ** 2 / 10
        assert r["objective"] == pytest.approx(loss)  # min over the 3 epochs (3x, 2x, 1x loss)
        assert r["metrics"]["loss"]["max"] == pytest.approx(3 * loss)
        assert float(r["metrics"]["accuracy"]["latest"]) == pytest.approx(1 - loss)
