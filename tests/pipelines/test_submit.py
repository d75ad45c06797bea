"""submit_pipeline against a KFP API double on 127.0.0.1 (see kfp_server.py for why)."""

from __future__ import annotations

import pytest

from automl.errors import AutomlError
from automl.pipelines.submit import submit_pipeline
from tests.pipelines.kfp_server import API, kfp_server

PACKAGE = b"pipelineInfo:\n  name: tiny\nschemaVersion: 2.1.0\n"


@pytest.fixture
def package(tmp_path, monkeypatch):
    # kfp.Client reads (and can write) ~/.config/kfp/context.json; keep that in tmp_path.
    monkeypatch.setattr("kfp.Client._LOCAL_KFP_CONTEXT", str(tmp_path / "ctx.json"))
    path = tmp_path / "pipeline.yaml"
    path.write_bytes(PACKAGE)
    return path


def _calls(state):
    return [(method, path.removeprefix(API)) for method, path, _ in state.calls]


def test_a_new_pipeline_is_uploaded_and_run_in_a_new_experiment(package) -> None:
    with kfp_server() as (host, state):
        done = submit_pipeline(package, host, name="tiny", experiment="hpo", wait=True,
                               poll_seconds=0.01)
    assert _calls(state) == [
        ("GET", "/healthz"),
        ("GET", "/pipelines"), ("POST", "/pipelines/upload"),
        ("GET", f"/pipelines/{done.pipeline_id}/versions"),
        ("GET", "/experiments"), ("POST", "/experiments"),
        ("POST", "/runs"), ("GET", f"/runs/{done.run_id}"), ("GET", f"/runs/{done.run_id}"),
    ]
    assert state.uploads == [PACKAGE]
    assert state.calls[2][2]["name"] == "tiny"
    run = state.runs[done.run_id]
    assert run["pipeline_version_reference"] == {"pipeline_id": done.pipeline_id,
                                                 "pipeline_version_id": done.version_id}
    assert run["experiment_id"] == done.experiment_id
    assert done.state == "SUCCEEDED"
    assert done.url == f"{host}/#/runs/details/{done.run_id}"


def test_an_existing_pipeline_gets_a_new_version_and_the_experiment_is_reused(package) -> None:
    with kfp_server() as (host, state):
        pid = state.add_pipeline("tiny")
        eid = state.add_experiment("hpo", "team-a")
        done = submit_pipeline(package, host, name="tiny", experiment="hpo", version="v2",
                               namespace="team-a")
    assert _calls(state) == [
        ("GET", "/pipelines"), ("POST", "/pipelines/upload_version"),
        ("GET", "/experiments"), ("POST", "/runs"),
    ]  # namespace given: kfp.Client skips the health check
    assert state.calls[1][2] == {"name": "v2", "pipelineid": pid}
    assert state.calls[2][2]["namespace"] == "team-a"
    assert (done.pipeline_id, done.experiment_id) == (pid, eid)
    assert done.version_id == state.versions[pid][0]["pipeline_version_id"]
    assert done.state == "PENDING"


@pytest.mark.parametrize(("method", "path", "status", "message"), [
    ("GET", "/pipelines", 401, "refused to look up the pipeline: not authenticated"),
    ("POST", "/pipelines/upload", 409, "refused to upload the pipeline: it already exists"),
    ("POST", "/experiments", 404, "refused to create or find the experiment: not found"),
])
def test_refusals_become_one_clear_error(package, method, path, status, message) -> None:
    with kfp_server() as (host, state):
        state.errors[(method, API + path)] = status
        with pytest.raises(AutomlError) as caught:
            submit_pipeline(package, host, name="tiny", namespace="team-a")
    text = str(caught.value)
    assert text.startswith(f"KFP at {host} {message}")
    assert f"HTTP {status}" in text
    assert "\n" not in text


def test_a_canceled_run_ends_the_wait(package) -> None:
    with kfp_server() as (host, state):
        state.run_states = ["RUNNING", "CANCELED"]
        done = submit_pipeline(package, host, name="tiny", namespace="ns", wait=True,
                               poll_seconds=0.01)
    assert done.state == "CANCELED"


def test_a_run_that_outlives_the_timeout_is_reported(package) -> None:
    with kfp_server() as (host, state):
        state.run_states = ["RUNNING"] * 1000
        with pytest.raises(AutomlError, match=r"is still RUNNING after 0\.05 s"):
            submit_pipeline(package, host, name="tiny", namespace="ns", wait=True,
                            timeout=0.05, poll_seconds=0.01)


def test_the_cli_compiles_submits_and_waits(tmp_path) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    env = {**os.environ, "HOME": str(tmp_path)}  # kfp.Client's context file stays in tmp
    with kfp_server() as (host, state):
        result = subprocess.run(
            [sys.executable, "-m", "automl", "pipeline", "submit",
             str(REPO / "examples/quickstart/experiment.yaml"), "--host", host,
             "--experiment", "hpo", "--namespace", "team-a", "--wait"],
            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    (run_id,) = state.runs
    assert result.stdout.splitlines() == [f"run {run_id}: SUCCEEDED",
                                          f"{host}/#/runs/details/{run_id}"]
    (pipeline,) = state.pipelines.values()
    assert pipeline["display_name"] == "digits-svm-tuning"
    assert b"automl" in state.uploads[0] and b"pipelineInfo" in state.uploads[0]
