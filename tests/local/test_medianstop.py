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
