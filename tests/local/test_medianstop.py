"""Katib's medianstop rule, kept incrementally, is the mean of the succeeded trials' heads."""

from __future__ import annotations

import pytest

from automl.local.medianstop import MedianStop, StopRule
from tests.local.helpers import spec


def _spec(**settings):
    return spec(early_stopping={"name": "medianstop", "settings": settings})


def test_no_rule_until_min_trials_required_trials_succeeded() -> None:
    stop = MedianStop(_spec(min_trials_required="2", start_step="2"))
    stop.add({"status": "Succeeded", "history": [4.0, 2.0, 100.0]})
    stop.add({"status": "Failed", "history": [0.0, 0.0]})
    stop.add({"status": "Succeeded", "history": []})  # reported nothing: not counted
    assert stop.rule() is None
    stop.add({"status": "Succeeded", "history": [1.0]})
    # averages of the first start_step values: 3.0 and 1.0; minimize stops above the mean
    assert stop.rule() == StopRule("loss", 2.0, "greater", 2)


def test_defaults_are_katibs_and_maximize_stops_below_the_mean() -> None:
    experiment = spec(objective={"metric": "acc", "type": "maximize"},
                      early_stopping={"name": "medianstop"})
    stop = MedianStop(experiment)
    for value in (0.2, 0.4, 0.6):
        stop.add({"status": "Succeeded", "history": [value] * 5})
    assert stop.rule() == StopRule("acc", pytest.approx(0.4), "less", 4)


def test_without_medianstop_there_is_never_a_rule() -> None:
    stop = MedianStop(spec())
    for _ in range(5):
        stop.add({"status": "Succeeded", "history": [1.0]})
    assert stop.rule() is None


@pytest.mark.parametrize(("kind", "stops"), [("StdOut", True), ("File", True),
                                             ("Push", False), ("TensorFlowEvent", False)])
def test_medianstop_gives_rules_only_where_katibs_file_collector_would_apply_them(
        kind, stops) -> None:
    # cmd/metricscollector/v1beta1/file-metricscollector/main.go is the only collector that
    # reads stop rules; Katib accepts medianstop with the others and never stops a trial
    collector = {"kind": kind, **({"path": "/var/log/katib/tfevent/"}
                                  if kind == "TensorFlowEvent" else {})}
    experiment = spec(early_stopping={"name": "medianstop", "settings": {
        "min_trials_required": "1"}}, trial={**spec().trial.model_dump(exclude_defaults=True),
                                             "metrics_collector": collector})
    stop = MedianStop(experiment)
    stop.add({"status": "Succeeded", "history": [0.5, 0.4, 0.3, 0.2]})
    assert (stop.rule() is not None) == stops
