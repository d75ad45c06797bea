"""kfp.local runs of a tiny tuning pipeline: right artifacts, same best as automl.run, clear
failures. Each run is a few seconds (kfp.local starts a Python per task)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest

import automl
from automl.pipelines.builder import tuning_pipeline
from automl.pipelines.compile import compile_pipeline
from automl.pipelines.local import PipelineFailed, run_local
from tests.local.helpers import spec
from tests.pipelines.components import echo

# Trials one at a time with a seeded sampler: the component and automl.run ask the same
# parameters in the same order.
BUDGET = {"max_trials": 4, "parallel_trials": 1}


def test_tune_then_matches_a_direct_run(tmp_path: Path) -> None:
    experiment = spec(budget=BUDGET)
    out = run_local(tuning_pipeline(experiment, then=echo), tmp_path / "kfp", quiet=True)
    direct = automl.run(experiment, root=tmp_path / "direct", progress=False)

    assert direct.status == "Succeeded"
    assert out["best_params"] == direct.best["params"]
    assert out["metrics"]["tune"] == {"loss": pytest.approx(direct.best["objective"]),
                                      "trials": 4}
    tune = out["outputs"]["tune"]
    # then received exactly the tuning step's best_params output
    assert json.loads(out["outputs"]["echo"]["received"].read_text()) == direct.best["params"]

    table = pd.read_csv(tune["trials"])
    expected = automl.load_results("t", root=tmp_path / "direct").trials
    assert list(table["trial"]) == list(expected["trial"])
    assert list(table["params.x"]) == pytest.approx(list(expected["params.x"]))
    assert list(table["status"]) == ["Succeeded"] * 4

    summary = tune["summary"].read_text()
    assert summary.startswith("# Experiment `t`: Succeeded")
    assert f"Best trial `{direct.best['name']}`" in summary
    assert "ExperimentMaxTrialsReached" in summary

    runs = sorted(p.name for p in tune["tensorboard"].iterdir() if p.is_dir())
    assert runs == [f"t-{n:04d}" for n in range(4)]
    assert list(tune["tensorboard"].glob("events.out.tfevents.*"))  # the HParams experiment


def test_a_compiled_pipeline_runs_locally(tmp_path: Path) -> None:
    compiled = compile_pipeline(tuning_pipeline(spec(budget=BUDGET), pvc_name="data"),
                                tmp_path / "p.yaml")
    out = run_local(compiled, tmp_path / "kfp", quiet=True)  # kfp.local ignores the volume
    assert set(out["best_params"]) == {"x", "y"}
    assert out["outputs"]["tune"]["trials"].is_file()


def test_a_failed_experiment_fails_the_step_with_its_reason(tmp_path: Path) -> None:
    experiment = spec(budget={"max_trials": 3, "parallel_trials": 1, "max_failed_trials": 1},
                      args=["--exit=3"])
    with pytest.raises(PipelineFailed) as caught:
        run_local(tuning_pipeline(experiment, then=echo), tmp_path / "kfp", quiet=True)
    assert caught.value.task == "tune"
    assert caught.value.error.startswith("TuningFailed: experiment 't' ended Failed: "
                                         "ExperimentFailed: 1 trials failed (max 1)")
    assert not list((tmp_path / "kfp").glob("*/echo"))  # nothing ran after it


def test_the_timeout_stops_the_run_and_fails_the_step(tmp_path: Path) -> None:
    experiment = spec(budget=BUDGET, args=["--sleep=60"])
    start = time.monotonic()
    with pytest.raises(PipelineFailed, match=r"TuningTimeout: experiment 't' did not finish "
                                             r"within 1\.8 s"):
        run_local(tuning_pipeline(experiment, timeout_minutes=0.03), tmp_path / "kfp",
                  quiet=True)
    assert time.monotonic() - start < 20  # the sleeping trial was killed, not waited for


def test_an_unknown_backend_is_refused_inside_the_step(tmp_path: Path) -> None:
    with pytest.raises(PipelineFailed, match="unknown backend 'trainer'; expected one of: "
                                             "local, katib"):
        run_local(tuning_pipeline(spec(budget=BUDGET)), tmp_path / "kfp",
                  arguments={"backend": "trainer"}, quiet=True)


def test_each_trials_logs_are_an_output_of_the_step(tmp_path: Path) -> None:
    out = run_local(tuning_pipeline(spec(budget=BUDGET)), tmp_path / "kfp", quiet=True)
    logs = out["outputs"]["tune"]["trial_logs"]
    assert sorted(p.name for p in logs.iterdir()) == [f"t-{n:04d}" for n in range(4)]
    assert "loss=" in (logs / "t-0000" / "stdout.log").read_text()
    assert (logs / "t-0000" / "stderr.log").exists()


def test_pipeline_run_local_shows_each_trial_and_exits_1_when_the_experiment_fails(
        tmp_path: Path) -> None:
    import subprocess
    import sys

    experiment = spec(budget={"max_trials": 2, "parallel_trials": 1, "max_failed_trials": 1},
                      args=["--exit=3"])
    path = tmp_path / "exp.yaml"
    path.write_text(automl.spec.spec_to_yaml(experiment))
    done = subprocess.run([sys.executable, "-m", "automl", "pipeline", "run", str(path),
                           "--local", "--root", str(tmp_path / "kfp")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("[1/2] t-0000 Failed loss=") and "(exit status 3;" in lines[0]
    assert lines[-1] == ("error: pipeline task 'tune' failed: TuningFailed: experiment 't' "
                         "ended Failed: ExperimentFailed: 1 trials failed (max 1)")
