"""Compiled pipelines load back in kfp and parse as the pipeline-spec protobuf."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.protobuf import json_format
from kfp import components
from kfp.pipeline_spec import pipeline_spec_pb2
from kfp.pipeline_spec.pipeline_spec_pb2 import ParameterType, PipelineTaskSpec

import automl
from automl.errors import AutomlError
from automl.pipelines.builder import tuning_pipeline
from automl.pipelines.compile import compile_pipeline, load_pipeline
from tests.local.helpers import spec
from tests.pipelines.components import echo

REPO = Path(__file__).resolve().parents[2]


def _parse(path: Path) -> tuple[pipeline_spec_pb2.PipelineSpec, dict[str, Any] | None]:
    """The pipeline spec (strictly parsed) and the platform spec, if kfp wrote one."""
    docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    pipeline = json_format.ParseDict(docs[0], pipeline_spec_pb2.PipelineSpec())
    platform = None
    if len(docs) > 1:
        json_format.ParseDict(docs[1], pipeline_spec_pb2.PlatformSpec())
        platform = docs[1]
    return pipeline, platform


def _default_spec(pipeline: pipeline_spec_pb2.PipelineSpec) -> automl.ExperimentSpec:
    value = pipeline.root.input_definitions.parameters["spec_json"].default_value
    return automl.load(json.loads(value.string_value))


def test_tune_then_pipeline_with_a_volume(tmp_path: Path) -> None:
    experiment = spec()
    out = compile_pipeline(tuning_pipeline(experiment, then=echo, name="Tune_Then",
                                           pvc_name="data", timeout_minutes=5),
                           tmp_path / "p.yaml")
    pipeline, platform = _parse(out)
    assert pipeline.pipeline_info.name == "tune-then"
    assert set(pipeline.root.dag.tasks) == {"tune", "echo"}
    # then gets the tuning step's best_params output
    handed = pipeline.root.dag.tasks["echo"].inputs.parameters["best_params"]
    assert handed.task_output_parameter.producer_task == "tune"
    assert handed.task_output_parameter.output_parameter_key == "best_params"
    # the experiment, backend and timeout are pipeline parameters with these defaults
    assert _default_spec(pipeline) == experiment
    defaults = pipeline.root.input_definitions.parameters
    assert defaults["backend"].default_value.string_value == "local"
    assert defaults["timeout_minutes"].default_value.number_value == 5
    outputs = pipeline.components["comp-tune"].output_definitions
    assert {k: v.artifact_type.schema_title for k, v in outputs.artifacts.items()} == {
        "trials": "system.Dataset", "tensorboard": "system.Artifact",
        "summary": "system.Markdown", "metrics": "system.Metrics",
        "trial_logs": "system.Artifact"}
    assert {k: v.parameter_type for k, v in outputs.parameters.items()} == {
        "best_params": ParameterType.STRING, "goal_reached": ParameterType.BOOLEAN}
    mount = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-tune"]
    assert mount["pvcMount"][0]["mountPath"] == "/mnt/data"
    assert mount["pvcMount"][0]["constant"] == "data"
    assert mount["activeDeadlineSeconds"] == str(5 * 60 + 300)  # the pod's own deadline
    # kfp's own loader reads it back
    assert components.load_component_from_file(str(out)).name == "tune-then"


def test_packages_and_image_reach_the_step(tmp_path: Path) -> None:
    out = compile_pipeline(tuning_pipeline(spec(), base_image="example.org/automl:1",
                                           packages_to_install=["automl==0.1.0"]),
                           tmp_path / "p.yaml")
    pipeline, platform = _parse(out)
    container = json_format.MessageToDict(pipeline.deployment_spec)["executors"][
        "exec-tune"]["container"]
    assert container["image"] == "example.org/automl:1"
    assert "'automl==0.1.0'" in " ".join(container["command"])
    assert platform is None  # no volume, no kubernetes section


def test_experiment_files_compile_to_a_tuning_only_pipeline(tmp_path: Path) -> None:
    ours = REPO / "examples" / "quickstart" / "experiment.yaml"
    katib = tmp_path / "katib.yaml"
    katib.write_text(automl.to_yaml(automl.load(ours)), encoding="utf-8")
    for source in (ours, katib):
        pipeline, _ = _parse(compile_pipeline(source, tmp_path / f"{source.stem}.out.yaml"))
        assert pipeline.pipeline_info.name == "digits-svm-tuning"
        assert set(pipeline.root.dag.tasks) == {"tune"}
        assert _default_spec(pipeline).parameters == automl.load(ours).parameters


def test_python_file_is_imported_not_execed(tmp_path: Path) -> None:
    out = compile_pipeline(REPO / "examples" / "pipeline" / "pipeline.py", tmp_path / "p.yaml")
    pipeline, _ = _parse(out)
    assert pipeline.pipeline_info.name == "digits-svm-tune-train"
    # tune, then (if the goal was reached) train per seed, and record the outcome at exit
    assert set(pipeline.root.dag.tasks) == {"exit-handler-1", "record-outcome"}
    assert (pipeline.root.dag.tasks["record-outcome"].trigger_policy.strategy
            == PipelineTaskSpec.TriggerPolicy.TriggerStrategy.ALL_UPSTREAM_TASKS_COMPLETED)
    body = pipeline.components["comp-exit-handler-1"].dag.tasks
    assert set(body) == {"tune", "goal-reached", "condition-2"}
    assert body["condition-2"].trigger_policy.condition == (
        "inputs.parameter_values['pipelinechannel--goal-reached-Output'] == true")
    per_seed = pipeline.components["comp-condition-2"].dag.tasks["train-per-seed"]
    assert per_seed.component_ref.name == "comp-train-per-seed"
    loop = pipeline.components["comp-train-per-seed"].dag.tasks["for-loop-2"]
    assert loop.parameter_iterator.items.raw == "[0, 1, 2]"
    command = " ".join(json_format.MessageToDict(pipeline.deployment_spec)["executors"][
        "exec-train"]["container"]["command"])
    assert "def train(best_params: str" in command  # kfp found the component's source


def test_load_pipeline_refuses_what_it_cannot_use(tmp_path: Path) -> None:
    empty = tmp_path / "nothing.py"
    empty.write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(AutomlError, match="expected a kfp pipeline named 'pipeline'"):
        load_pipeline(empty)
    other = tmp_path / "notes.txt"
    other.write_text("hi", encoding="utf-8")
    with pytest.raises(AutomlError, match="expected an experiment"):
        load_pipeline(other)
    with pytest.raises(AutomlError, match="no such file"):
        load_pipeline(tmp_path / "missing.yaml")


def test_import_automl_does_not_import_kfp() -> None:
    code = ("import sys, automl, automl.pipelines, automl.pipelines.step; "
            "assert 'kfp' not in sys.modules, 'kfp imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
