"""The local engine runs experiments with Katib's semantics."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest
from optuna.trial import TrialState

from tests.conftest import needs_katib
from tests.local.helpers import TRIAL, records, run, spec

HAS_TORCH = importlib.util.find_spec("torch") is not None


@pytest.mark.parametrize(("algorithm", "settings", "step"), [
    ("random", {"random_state": 3}, None),
    ("tpe", {"random_state": 3, "n_EI_candidates": 8}, None),
    ("multivariate-tpe", {"random_state": 3}, None),
    ("grid", {"random_state": 3}, 0.25),
    ("cmaes", {"random_state": 3, "sigma": 0.3}, None),
    ("sobol", {}, None),
    pytest.param("bayesianoptimization", {"random_state": 3, "n_initial_points": 2}, None,
                 marks=pytest.mark.skipif(not HAS_TORCH, reason="needs torch (.[gp])")),
])
def test_every_algorithm_runs_to_completion(tmp_path, algorithm, settings, step) -> None:
    # bayesianoptimization samples doubles log-uniformly (Katib's skopt): min must be > 0
    low = 0.01 if algorithm == "bayesianoptimization" else 0.0
    params = [{"name": "x", "type": "double", "min": low, "max": 1.0},
              {"name": "y", "type": "int", "min": 0, "max": 4}]
    if step is not None:
        params[0]["step"] = step
    experiment = spec(algorithm={"name": algorithm, "settings": settings}, parameters=params,
                      budget={"max_trials": 5, "parallel_trials": 2})
    summary = run(experiment, tmp_path)
    assert summary.status == "Succeeded"
    assert summary.reason.startswith("ExperimentMaxTrialsReached")
    assert summary.counts == {"Succeeded": 5}
    rows = records(tmp_path)
    assert len(rows) == 5
    best = min(r["objective"] for r in rows)
    assert summary.best["objective"] == best
    for r in rows:  # the objective is the trial's min (Katib's default for minimize)
        x, y = float(r["params"]["x"]), int(r["params"]["y"])
        assert r["objective"] == pytest.approx((x - 0.3) ** 2 + (y - 2) ** 2 / 10)
        assert r["metrics"]["accuracy"]["max"] == pytest.approx(1 - r["objective"])


def test_grid_covers_katibs_grid_without_repeats(tmp_path) -> None:
    params = [{"name": "x", "type": "double", "min": 0.0, "max": 1.0, "step": 0.5},
              {"name": "y", "type": "int", "min": 1, "max": 2}]
    experiment = spec(algorithm={"name": "grid"}, parameters=params,
                      budget={"max_trials": 6, "parallel_trials": 2})
    run(experiment, tmp_path)
    seen = sorted((r["params"]["x"], r["params"]["y"]) for r in records(tmp_path))
    # Katib's grid writes its doubles with Python's str: 0.0, 0.5, 1.0
    assert seen == [("0.0", "1"), ("0.0", "2"), ("0.5", "1"), ("0.5", "2"), ("1.0", "1"),
                    ("1.0", "2")]


def test_trials_write_their_output_under_runs(tmp_path) -> None:
    run(spec(budget={"max_trials": 1, "parallel_trials": 1}), tmp_path)
    trial_dir = tmp_path / ".automl/runs/t/t-0000"
    assert "loss=" in (trial_dir / "stdout.log").read_text()
    assert (trial_dir / "stderr.log").exists()
    lines = [json.loads(x) for x in (trial_dir / "observations.jsonl").read_text().splitlines()]
    assert {x["metric"] for x in lines} == {"loss", "accuracy"}
    assert records(tmp_path)[0]["log_dir"] == str(trial_dir)


def test_goal_reached_ends_the_experiment(tmp_path) -> None:
    experiment = spec(objective={"metric": "loss", "type": "minimize", "goal": 10.0},
                      budget={"max_trials": 10, "parallel_trials": 1})
    summary = run(experiment, tmp_path)
    assert summary.status == "Succeeded"
    assert summary.reason.startswith("ExperimentGoalReached")
    assert summary.counts == {"Succeeded": 1}


def test_max_failed_trials_fails_the_experiment_with_the_reason(tmp_path) -> None:
    experiment = spec(args=["--exit=3"], budget={"max_trials": 10, "parallel_trials": 1,
                                                 "max_failed_trials": 2})
    summary = run(experiment, tmp_path)
    assert summary.status == "Failed"
    assert summary.reason == "ExperimentFailed: 2 trials failed (max 2)"
    assert [(r["status"], r["reason"].split(";")[0]) for r in records(tmp_path)] == [
        ("Failed", "exit status 3")] * 2


def test_a_trial_that_reports_no_objective_is_metrics_unavailable(tmp_path) -> None:
    experiment = spec(args=["--skip-objective"], budget={"max_trials": 2, "parallel_trials": 1})
    summary = run(experiment, tmp_path)
    assert summary.counts == {"MetricsUnavailable": 2}
    assert records(tmp_path)[0]["reason"].startswith(
        "the trial exited 0 but never reported loss (it reported ")


def test_a_trial_past_its_deadline_fails(tmp_path) -> None:
    experiment = spec(args=["--epochs=3", "--sleep=2"],
                      budget={"max_trials": 1, "parallel_trials": 1})
    experiment = experiment.model_copy(update={"trial": experiment.trial.model_copy(
        update={"active_deadline_seconds": 1})})
    run(experiment, tmp_path)
    (row,) = records(tmp_path)
    assert (row["status"], row["reason"]) == (
        "Failed", "deadline of 1s passed (activeDeadlineSeconds)")
    assert row["end"] - row["start"] < 2.5


def test_a_command_that_does_not_exist_fails_with_the_reason(tmp_path) -> None:
    experiment = spec(budget={"max_trials": 1, "parallel_trials": 1})
    experiment = experiment.model_copy(update={"trial": experiment.trial.model_copy(
        update={"command": ["no-such-program-xyz", "${trialParameters.x}",
                            "${trialParameters.y}"]})})
    run(experiment, tmp_path)
    (row,) = records(tmp_path)
    assert row["status"] == "Failed"
    assert row["reason"].startswith("cannot start 'no-such-program-xyz'")


@pytest.mark.parametrize(("where", "says"), [("missing", "does not exist"),
                                             ("file.txt", "is not a folder")])
def test_a_working_dir_that_is_no_folder_fails_the_trial_naming_it(tmp_path, where,
                                                                    says) -> None:
    (tmp_path / "file.txt").write_text("")
    experiment = spec(budget={"max_trials": 1, "parallel_trials": 1})
    experiment = experiment.model_copy(update={"trial": experiment.trial.model_copy(
        update={"working_dir": str(tmp_path / where)})})
    run(experiment, tmp_path)
    (row,) = records(tmp_path)
    assert (row["status"], row["reason"]) == (
        "Failed", f"the trial's working directory (working_dir) {tmp_path / where} {says}")


def test_medianstop_stops_trials_worse_than_the_mean_at_start_step(tmp_path) -> None:
    params = [{"name": "x", "type": "categorical", "list": ["0.3", "0.9"]},
              {"name": "y", "type": "discrete", "list": [2]}]
    trial = {"command": [sys.executable, TRIAL, "--x=${trialParameters.x}",
                         "--y=${trialParameters.y}", "--epochs=4", "--sleep=0.3"],
             "trial_parameters": None}
    # Grid seed 1 runs x=0.3 first (checked: GridSampler's order for this space and seed).
    experiment = spec(algorithm={"name": "grid", "settings": {"random_state": 1}},
                      parameters=params, trial=trial,
                      budget={"max_trials": 2, "parallel_trials": 1},
                      early_stopping={"name": "medianstop",
                                      "settings": {"min_trials_required": 1, "start_step": 2}})
    run(experiment, tmp_path)
    rows = {r["params"]["x"]: r for r in records(tmp_path)}
    assert rows["0.3"]["status"] == "Succeeded"  # loss 0 every epoch: the rule is 0
    stopped = rows["0.9"]
    assert stopped["status"] == "EarlyStopped"
    assert stopped["reason"].startswith("medianstop: best loss after 2 reports is worse than 0")
    assert len(stopped["history"]) == 2  # killed at the second report, before epoch 3
    assert stopped["end"] - stopped["start"] < 1.2


def test_values_reach_the_trial_verbatim_without_a_shell(tmp_path) -> None:
    tricky = ["$(touch pwned)", "a b;c", "--flag", "quote'\"s", "line\nbreak", "*"]
    experiment = spec(
        parameters=[{"name": "v", "type": "categorical", "list": tricky}],
        algorithm={"name": "grid"},
        budget={"max_trials": len(tricky), "parallel_trials": 2},
        trial={"command": [sys.executable, TRIAL, "--echo", "${trialParameters.v}",
                           "x=${trialParameters.v}"],
               "env": {"ECHO_ENV": "${trialParameters.v}"}},
    )
    run(experiment, tmp_path)
    seen = set()
    for r in records(tmp_path):
        out = (tmp_path / ".automl/runs/t" / r["name"] / "stdout.log").read_text()
        echoed = json.loads(out.splitlines()[0])
        value = r["params"]["v"]
        assert echoed == {"argv": ["--echo", value, f"x={value}"], "env": value}
        seen.add(value)
    assert seen == set(tricky)
    assert not (tmp_path / "pwned").exists()


def test_changing_more_than_the_budget_is_refused_and_the_budget_may_grow(tmp_path) -> None:
    from automl.errors import AutomlError

    policy = "LongRunning"  # Katib's rule for continuing a completed experiment
    run(spec(budget={"max_trials": 2, "parallel_trials": 1}, resume_policy=policy), tmp_path)
    with pytest.raises(AutomlError, match="different objective"):
        run(spec(objective={"metric": "accuracy", "type": "maximize"}, resume_policy=policy,
                 budget={"max_trials": 2, "parallel_trials": 1}), tmp_path)
    summary = run(spec(budget={"max_trials": 3, "parallel_trials": 1}, resume_policy=policy),
                  tmp_path)
    assert summary.counts == {"Succeeded": 3}
    assert [r["name"] for r in records(tmp_path)] == ["t-0000", "t-0001", "t-0002"]


def test_hyperband_runs_katibs_brackets_of_successive_halving(tmp_path) -> None:
    # Katib's example: eta=2, r_l=2, 2 parallel → bracket 1: 2 configs at resource 1, the best
    # one again at 2; bracket 0: 2 new configs at 2. Five trials, then the schedule ends.
    params = [{"name": "x", "type": "double", "min": 0.0, "max": 1.0},
              {"name": "y", "type": "int", "min": 1, "max": 1}]
    experiment = spec(algorithm={"name": "hyperband", "settings": {
                          "resource_name": "y", "eta": 2, "r_l": 2}},
                      parameters=params, budget={"max_trials": 10, "parallel_trials": 2})
    summary = run(experiment, tmp_path)
    # Katib's condition for a suggestion service that has no more: its reason (Katib itself
    # never sets it and stays Running; see the hyperband-requests deviation)
    assert (summary.status, summary.reason) == (
        "Succeeded", "ExperimentSuggestionEndReached: hyperband ran every bracket")
    rows = records(tmp_path)
    plan = [(r["hyperband"]["bracket"], r["hyperband"]["rung"], r["params"]["y"]) for r in rows]
    assert sorted(plan) == [(0, 0, "2"), (0, 0, "2"), (1, 0, "1"), (1, 0, "1"), (1, 1, "2")]
    first = [r for r in rows if r["hyperband"] == {"bracket": 1, "rung": 0}]
    promoted = next(r for r in rows if r["hyperband"] == {"bracket": 1, "rung": 1})
    best = min(first, key=lambda r: r["objective"])
    assert promoted["params"]["x"] == best["params"]["x"]  # the best config, more resource


@needs_katib
def test_a_katib_example_runs_here_with_a_local_command(tmp_path) -> None:
    import automl
    from automl.spec import Budget
    from automl.spec.trial import LocalTrial
    from tests.conftest import KATIB

    katib = automl.from_katib(KATIB / "examples/hp-tuning/random.yaml")
    local = LocalTrial(command=[sys.executable, TRIAL, "--x=${trialParameters.learningRate}",
                                "--path=${trialParameters.momentum}"])
    experiment = automl.load(katib.model_copy(update={
        "trial": katib.trial.model_copy(update={"local": local}),
        "budget": Budget(max_trials=3, parallel_trials=3)}))
    assert automl.from_katib(automl.to_katib(experiment)) == experiment  # via an annotation
    summary = run(experiment, tmp_path)
    assert summary.counts == {"Succeeded": 3}
    for r in records(tmp_path, "random"):
        assert r["objective"] == pytest.approx((float(r["params"]["lr"]) - 0.3) ** 2 + 0.4)


def test_any_optuna_storage_url_works_and_keeps_the_spec_and_manifest(tmp_path) -> None:
    import optuna
    import yaml

    from automl.local import LocalEngine
    from automl.local.store import ATTR, stored_spec

    url = f"sqlite:///{tmp_path / 'runs.db'}"
    experiment = spec(budget={"max_trials": 2, "parallel_trials": 1})
    experiment = experiment.model_copy(update={"trial": experiment.trial.model_copy(
        update={"image": "python:3.11-slim"})})
    LocalEngine(experiment, storage=url, root=tmp_path / ".automl", progress=False).run()
    study = optuna.load_study(study_name="t", storage=url)
    record = study.user_attrs[ATTR]
    assert record["status"] == "Succeeded"
    assert stored_spec(study) == experiment
    manifest = yaml.safe_load(record["katib"])
    assert manifest["kind"] == "Experiment" and manifest["spec"]["maxTrialCount"] == 2
    assert len(study.trials) == 2
    assert not (tmp_path / ".automl/studies.journal").exists()



def test_sobol_with_the_same_seed_asks_the_same_points(tmp_path) -> None:
    # Katib's sobol takes no random_state: the engine's seed reaches Optuna's first trial too
    experiment = spec(algorithm={"name": "sobol"}, budget={"max_trials": 3, "parallel_trials": 1})
    run(experiment, tmp_path / "a", seed=5)
    run(experiment, tmp_path / "b", seed=5)
    first = [r["params"] for r in records(tmp_path / "a")]
    assert first == [r["params"] for r in records(tmp_path / "b")]


def test_bayesianoptimization_searches_doubles_on_a_log_scale_as_katib_does() -> None:
    from automl.local.space import search_space

    experiment = spec(algorithm={"name": "bayesianoptimization"},
                      parameters=[{"name": "x", "type": "double", "min": 0.01, "max": 1.0},
                                  {"name": "y", "type": "int", "min": 0, "max": 4}])
    space = search_space(experiment)
    assert space["x"].log and not space["y"].log
    assert not search_space(spec(parameters=experiment.model_dump()["parameters"]))["x"].log


# Katib sends its hyperopt, optuna and skopt services every Succeeded or EarlyStopped trial with
# its objective value (pkg/suggestion/v1beta1/internal/trial.py, Trial.convert); goptuna's
# (cmaes, sobol) takes EarlyStopped as pruned, without a value
# (pkg/suggestion/v1beta1/goptuna/converter.go, toGoptunaState).
KATIB_TELLS_EARLY_STOPPED = {"random": (TrialState.COMPLETE, 0.25),
                             "tpe": (TrialState.COMPLETE, 0.25),
                             "multivariate-tpe": (TrialState.COMPLETE, 0.25),
                             "grid": (TrialState.COMPLETE, 0.25),
                             "bayesianoptimization": (TrialState.COMPLETE, 0.25),
                             "cmaes": (TrialState.PRUNED, None),
                             "sobol": (TrialState.PRUNED, None)}


@pytest.mark.parametrize("algorithm", list(KATIB_TELLS_EARLY_STOPPED))
def test_an_early_stopped_trial_reaches_the_sampler_as_katib_gives_it(algorithm) -> None:
    import optuna

    from automl.local.engine import _tell_optuna

    experiment = spec(algorithm={"name": algorithm},
                      parameters=[{"name": "x", "type": "double", "min": 0.01, "max": 1.0,
                                   "step": 0.01},
                                  {"name": "y", "type": "int", "min": 0, "max": 4}])
    study = optuna.create_study()
    trial = study.ask()
    _tell_optuna(study, trial, {"status": "EarlyStopped", "objective": 0.25}, experiment)
    told = study.trials[0]
    assert (told.state, told.value) == KATIB_TELLS_EARLY_STOPPED[algorithm]


def test_an_early_stopped_trial_without_a_value_is_pruned() -> None:
    import optuna

    from automl.local.engine import _tell_optuna

    study = optuna.create_study()
    _tell_optuna(study, study.ask(), {"status": "EarlyStopped", "objective": None},
                 spec(algorithm={"name": "tpe"}))
    assert study.trials[0].state == TrialState.PRUNED


def test_hyperband_promotes_the_succeeded_trials_of_a_rung_and_says_katib_stalls(
        tmp_path) -> None:
    params = [{"name": "x", "type": "double", "min": 0.0, "max": 1.0},
              {"name": "y", "type": "int", "min": 1, "max": 1},
              {"name": "code", "type": "categorical", "list": ["0", "3"]}]
    experiment = spec(algorithm={"name": "hyperband", "settings": {
                          "resource_name": "y", "eta": 2, "r_l": 2}},
                      parameters=params, args=["--exit=${trialParameters.code}"],
                      budget={"max_trials": 20, "parallel_trials": 4, "max_failed_trials": 20})
    summary = run(experiment, tmp_path, seed=2)
    assert summary.reason == "ExperimentSuggestionEndReached: hyperband ran every bracket"
    rows = records(tmp_path)
    first = [r for r in rows if r["hyperband"] == {"bracket": 1, "rung": 0}]
    failed = [r for r in first if r["status"] == "Failed"]
    assert failed and len(failed) < len(first)  # the seed gives a rung with both
    for r in failed:
        assert r["reason"].endswith("on Katib, hyperband stalls here: its service promotes "
                                    "from a rung only when every trial of it succeeded")
    promoted = [r["params"]["x"] for r in rows if r["hyperband"] == {"bracket": 1, "rung": 1}]
    succeeded = sorted((r for r in first if r["status"] == "Succeeded"),
                       key=lambda r: r["objective"])
    assert promoted == [r["params"]["x"] for r in succeeded[:len(promoted)]]
