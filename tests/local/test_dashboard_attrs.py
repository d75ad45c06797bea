"""optuna-dashboard shows an automl study as a person expects: named objective, Katib names,
Katib conditions and metrics as attributes of their own."""

from __future__ import annotations

import optuna

from automl.local.store import ATTR, open_storage
from tests.local.helpers import run, spec


def test_each_trial_carries_its_katib_name_condition_and_metrics(tmp_path) -> None:
    run(spec(budget={"max_trials": 3, "parallel_trials": 1}), tmp_path)
    study = optuna.load_study(study_name="t", storage=open_storage(None, tmp_path / ".automl"))
    assert study.metric_names == ["loss"]
    for trial in study.trials:
        record = trial.user_attrs[ATTR]
        assert trial.user_attrs["trial"] == record["name"] == f"t-{trial.number:04d}"
        assert trial.user_attrs["status"] == "Succeeded"
        assert trial.user_attrs["metrics.loss"] == record["objective"] == trial.value
        assert trial.user_attrs["metrics.accuracy"] == record["metrics"]["accuracy"]["min"]


def test_katib_conditions_optuna_has_no_state_for_are_attributes(tmp_path) -> None:
    run(spec(args=["--exit=3"], budget={"max_trials": 1, "parallel_trials": 1}), tmp_path)
    study = optuna.load_study(study_name="t", storage=open_storage(None, tmp_path / ".automl"))
    (trial,) = study.trials
    assert trial.state == optuna.trial.TrialState.FAIL
    assert trial.user_attrs["status"] == "Failed"
    assert "exit status 3" in trial.user_attrs["reason"]
