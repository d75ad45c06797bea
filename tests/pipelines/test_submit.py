"""submit_pipeline against a KFP API double on 127.0.0.1 (see kfp_server.py for why)."""

from __future__ import annotations

import pytest

from automl.errors import AutomlError
from automl.pipelines.submit import SubmitError, submit_pipeline
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
    # the run's page first, to open while it runs; its state once it has ended
    assert result.stdout.splitlines() == [f"run {run_id}: {host}/#/runs/details/{run_id}",
                                          f"run {run_id}: SUCCEEDED"]
    states = [line for line in result.stderr.splitlines() if line.startswith("state: ")]
    assert states == ["state: RUNNING", "state: SUCCEEDED"]  # followed while it ran
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 3  # what pipeline compile warns of: no automl, train.py, its image
    assert "names examples/quickstart/train.py" in warnings[1]
    (pipeline,) = state.pipelines.values()
    assert pipeline["display_name"] == "digits-svm-tuning"
    assert b"automl" in state.uploads[0] and b"pipelineInfo" in state.uploads[0]


def test_a_token_reaches_every_call_and_a_refused_login_exits_5(package) -> None:
    with kfp_server() as (host, state):
        state.token = "secret"
        submit_pipeline(package, host, name="tiny", namespace="team-a", token="secret")
        assert all(h == {"Authorization": "Bearer secret"} for h in state.headers[1:])
        with pytest.raises(SubmitError) as caught:
            submit_pipeline(package, host, name="tiny", namespace="team-a", token="wrong")
    assert caught.value.exit_code == 5
    assert str(caught.value).startswith(f"KFP at {host} refused to look up the pipeline: "
                                        "not authenticated")


def test_a_session_cookie_logs_in_as_a_browser_does(package) -> None:
    with kfp_server() as (host, state):
        state.cookie = "authservice_session=abc"
        done = submit_pipeline(package, host, name="tiny", namespace="team-a",
                               cookie="authservice_session=abc")
    assert done.run_id in state.runs
    assert all("authservice_session=abc" in h.get("Cookie", "") for h in state.headers[1:])


def test_the_in_cluster_service_account_token_is_read_from_its_volume(package, tmp_path,
                                                                      monkeypatch) -> None:
    token = tmp_path / "token"
    token.write_text("sa-token")
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(token))
    with kfp_server() as (host, state):
        state.token = "sa-token"
        submit_pipeline(package, host, name="tiny", namespace="team-a", in_cluster=True)
    assert state.headers[-1] == {"Authorization": "Bearer sa-token"}
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(tmp_path / "none"))
    with pytest.raises(SubmitError, match="no service account token at") as caught:
        submit_pipeline(package, "http://127.0.0.1:9", name="tiny", in_cluster=True)
    assert caught.value.exit_code == 2


def test_multi_user_kfp_needs_a_namespace_the_user_may_use(package) -> None:
    with kfp_server() as (host, state):
        state.namespaces = {"team-a"}
        with pytest.raises(SubmitError) as missing:
            submit_pipeline(package, host, name="tiny")
        with pytest.raises(SubmitError) as other:
            submit_pipeline(package, host, name="tiny", namespace="team-b")
        done = submit_pipeline(package, host, name="tiny", namespace="team-a")
    assert missing.value.exit_code == 2
    assert str(missing.value) == (f"KFP at {host} is multi-user: give --namespace (your "
                                  "profile's namespace) to create or find the experiment")
    assert other.value.exit_code == 5 and "forbidden" in str(other.value)
    assert state.runs[done.run_id]


def test_an_unreachable_server_is_one_line_and_exit_status_3(tmp_path) -> None:
    import os
    import socket
    import subprocess
    import sys

    from tests.conftest import REPO

    with socket.socket() as free:  # a port nothing listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    result = subprocess.run(
        [sys.executable, "-m", "automl", "pipeline", "submit",
         str(REPO / "examples/quickstart/experiment.yaml"), "--host",
         f"http://127.0.0.1:{port}", "--namespace", "team-a"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    assert result.returncode == 3
    errors = [line for line in result.stderr.splitlines() if not line.startswith("warning")]
    assert errors == [f"error: cannot reach KFP at http://127.0.0.1:{port} (to look up the "
                      "pipeline): [Errno 111] Connection refused"]


def test_the_run_uses_the_service_account_given(package) -> None:
    with kfp_server() as (host, state):
        done = submit_pipeline(package, host, name="tiny", namespace="team-a",
                               service_account="katib-runner")
    assert state.runs[done.run_id]["service_account"] == "katib-runner"
