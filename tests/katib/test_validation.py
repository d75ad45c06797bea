"""A Katib Experiment is refused, defaulted and located as Katib's webhook does."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from automl.katib import from_katib
from automl.spec import SpecError
from tests.conftest import KATIB, require_katib

require_katib()

RANDOM = yaml.safe_load((KATIB / "examples/hp-tuning/random.yaml").read_text())


def _write(tmp_path, data) -> str:
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


@pytest.mark.parametrize("command", ["validate", "import"])
def test_a_trial_template_without_primary_container_name_is_refused(tmp_path, command) -> None:
    # pkg/webhook/v1beta1/experiment/validator/validator.go, validateTrialTemplate:
    # field.Required(spec.trialTemplate.primaryContainerName, "must be specified")
    data = copy.deepcopy(RANDOM)
    del data["spec"]["trialTemplate"]["primaryContainerName"]
    path = _write(tmp_path, data)
    result = subprocess.run([sys.executable, "-m", "automl", command, path],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert result.stderr == (f"error: {path}:27: spec.trialTemplate.primaryContainerName: "
                             "must be specified\n")


def test_an_unknown_setting_is_located_on_its_name(tmp_path) -> None:
    data = copy.deepcopy(RANDOM)
    data["spec"]["algorithm"] = {"algorithmName": "tpe", "algorithmSettings": [
        {"name": "gamma", "value": "0.3"}, {"name": "foo", "value": "1"}]}
    path = _write(tmp_path, data)
    with pytest.raises(SpecError) as error:
        from_katib(Path(path))
    [issue] = error.value.issues
    assert issue.path == "spec.algorithm.algorithmSettings[1].name"
    assert issue.message == ("unknown setting 'foo' for tpe; expected one of: gamma, "
                             "n_EI_candidates, prior_weight, random_state")
    line = Path(path).read_text().splitlines()[issue.line - 1]
    assert line.strip() == "- name: foo"


# pkg/apis/controller/experiments/v1beta1/experiment_defaults.go, setDefaultTrialTemplate:
# the defaults are chosen by kind alone (constants.go: KubeflowJobKinds, JobKindJob).
KATIB_DEFAULTS = {
    ("kubeflow.org/v2beta1", "MPIJob"): (
        'status.conditions.#(type=="Succeeded")#|#(status=="True")#',
        {"training.kubeflow.org/job-role": "master"}),
    ("kubeflow.org/v1", "PyTorchJob"): (
        'status.conditions.#(type=="Succeeded")#|#(status=="True")#',
        {"training.kubeflow.org/job-role": "master"}),
    ("batch/v1", "Job"): ('status.conditions.#(type=="Complete")#|#(status=="True")#', None),
}


@pytest.mark.parametrize(("api_version", "kind"), list(KATIB_DEFAULTS))
def test_success_and_failure_conditions_default_by_kind(api_version, kind) -> None:
    data = copy.deepcopy(RANDOM)
    template = data["spec"]["trialTemplate"]
    template["trialSpec"] = {"apiVersion": api_version, "kind": kind, "spec": {
        "template": {"spec": {"containers": [{
            "name": "training-container", "image": "python:3.11",
            "command": ["python", "t.py", "--lr=${trialParameters.learningRate}",
                        "--momentum=${trialParameters.momentum}"]}]}}}}
    spec = from_katib(data)
    success, labels = KATIB_DEFAULTS[(api_version, kind)]
    assert spec.trial.effective_success_condition == success
    assert spec.trial.effective_failure_condition == (
        'status.conditions.#(type=="Failed")#|#(status=="True")#')
    assert spec.trial.effective_primary_pod_labels == labels
