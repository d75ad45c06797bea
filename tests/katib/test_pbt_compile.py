"""A pbt experiment compiles to the Experiment Katib's webhook and pbt service accept."""

from __future__ import annotations

import subprocess
import sys

import yaml

import automl
from automl.katib import katib_dict
from automl.spec import check
from automl.spec.rules.advice import advice
from tests.conftest import KATIB, needs_katib
from tests.katib.meaning import meaning
from tests.katib.test_openapi import schema_errors, swagger, validator  # noqa: F401 (fixtures)

PBT = {
    "name": "pop",
    "objective": {"metric": "Validation-accuracy", "type": "maximize"},
    "algorithm": {"name": "pbt", "settings": {"suggestion_trial_dir": "/var/log/katib/ckpt/",
                                              "n_population": 8, "truncation_threshold": 0.25}},
    "budget": {"max_trials": 24, "parallel_trials": 4, "max_failed_trials": 3},
    "resume_policy": "FromVolume",
    "parameters": [{"name": "lr", "type": "double", "min": 0.001, "max": 0.1, "step": 0.001},
                   {"name": "units", "type": "int", "min": 16, "max": 128, "step": 16},
                   {"name": "act", "type": "categorical", "list": ["relu", "tanh"]}],
    "trial": {"image": "registry.example.org/pbt:1",
              "command": ["python", "train.py", "--lr=${trialParameters.lr}",
                          "--units=${trialParameters.units}", "--act=${trialParameters.act}",
                          "--checkpoint=/var/log/katib/ckpt"]},
}


def test_the_compiled_experiment_carries_settings_steps_and_from_volume() -> None:
    compiled = katib_dict(automl.load(PBT))["spec"]
    assert compiled["resumePolicy"] == "FromVolume"
    assert compiled["algorithm"] == {"algorithmName": "pbt", "algorithmSettings": [
        {"name": "suggestion_trial_dir", "value": "/var/log/katib/ckpt/"},
        {"name": "n_population", "value": "8"},
        {"name": "truncation_threshold", "value": "0.25"}]}
    # the service builds its grid from min, max and step: every number is a step away
    spaces = {p["name"]: p["feasibleSpace"] for p in compiled["parameters"]}
    assert spaces["lr"] == {"min": "0.001", "max": "0.1", "step": "0.001",
                            "distribution": "uniform"}
    assert spaces["units"]["step"] == "16"
    assert automl.from_katib(katib_dict(automl.load(PBT))) == automl.load(PBT)


@needs_katib
def test_katibs_simple_pbt_with_its_budget_fixed_is_accepted_and_reexports_the_same(
        validator) -> None:  # noqa: F811 (the fixture)
    original = yaml.safe_load((KATIB / "examples/hp-tuning/simple-pbt.yaml").read_text())
    original["spec"]["maxFailedTrialCount"] = 2
    spec = automl.from_katib(original)
    assert check(spec) == []
    assert meaning(katib_dict(spec)) == meaning(original)
    assert schema_errors(validator, katib_dict(spec)) == []
    assert schema_errors(validator, katib_dict(automl.load(PBT))) == []


def test_what_katib_does_otherwise_is_said_at_validate_katib_time() -> None:
    with_resample = {**PBT, "algorithm": {**PBT["algorithm"], "settings": {
        **PBT["algorithm"]["settings"], "resample_probability": 0.25}}}
    said = {f.message.split("[Katib differs: ")[-1].split(",")[0]
            for f in advice(automl.load(with_resample), cluster=True)}
    assert said >= {"pbt-exploit-checkpoint", "pbt-resample-probability", "pbt-int-clip",
                    "pbt-restart"}
    push = {**PBT, "trial": {**PBT["trial"], "metrics_collector": {"kind": "Push"}}}
    assert any("pbt-push-checkpoint" in f.message for f in advice(automl.load(push),
                                                                  cluster=True))
    wide = {**PBT, "budget": {"max_trials": 24, "parallel_trials": 9}}
    assert [str(f.path) for f in advice(automl.load(wide), cluster=True)
            if "pbt-request-size" in f.message] == ["('budget', 'parallel_trials')"]
    # a local run alone says nothing of Katib
    assert not [f for f in advice(automl.load(PBT)) if "Katib differs" in f.message]


def test_a_trial_that_never_names_the_checkpoint_folder_is_warned_of(tmp_path) -> None:
    unnamed = {**PBT, "trial": {**PBT["trial"], "command": PBT["trial"]["command"][:-1]}}
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(unnamed))
    out = subprocess.run([sys.executable, "-m", "automl", "validate", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert ("algorithm.settings.suggestion_trial_dir: the trial never names "
            "/var/log/katib/ckpt") in out.stderr
    assert "$AUTOML_CHECKPOINT_DIR" in out.stderr


def test_katibs_pbt_labels_become_the_generation_and_parent_columns() -> None:
    from automl.katib.results import trial_rows
    from automl.results.schema import trials_frame

    spec = automl.load(PBT)
    label = "pbt.suggestion.katib.kubeflow.org/"

    def trial(name: str, stamp: str, labels: dict[str, str]) -> dict:
        # a Trial as the Kubernetes API returns it: the service's labels on its metadata
        # (experiment_controller_util.go getTrialInstance copies them there)
        return {"metadata": {"name": name, "creationTimestamp": stamp,
                             "labels": {"katib.kubeflow.org/experiment": "pop", **labels}},
                "spec": {"parameterAssignments": [{"name": "lr", "value": "0.01"}]},
                "status": {"conditions": [{"type": "Succeeded", "status": "True"}]}}

    rows = trial_rows(spec, [
        trial("pop-a1", "2026-01-01T00:00:00Z", {label + "generation": "0"}),
        trial("pop-b2", "2026-01-01T00:01:00Z", {label + "generation": "1",
                                                 label + "parent": "pop-a1"})])
    table = trials_frame(rows, spec)
    assert table["generation"].tolist() == [0, 1]
    assert table["parent"].isna().tolist() == [True, False]
    assert table["parent"].iloc[1] == "pop-a1"
