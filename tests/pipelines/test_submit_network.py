"""``automl pipeline submit`` against a KFP API double that misbehaves (kfp_server.py, why a
double; tests/http_faults.py, how): one error line and its exit status, or through what may
pass, never a traceback; a token goes only where the server itself sends it."""

from __future__ import annotations

import sys
import time

import pytest

from automl.cli import main
from automl.pipelines.submit import submit_pipeline
from tests.conftest import REPO
from tests.http_faults import LOGIN_PAGE, PROXY_PAGE, Fault, one_error_line
from tests.pipelines.kfp_server import API, kfp_server

TIMEOUT = 0.3  # $AUTOML_HTTP_TIMEOUT for these tests
FAULTS = {  # fault, exit status, what the error line says after "KFP at <host>: cannot ..."
    "a login page with 200": (Fault("page", body=LOGIN_PAGE), 5,
                              "an HTML page titled 'Log in to Kubeflow': a login page: pass "
                              "--token (or $KFP_TOKEN) or --cookie"),
    "a proxy's page with 200": (Fault("page", body=PROXY_PAGE), 3,
                                "an HTML page titled 'Welcome to nginx!': not the API"),
    "503 for good": (Fault("status"), 3, "HTTP 503 (application/json) with the message "
                                         "'injected 503' (4 tries): the server is down"),
    "no answer": (Fault("silent"), 3, f"no complete answer within {3 * TIMEOUT:g} s"),
    "truncated JSON": (Fault("truncated"), 3, "malformed or truncated JSON"),
    "an empty body": (Fault("empty"), 3, "with an empty body: is this the API's address?"),
    "an empty pipeline-versions answer": (
        Fault("json", path="/versions", body='{"total_size": 0}'), 1,
        "find the uploaded pipeline's version: the pipeline has no versions"),
    "a run without its id": (Fault("json", method="POST", path="/runs", body="{}"), 1,
                             "start the run: the answer has no run_id"),
}


@pytest.fixture
def submit(tmp_path, monkeypatch, capsys):
    """``automl pipeline submit`` of the quickstart in this process against a fresh double:
    (exit status, stdout, stderr, seconds); the double is ``submit.host``, ``submit.state``."""
    monkeypatch.setattr("kfp.Client._LOCAL_KFP_CONTEXT", str(tmp_path / "ctx.json"))
    monkeypatch.setenv("AUTOML_HTTP_TIMEOUT", str(TIMEOUT))
    monkeypatch.setattr("automl._network.BACKOFF", 0.01)

    def invoke(*options: str) -> tuple[int, str, str, float]:
        monkeypatch.setattr(sys, "argv", [
            "automl", "pipeline", "submit", str(REPO / "examples/quickstart/experiment.yaml"),
            "--host", invoke.host, "--namespace", "team-a", *options])
        start = time.monotonic()
        with pytest.raises(SystemExit) as ended:
            main()
        out, err = capsys.readouterr()
        return ended.value.code or 0, out, err, time.monotonic() - start

    with kfp_server() as (host, state):
        invoke.host, invoke.state = host, state
        yield invoke


@pytest.mark.parametrize("fault", FAULTS)
def test_a_bad_answer_is_one_error_line_with_its_exit_status(submit, fault) -> None:
    rule, status, text = FAULTS[fault]
    submit.state.faults.rules.append(rule)
    code, _, err, seconds = submit()
    line = one_error_line(err)
    assert code == status, err
    assert line.startswith(f"error: KFP at {submit.host}: cannot ") and text in line, line
    if fault == "no answer":  # the tries end at the call's deadline: connect + 2 x read
        assert seconds < 3 * TIMEOUT + 5


def test_one_503_on_each_read_is_tried_again_and_the_run_starts(submit) -> None:
    for path in ("/pipelines", "/versions"):
        submit.state.faults.rules.append(Fault("status", times=1, method="GET", path=path))
    code, out, err, _ = submit()
    assert code == 0, err
    (run_id,) = submit.state.runs
    assert out.splitlines()[0] == f"run {run_id}: {submit.host}/#/runs/details/{run_id}"
    assert [f.times for f in submit.state.faults.rules] == [0, 0]


def test_a_503_on_a_create_is_not_sent_again(submit) -> None:
    """A run started twice would run twice: a failed create is said, not repeated."""
    submit.state.faults.rules.append(Fault("lost", times=1, method="POST", path="/runs"))
    code, _, err, _ = submit()
    assert code == 3
    assert "cannot start the run: the server answered HTTP 503" in one_error_line(err)
    assert [c for c in submit.state.calls if c[:2] == ("POST", f"{API}/runs")] == [
        ("POST", f"{API}/runs", {})]


def test_a_redirect_to_the_same_host_keeps_the_token(submit) -> None:
    submit.state.token = "secret"
    submit.state.faults.rules.append(Fault("redirect", times=1, method="GET",
                                           location=submit.host))
    code, _, err, _ = submit("--token", "secret")
    assert code == 0, err
    assert submit.state.runs
    assert submit.state.faults.authorization[:2] == ["Bearer secret"] * 2


def test_a_redirect_to_another_host_gets_no_token(submit, tmp_path) -> None:
    with kfp_server() as (other, elsewhere):
        submit.state.faults.rules.append(Fault("redirect", times=1, location=other))
        code, _, err, _ = submit("--token", "secret")
    assert code == 0, err  # the other double answers the lookup; this one does the rest
    assert elsewhere.calls[0][1] == f"{API}/pipelines"
    assert elsewhere.faults.authorization == [None]
    assert submit.state.faults.authorization[0] == "Bearer secret"


def test_a_silent_server_ends_the_submit_within_its_timeout(tmp_path, monkeypatch) -> None:
    """Through the Python API too, and on the health check kfp.Client makes when no
    namespace is given (it used to try 5 times, 5 s apart, each without a timeout)."""
    monkeypatch.setattr("kfp.Client._LOCAL_KFP_CONTEXT", str(tmp_path / "ctx.json"))
    monkeypatch.setenv("AUTOML_HTTP_TIMEOUT", str(TIMEOUT))
    monkeypatch.setattr("automl._network.BACKOFF", 0.01)
    package = tmp_path / "pipeline.yaml"
    package.write_text("pipelineInfo:\n  name: tiny\nschemaVersion: 2.1.0\n")
    with kfp_server() as (host, state):
        state.faults.rules.append(Fault("silent"))
        start = time.monotonic()
        with pytest.raises(Exception) as caught:
            submit_pipeline(package, host, name="tiny")
        seconds = time.monotonic() - start
    assert (type(caught.value).__name__, caught.value.exit_code) == ("SubmitError", 3)
    assert str(caught.value) == (f"KFP at {host}: cannot connect: no complete answer within "
                                 f"{3 * TIMEOUT:g} s (set $AUTOML_HTTP_TIMEOUT to wait "
                                 "longer) (3 tries)")
    assert state.calls[0][1] == f"{API}/healthz" and seconds < 3 * TIMEOUT + 5


def test_an_answer_dripping_a_byte_at_a_time_ends_at_the_calls_deadline(submit) -> None:
    """Each byte comes well within the read timeout; the whole answer (10 KB at 10 B/s)
    never does: the submit ends at connect + 2 x read seconds, retries included."""
    submit.state.faults.rules.append(Fault("drip"))
    code, _, err, seconds = submit()
    assert code == 3
    assert f"no complete answer within {3 * TIMEOUT:g} s" in one_error_line(err)
    assert seconds < 3 * TIMEOUT + 3


SHAPES = ["null", "[]", '"x"', "{}", '{"error": "x", "code": 13, "message": "x"}']
ENDPOINTS = {  # what the answer spoiled answers: (method, path)
    "pipeline lookup": ("GET", "/pipelines"),
    "upload": ("POST", "/pipelines/upload"), "versions": ("GET", "/versions"),
    "experiment": ("POST", "/experiments"), "run": ("POST", "/runs"),
}
READ_ON = {"pipeline lookup"}  # {} is a fine answer there: nothing required


@pytest.mark.parametrize("body", SHAPES)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_json_of_the_wrong_shape_is_one_line_and_nothing_about_what_was_not_made(
        submit, endpoint, body) -> None:
    """``null``, a list or a text where an object belongs, or an object without the id: one
    line, exit status 1, and no "details" line about a pipeline, experiment or run that the
    answer did not show to exist (kfp.Client prints them before it looks)."""
    method, path = ENDPOINTS[endpoint]
    if endpoint in READ_ON and body.startswith("{"):
        return  # nothing in these is required; a lookup answering none uploads
    submit.state.faults.rules.append(Fault("json", method=method, path=path, body=body))
    code, out, err, _ = submit()
    assert code == 1, err
    assert one_error_line(err).startswith(f"error: KFP at {submit.host}: cannot "), err
    assert "/None" not in err and not out


def test_a_write_redirected_to_another_port_is_not_sent_there(submit) -> None:
    """A 307 keeps the method and the body: an upload redirected to another service would
    give it the pipeline. Not followed; one line names where it pointed."""
    with kfp_server() as (other, elsewhere):
        submit.state.faults.rules.append(Fault("redirect", method="POST", status=307,
                                               location=other))
        code, out, err, _ = submit("--token", "secret")
    assert code == 3, err
    assert one_error_line(err) == (
        f"error: KFP at {submit.host}: cannot upload the pipeline: the server redirected this "
        f"POST to {other}{API}/pipelines/upload?name=digits-svm-tuning&namespace=team-a "
        "(another scheme, host or port): not sent there; check the address (or use the "
        "address it points to, if it is the API)")
    assert elsewhere.calls == [] and not out
    assert "Pipeline details" not in err


@pytest.mark.parametrize("body", ["null", "[]", '"x"'])
def test_a_health_check_answered_with_json_of_the_wrong_shape_is_one_line(tmp_path, monkeypatch,
                                                                           body) -> None:
    """kfp.Client checks the server's health when no namespace is given, and reads
    ``multi_user`` of the answer: ``null`` was an AttributeError traceback."""
    monkeypatch.setattr("kfp.Client._LOCAL_KFP_CONTEXT", str(tmp_path / "ctx.json"))
    package = tmp_path / "pipeline.yaml"
    package.write_text("pipelineInfo:\n  name: tiny\nschemaVersion: 2.1.0\n")
    with kfp_server() as (host, state):
        state.faults.rules.append(Fault("json", path="/healthz", body=body))
        with pytest.raises(Exception) as caught:
            submit_pipeline(package, host, name="tiny")
    assert (type(caught.value).__name__, caught.value.exit_code) == ("SubmitError", 1)
    assert str(caught.value) == (
        f"KFP at {host}: cannot connect: the server answered HTTP 200 (application/json) "
        f"with text {body!r}: not a JSON object, as the API answers; is this the API's "
        "address?")
