"""Hyperband's schedule: rungs and resources as Katib's service computes them."""

from __future__ import annotations

import pytest

from automl.local.hyperband import WAIT, Hyperband
from tests.local.helpers import spec

PARAMS = [{"name": "x", "type": "double", "min": 0.0, "max": 1.0},
          {"name": "epochs", "type": "int", "min": 1, "max": 1}]


def _hyperband(r_l, eta, parallel) -> Hyperband:
    return Hyperband(spec(algorithm={"name": "hyperband", "settings": {
                              "resource_name": "epochs", "r_l": r_l, "eta": eta}},
                          parameters=PARAMS,
                          budget={"max_trials": 100, "parallel_trials": parallel}))


# Katib's service (pkg/suggestion/v1beta1/hyperband/service.py): the master bracket runs
# int(r) with r = r_l * eta**-s (HyperbandService._make_master_bracket); HyperBandParam.generate
# stores r as text and HyperBandParam.convert reads it back with int(float(...)), so the child
# rungs run int(int(r) * eta**i) (HyperbandService._make_child_bracket). Pinned from running
# the service under Katib's controller arithmetic with parallelTrialCount 1 (s, i, resource):
KATIB_RUNGS = {
    (10, 3): [(2, 0, 1), (2, 1, 3), (2, 2, 9), (1, 0, 3), (1, 1, 9), (0, 0, 10)],
    (2, 2): [(1, 0, 1), (1, 1, 2), (0, 0, 2)],
    (20, 2): [(4, 0, 1), (4, 1, 2), (4, 2, 4), (4, 3, 8), (4, 4, 16), (3, 0, 2), (3, 1, 4),
              (3, 2, 8), (3, 3, 16), (2, 0, 5), (2, 1, 10), (2, 2, 20), (1, 0, 10),
              (1, 1, 20), (0, 0, 20)],
}


@pytest.mark.parametrize(("r_l", "eta"), list(KATIB_RUNGS))
def test_rung_resources_are_katibs_integer_arithmetic(r_l, eta) -> None:
    plan = _hyperband(r_l, eta, 1).plan
    assert [(r.bracket, r.rung, r.resource) for r in plan] == KATIB_RUNGS[(r_l, eta)]


def _record(tag, status, objective, x):
    return {"hyperband": tag, "status": status, "objective": objective,
            "params": {"x": str(x), "epochs": "1"}}


def test_only_succeeded_trials_with_a_value_are_promoted() -> None:
    # _get_top_trial ranks SUCCEEDED trials only (an early-stopped value comes from fewer
    # epochs than the rung's resource)
    hb = _hyperband(10, 3, 9)  # bracket 2: 9 trials, then the best 3, then the best 1
    first = {"bracket": 2, "rung": 0}
    finished = [_record(first, "Succeeded", 0.5 + i / 100, i) for i in range(6)]
    finished += [_record(first, "Failed", 0.01, 6),  # reported once, then crashed
                 _record(first, "MetricsUnavailable", None, 7),
                 _record(first, "EarlyStopped", 0.3, 8)]
    promoted = []
    for _ in range(3):
        rung, params = hb.next(finished + promoted, [])
        assert (rung.bracket, rung.rung, rung.resource) == (2, 1, 3)
        promoted.append(_record(rung.tag, "Succeeded", 1.0, params["x"]))
    assert [p["params"]["x"] for p in promoted] == ["0", "1", "2"]
    assert hb.next(finished, [{"bracket": 2, "rung": 0}]) == WAIT


def test_a_trial_that_did_not_succeed_in_a_rung_before_the_last_says_katib_stalls() -> None:
    hb = _hyperband(10, 3, 9)
    note = hb.note({"bracket": 2, "rung": 0}, "Failed")
    assert note == ("on Katib, hyperband stalls here: its service promotes from a rung only "
                    "when every trial of it succeeded")
    assert hb.note({"bracket": 2, "rung": 0}, "Succeeded") is None
    assert hb.note({"bracket": 2, "rung": 2}, "Failed") is None  # nothing follows it


@pytest.mark.parametrize(("status", "reason"), [
    ("Killed", "stopped by the experiment"),
    ("Failed", "interrupted: the engine stopped while this trial ran")])
def test_a_trial_cut_by_the_engines_stop_runs_again_with_its_configuration(status,
                                                                          reason) -> None:
    hb = _hyperband(10, 3, 9)
    first = {"bracket": 2, "rung": 0}
    finished = [_record(first, "Succeeded", 0.5 + i / 100, i) for i in range(9)]
    second = {"bracket": 2, "rung": 1}
    finished += [_record(second, "Succeeded", 0.4, 0), {**_record(second, status, None, 1),
                                                        "reason": reason}]
    rung, params = hb.next(finished, [])
    assert (rung.tag, params) == (second, {"x": "1", "epochs": 3})  # the cut one, again
    assert hb.next(finished, [second])[1] == {"x": "2", "epochs": 3}  # then the next best
    assert hb.ending(finished) == ("ExperimentSuggestionEndReached: hyperband stopped with "
                                   "rungs not run in full (bracket 2 rung 1: 1 of 3; bracket 2 "
                                   "rung 2: 0 of 1; bracket 1 rung 0: 0 of 9; bracket 1 rung 1: "
                                   "0 of 3; bracket 0 rung 0: 0 of 9)")


def test_every_bracket_ran_is_said_only_when_each_rung_is_recorded() -> None:
    hb = _hyperband(2, 2, 2)  # (1, 0) x2 at 1, (1, 1) x1 at 2, (0, 0) x2 at 2
    finished = [_record({"bracket": 1, "rung": 0}, "Succeeded", 0.5, 0),
                _record({"bracket": 1, "rung": 0}, "Failed", None, 1),  # one survivor
                _record({"bracket": 1, "rung": 1}, "Succeeded", 0.4, 0),
                _record({"bracket": 0, "rung": 0}, "Succeeded", 0.4, 2)]
    assert hb.ending(finished).endswith("(bracket 0 rung 0: 1 of 2)")
    finished.append(_record({"bracket": 0, "rung": 0}, "Succeeded", 0.4, 3))
    assert hb.next(finished, []) is None
    assert hb.ending(finished) == "ExperimentSuggestionEndReached: hyperband ran every bracket"
