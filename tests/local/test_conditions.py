"""Trials cut short by their engine's stop count toward no budget; every other trial does."""

from __future__ import annotations

from pathlib import Path

import pytest

from automl.local.conditions import free_slots, verdict
from automl.results import Results
from automl.results.report import write_report
from automl.results.schema import observations_frame, trials_frame
from automl.state import Tally
from automl.state.cut import INTERRUPTED, STOPPED
from tests.local.helpers import records, run, spec

# What Ctrl-C or SIGTERM records (the engine kills the trial), and what the next run records
# for a trial whose engine was killed -9: the two ways a stop cuts a trial short.
CUT = {"killed-by-stop": {"status": "Killed", "reason": STOPPED},
       "interrupted-by-kill-9": {"status": "Failed", "reason": INTERRUPTED}}
# Trials that ended by themselves, whatever their condition: each counts.
OWN = {"failed": {"status": "Failed", "reason": "exit status 1; log: x"},
       "deadline": {"status": "Failed", "reason": "deadline of 5s passed (activeDeadlineSeconds)"},
       "unavailable": {"status": "MetricsUnavailable", "reason": "never reported loss"},
       "killed-otherwise": {"status": "Killed", "reason": "pod deleted"}}


def _tally(*trials: dict) -> Tally:
    tally = Tally(maximize=False, algorithm="random")
    for i, trial in enumerate(trials):
        tally.add({"name": f"t-{i:04d}", "objective": 0.5 if trial["status"] == "Succeeded"
                   else None, "params": {}, **trial})
    return tally


OK = {"status": "Succeeded", "reason": ""}
BUDGET = spec(budget={"max_trials": 3, "parallel_trials": 2, "max_failed_trials": 1})


@pytest.mark.parametrize("cut", CUT.values(), ids=CUT.keys())
def test_trials_cut_short_count_toward_neither_max_trials_nor_max_failed(cut) -> None:
    tally = _tally(OK, cut, cut, OK)
    assert verdict(BUDGET, tally) is None
    assert free_slots(BUDGET, tally, running=0) == 1  # one more replaces them
    assert free_slots(BUDGET, tally, running=1) == 0
    assert verdict(BUDGET, _tally(OK, cut, cut, OK, OK)) == (
        "Succeeded", "ExperimentMaxTrialsReached: 3 trials completed (2 more cut short by a "
                     "stopped engine, not counted)")


@pytest.mark.parametrize("own", OWN.values(), ids=OWN.keys())
def test_trials_that_ended_by_themselves_count_toward_the_budget(own) -> None:
    tally = _tally(OK, own, OK)
    # Katib's controller replaces a MetricsUnavailable trial (ReconcileTrials), yet counts it
    replaced = own["status"] == "MetricsUnavailable"
    assert free_slots(BUDGET, tally, running=0) == (1 if replaced else 0)
    failed = own["status"] in ("Failed", "MetricsUnavailable")
    assert verdict(BUDGET, tally) == (
        ("Failed", "ExperimentFailed: 1 trials failed (max 1)") if failed
        else ("Succeeded", "ExperimentMaxTrialsReached: 3 trials completed"))


@pytest.mark.parametrize("cut", CUT.values(), ids=CUT.keys())
def test_the_report_counts_the_budget_as_the_engine_does(tmp_path: Path, cut) -> None:
    experiment = spec(budget={"max_trials": 3, "parallel_trials": 2})
    rows = [{"experiment": "t", "trial": f"t-{i}", "params": {"x": "0.5", "y": "1"},
             "metrics": {}, "objective": 0.5 if t is OK else None, **t}
            for i, t in enumerate([OK, cut, cut, OK])]
    empty = observations_frame({"experiment": [], "trial": [], "metric": [], "step": [],
                                "value": [], "timestamp": []})
    page = write_report(Results(experiment, trials_frame(rows, experiment), empty),
                        tmp_path / "r.html").read_text(encoding="utf-8")
    assert ('<strong class="status">Running</strong> (not finished: run it again to resume)'
            in page)


def test_max_trials_that_end_hyperband_early_say_which_rungs_did_not_run(tmp_path) -> None:
    # eta 2, r_l 2, 2 parallel: bracket 1 runs 2 configurations, then the best again; bracket
    # 0 runs 2 more. Three trials end it after bracket 1, as on Katib.
    experiment = spec(algorithm={"name": "hyperband", "settings": {
                          "resource_name": "y", "eta": 2, "r_l": 2}},
                      parameters=[{"name": "x", "type": "double", "min": 0.0, "max": 1.0},
                                  {"name": "y", "type": "int", "min": 1, "max": 1}],
                      budget={"max_trials": 3, "parallel_trials": 2})
    summary = run(experiment, tmp_path)
    assert (summary.status, summary.reason) == (
        "Succeeded", "ExperimentMaxTrialsReached: 3 trials completed; hyperband did not run "
                     "every rung in full (bracket 0 rung 0: 0 of 2)")
    assert [r["hyperband"] for r in records(tmp_path)] == [
        {"bracket": 1, "rung": 0}, {"bracket": 1, "rung": 0}, {"bracket": 1, "rung": 1}]
