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
