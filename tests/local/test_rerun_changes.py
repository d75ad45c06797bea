"""A rerun under a name that exists is tied to what the study ran: a changed definition is
refused naming the fields that differ (before → now), a larger budget continues only as Katib
allows, and each refusal says what to do from where the user is (automl.tune or a file)."""

from __future__ import annotations

import optuna
import pytest

import automl
from automl.errors import AutomlError
from automl.local.store import ATTR, open_storage, open_study

_SPEC = {
    "name": "quad",
    "objective": {"metric": "loss", "type": "minimize"},
    "algorithm": {"name": "random", "settings": {"random_state": 1}},
    "budget": {"max_trials": 4},
    "parameters": [{"name": "x", "type": "double", "min": 0, "max": 5},
                   {"name": "y", "type": "int", "min": 1, "max": 3}],
    "trial": {"image": "python:3.11-slim", "command": ["python", "train.py", "${trialParameters.x}",
                                                       "${trialParameters.y}"]},
}


def _spec(**changes):
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in _SPEC.items()}
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = data
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value
    return automl.load(data)


def _open(storage, spec, identity=None):
    return open_study(spec, storage, optuna.samplers.RandomSampler(), None, identity or {})


@pytest.mark.parametrize(("changes", "expected"), [
    ({"objective__type": "maximize"},
     "a different objective (objective.type: minimize → maximize)"),
    ({"objective__goal": 0.5}, "a different objective (objective.goal: none → 0.5)"),
    ({"algorithm__name": "tpe"}, "a different algorithm (algorithm.name: random → tpe)"),
    ({"algorithm__settings": {"random_state": 2}},
     "a different algorithm (algorithm.settings.random_state: 1 → 2)"),
    ({"parameters": [{"name": "x", "type": "double", "min": 0, "max": 50},
                     {"name": "y", "type": "int", "min": 1, "max": 3}]},
     "a different search space (parameters[0].max: 5.0 → 50.0)"),
    ({"trial__image": "python:3.12"},
     "a different trial template (trial.image: python:3.11-slim → python:3.12)"),
    ({"resume_policy": "LongRunning"},
     "a different resume policy (resume_policy: Never → LongRunning)"),
], ids=["objective-type", "goal-added", "algorithm", "algorithm-setting", "range",
        "trial-image", "resume-policy"])
def test_a_changed_definition_is_refused_naming_the_field_before_and_now(tmp_path, changes,
                                                                         expected):
    storage = open_storage(str(tmp_path / "s.journal"))
    _open(storage, _spec())
    with pytest.raises(AutomlError) as caught:
        _open(storage, _spec(**changes))
    message = str(caught.value)
    assert f"'quad' already exists in this storage with {expected}; only the budget" in message
    assert message.endswith("Use another name, or start fresh with 'automl delete quad'")
    assert "\n" not in message


def test_many_changes_list_the_first_three_and_count_the_rest(tmp_path):
    storage = open_storage(str(tmp_path / "s.journal"))
    _open(storage, _spec())
    changed = _spec(objective__type="maximize", algorithm__name="tpe", trial__image="x:1",
                    parameters=[{"name": "x", "type": "double", "min": 1, "max": 6},
                                {"name": "y", "type": "int", "min": 1, "max": 3}])
    with pytest.raises(AutomlError) as caught:
        _open(storage, changed)
    assert ("with a different objective, algorithm, search space and trial template "
            "(objective.type: minimize → maximize, algorithm.name: random → tpe, "
            "parameters[0].min: 0.0 → 1.0, and 2 more)") in str(caught.value)


def test_a_changed_function_is_refused_with_advice_for_automl_tune(tmp_path):
    storage = open_storage(str(tmp_path / "s.journal"))
    _open(storage, _spec(), {"function": "f 0123456789abcdef"})
    with pytest.raises(AutomlError) as caught:
        _open(storage, _spec(), {"function": "f fedcba9876543210"})
    assert str(caught.value).endswith(
        "with a different function (f: its code, the code it calls, its fixed values or the "
        "data it reads); only the budget may change between runs (as in Katib). Call "
        "automl.tune() with another name, or start fresh with 'automl delete quad'")


@pytest.mark.parametrize(("identity", "advice"), [
    ({}, "start it anew with 'resume_policy: LongRunning' in the experiment file under "
         "another name (or after 'automl delete quad')"),
    ({"function": "f 0123456789abcdef"},
     "start it anew with automl.tune(..., resume_policy='LongRunning') under another name "
     "(or after 'automl delete quad')"),
], ids=["experiment-file", "tune"])
def test_a_larger_budget_after_max_trials_with_policy_never_says_how_to_set_the_policy(
        tmp_path, identity, advice):
    storage = open_storage(str(tmp_path / "s.journal"))
    study = _open(storage, _spec(), identity)
    study.set_user_attr(ATTR, {**study.user_attrs[ATTR], "status": "Succeeded",
                               "reason": "ExperimentMaxTrialsReached"})
    with pytest.raises(AutomlError) as caught:
        _open(storage, _spec(budget={"max_trials": 8}), identity)
    assert "resume_policy is Never" in str(caught.value)
    assert advice in str(caught.value)


def test_tune_with_resume_policy_long_running_continues_with_a_larger_max_trial_count(
        tmp_path):
    def tune(trials):
        return automl.tune("more", lambda p: float(p["x"]), {"x": {"type": "double", "min": 0,
                                                                    "max": 1}},
                           objective_type="minimize", max_trial_count=trials,
                           resume_policy="LongRunning", progress=False, root=tmp_path / "a")

    assert tune(2).counts == {"Succeeded": 2}
    assert tune(3).counts == {"Succeeded": 3}
