"""Conformance: every Experiment in Katib's repository reads back, and re-exports the same."""

from __future__ import annotations

import pytest
import yaml

from automl.katib import from_katib, katib_dict, to_katib
from automl.spec import SpecError
from tests.conftest import KATIB, KATIB_EXAMPLES, require_katib
from tests.katib.meaning import meaning, with_defaults

require_katib()

# Examples Katib itself refuses (README.md's caveats beside the examples, and FACTS.md b/c).
REFUSED = {
    "tekton/pipeline-run.yaml": (38, "spec.trialTemplate.trialParameters[0]",
                                 "never uses ${trialParameters.learningRate}"),
    "nas/darts-gpu.yaml": (59, "spec.nasConfig.operations[4].parameters",
                           "at least one parameter"),
    # Katib's webhook: maxFailedTrialCount (3) > maxTrialCount (2).
    "hp-tuning/simple-pbt.yaml": (10, "spec.maxFailedTrialCount",
                                  "must be <= spec.maxTrialCount (2)"),
}


def _name(path) -> str:
    return path.relative_to(KATIB / "examples").as_posix()


ACCEPTED = [p for p in KATIB_EXAMPLES if _name(p) not in REFUSED]


def test_the_corpus_holds_all_33_katib_examples() -> None:
    assert len(KATIB_EXAMPLES) == 33
    assert {_name(p) for p in KATIB_EXAMPLES} >= set(REFUSED)


@pytest.mark.parametrize("path", ACCEPTED, ids=_name)
def test_katib_example_reexports_with_the_same_meaning(path) -> None:
    original = yaml.safe_load(path.read_text())
    spec = from_katib(path)
    exported = katib_dict(spec)
    assert meaning(exported) == meaning(original)
    assert from_katib(exported) == spec


@pytest.mark.parametrize("path", ACCEPTED, ids=_name)
def test_katib_example_compiles_to_a_kubeflow_katib_model(path) -> None:
    spec = from_katib(path)
    if spec.trial.is_container and spec.trial.image is None:
        pytest.skip("no image")
    experiment = to_katib(spec)
    assert experiment.metadata.name == spec.name
    assert experiment.spec.objective.objective_metric_name == spec.objective.metric


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_example_katib_refuses_is_refused_with_a_located_error(name) -> None:
    line, path, text = REFUSED[name]
    with pytest.raises(SpecError) as caught:
        from_katib(KATIB / "examples" / name)
    issues = caught.value.issues
    assert len(issues) == 1
    assert (issues[0].line, issues[0].path) == (line, path)
    assert text in issues[0].message
    assert issues[0].file.endswith(name)


def test_defaults_filled_explicitly_and_left_out_read_the_same() -> None:
    original = yaml.safe_load((KATIB / "examples/hp-tuning/random.yaml").read_text())
    assert from_katib(with_defaults(original)) == from_katib(original)


def test_export_writes_katib_defaults_explicitly() -> None:
    spec = from_katib(KATIB / "examples/hp-tuning/random.yaml")
    body = katib_dict(spec)["spec"]
    assert body["parallelTrialCount"] == 3
    assert body["resumePolicy"] == "Never"
    assert body["objective"]["metricStrategies"] == [{"name": "loss", "value": "min"}]
    assert {p["feasibleSpace"]["distribution"] for p in body["parameters"]} == {"uniform"}
    template = body["trialTemplate"]
    assert template["successCondition"] == (
        'status.conditions.#(type=="Complete")#|#(status=="True")#')
    assert template["failureCondition"] == (
        'status.conditions.#(type=="Failed")#|#(status=="True")#')


def test_short_job_reads_as_container_form_and_other_kinds_stay_raw() -> None:
    job = from_katib(KATIB / "examples/hp-tuning/random.yaml")
    assert job.trial.is_container
    assert job.trial.image == "ghcr.io/kubeflow/katib/pytorch-mnist-cpu:latest"
    assert job.trial.command[-1] == "--momentum=${trialParameters.momentum}"
    tfjob = from_katib(
        KATIB / "examples/kubeflow-training-operator/tfjob-mnist-with-summaries.yaml")
    assert tfjob.trial.trial_spec["kind"] == "TFJob"
    assert tfjob.trial.primary_pod_labels == {"training.kubeflow.org/replica-type": "worker"}
