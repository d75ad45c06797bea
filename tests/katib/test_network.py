"""The katib commands against a Kubernetes API double that misbehaves (kube_server.py, why a
double; tests/http_faults.py, how): each ends with one error line and its exit status, or
gets through what may pass, never a traceback."""

from __future__ import annotations

import sys
import time

import pytest

import automl
from automl.cli import main
from automl.katib.backend import run_on_katib
from automl.katib.cluster import EXIT_CODES, KatibCluster
from tests.http_faults import LOGIN_PAGE, PROXY_PAGE, Fault, one_error_line
from tests.katib.kube_server import PREFIX, kube_server
from tests.katib.test_backend import _spec

TIMEOUT = 0.3  # $AUTOML_HTTP_TIMEOUT for these tests: a silent server costs little
COMMANDS = {
    "list": ["list", "--backend", "katib"],
    "status": ["status", "t", "--backend", "katib"],
    "trials": ["trials", "t", "--backend", "katib", "--format", "csv"],
    "run": ["run", "{file}", "--backend", "katib", "--poll", "0", "-q"],
    "budget": ["budget", "t", "--max-trials", "5"],
    "delete": ["delete", "t", "--backend", "katib", "--yes"],
    "logs": ["logs", "t", "t-00000000", "--backend", "katib"],
}
FAULTS = {  # fault, exit status, what its error line says
    "a login page with 200": (Fault("page", body=LOGIN_PAGE), EXIT_CODES["forbidden"],
                              "with an HTML page titled 'Log in to Kubeflow': a login page: "
                              "the kubeconfig's credentials did not get through"),
    "a proxy's page with 200": (Fault("page", body=PROXY_PAGE), EXIT_CODES["no cluster"],
                                "with an HTML page titled 'Welcome to nginx!': not the API"),
    "503 for good": (Fault("status"), EXIT_CODES["no cluster"],
                     "HTTP 503 (application/json) with the message 'injected 503'"),
    "no answer": (Fault("silent"), EXIT_CODES["no cluster"],  # a read: its deadline; a
                  "answer within "),  # write ("no answer within 0.3 s"): each try's timeout
    "truncated JSON": (Fault("truncated"), EXIT_CODES["no cluster"],
                       "malformed or truncated JSON"),
    "an empty body": (Fault("empty"), EXIT_CODES["no cluster"],
                      "with an empty body: is this the API's address?"),
    "JSON without its fields": (Fault("json", body='{"items": 5, "metadata": 5}'), 1,
                                "the answer"),
}


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """Run ``automl`` in this process against a fresh double: (exit status, stdout, stderr,
    seconds); the double's state is ``cli.cluster``."""
    monkeypatch.setenv("AUTOML_HTTP_TIMEOUT", str(TIMEOUT))
    monkeypatch.setattr("automl._network.BACKOFF", 0.01)
    monkeypatch.setattr("automl.katib.backend.time.sleep", lambda seconds: None)
    file = tmp_path / "exp.yaml"
    file.write_text(automl.spec.spec_to_yaml(_spec()))

    def invoke(command: str) -> tuple[int, str, str, float]:
        argv = [a.format(file=file) for a in COMMANDS[command]]
        monkeypatch.setattr(sys, "argv", ["automl", *argv])
        start = time.monotonic()
        with pytest.raises(SystemExit) as ended:
            main()
        out, err = capsys.readouterr()
        return ended.value.code or 0, out, err, time.monotonic() - start

    with kube_server(tmp_path) as (kubeconfig, cluster):
        monkeypatch.setenv("KUBECONFIG", kubeconfig)
        invoke.cluster = cluster
        invoke.kubeconfig = kubeconfig
        yield invoke


def _with_experiment(cli, command: str) -> None:
    """Every command but run reads an experiment that ran (run creates its own)."""
    if command != "run":
        run_on_katib(_spec(), KatibCluster(config_file=cli.kubeconfig), poll_seconds=0,
                     progress=False)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_answer_is_one_error_line_with_its_exit_status(cli, command, fault) -> None:
    _with_experiment(cli, command)
    rule, status, text = FAULTS[fault]
    cli.cluster.faults.rules.append(rule)
    code, _, err, seconds = cli(command)
    if fault == "JSON without its fields" and command == "delete":
        assert code == 0  # a delete reads nothing of its answer
        return
    line = one_error_line(err)
    assert (code, line.startswith("error: cannot "), text in line) == (status, True, True), err
    if fault == "no answer":  # a read's tries end at its deadline, a write's 4 at theirs
        assert seconds < 4 * TIMEOUT + 3


@pytest.mark.parametrize("command", COMMANDS)
def test_one_503_is_tried_again_and_the_command_succeeds(cli, command) -> None:
    _with_experiment(cli, command)
    once = Fault("status", times=1)
    cli.cluster.faults.rules.append(once)
    code, out, err, _ = cli(command)
    assert (code, once.times) == (0, 0), err
    assert "Traceback" not in err and out


def test_run_follows_on_through_a_look_that_failed_every_try(cli) -> None:
    """Five 503s in a row: the first look at the experiment fails all four tries, the next
    gets through on its second; the experiment ran on meanwhile."""
    cli.cluster.faults.rules.append(Fault("status", times=5, method="GET",
                                          path="/experiments/t"))
    code, out, err, _ = cli("run")
    assert code == 0, err
    assert out.startswith("t: Succeeded")
    assert "the experiment runs on: looking again" in err


def test_a_create_whose_answer_was_lost_is_found_as_ours(cli) -> None:
    cli.cluster.faults.rules.append(Fault("lost", times=1, method="POST", status=504))
    code, out, err, _ = cli("run")
    assert code == 0, err
    assert out.startswith("t: Succeeded")
    assert [c for c in cli.cluster.calls if c[0] == "POST"] == [
        ("POST", f"{PREFIX}team-a/experiments")] * 2
    assert list(cli.cluster.experiments) == [("team-a", "t")]


def test_a_conflict_after_a_retried_create_with_another_spec_is_not_ours(cli) -> None:
    other = automl.katib.katib_dict(_spec())
    other["spec"]["maxTrialCount"] = 2
    KatibCluster(config_file=cli.kubeconfig).create(other)
    cli.cluster.faults.rules.append(Fault("status", times=1, method="POST"))
    code, _, err, _ = cli("run")
    assert code == EXIT_CODES["conflict"]
    assert one_error_line(err).startswith("error: cannot create experiment t: it already exists")
    assert cli.cluster.experiments[("team-a", "t")]["spec"]["maxTrialCount"] == 2


def test_a_delete_whose_answer_was_lost_is_done(cli) -> None:
    _with_experiment(cli, "delete")
    cli.cluster.faults.rules.append(Fault("lost", times=1, method="DELETE", status=502))
    code, out, err, _ = cli("delete")
    assert (code, out) == (0, "deleted t\n"), err
    assert not cli.cluster.experiments


def test_a_redirect_to_the_same_host_keeps_the_token(cli) -> None:
    host = KatibCluster(config_file=cli.kubeconfig).api_client.configuration.host
    _with_experiment(cli, "status")
    cli.cluster.faults.rules.append(Fault("redirect", times=1, location=host))
    seen = len(cli.cluster.faults.authorization)
    code, out, err, _ = cli("status")
    assert code == 0, err
    assert out.startswith("t: Succeeded")
    assert cli.cluster.faults.authorization[seen:seen + 2] == ["Bearer t0ken"] * 2


def test_a_redirect_to_another_host_gets_no_token(cli, tmp_path) -> None:
    (tmp_path / "elsewhere").mkdir()
    with kube_server(tmp_path / "elsewhere") as (kubeconfig, elsewhere):
        other = KatibCluster(config_file=kubeconfig).api_client.configuration.host
        cli.cluster.faults.rules.append(Fault("redirect", times=1, location=other))
        code, _, err, _ = cli("list")
    assert code == 0, err
    assert elsewhere.calls == [("GET", f"{PREFIX}team-a/experiments")]
    assert elsewhere.faults.authorization == [None]


def test_endless_redirects_end_after_a_few(cli) -> None:
    host = KatibCluster(config_file=cli.kubeconfig).api_client.configuration.host
    cli.cluster.faults.rules.append(Fault("redirect", location=host))
    code, _, err, _ = cli("list")
    assert code == EXIT_CODES["no cluster"]
    assert one_error_line(err) == "error: cannot list experiments: more than 5 redirects"
    assert len(cli.cluster.calls) == 6


def _long_log(cli, lines: int) -> list[str]:
    """The first trial's pod log made ``lines`` lines long; those lines."""
    _with_experiment(cli, "logs")
    text = [f"epoch {i}" for i in range(lines)]
    cli.cluster.pods[("team-a", "t-00000000-pod")]["logs"]["metrics-logger-and-collector"] = \
        "".join(f"{line}\n" for line in text)
    return text


@pytest.mark.parametrize("tail", [None, 4])
def test_a_followed_log_whose_stream_breaks_goes_on_where_it_was(cli, monkeypatch,
                                                                 tail) -> None:
    """The stream is cut twice, mid-line; each time it is opened again and every line shows
    once, in order (two of every three lines share their instant, as the double says)."""
    text = _long_log(cli, 40)
    cli.cluster.faults.rules.append(Fault("cut", times=2, path="/log"))
    extra = ["--tail", str(tail)] if tail else []
    monkeypatch.setitem(COMMANDS, "logs", [*COMMANDS["logs"], "--follow", *extra])
    code, out, err, _ = cli("logs")
    assert code == 0, err
    assert out.splitlines() == text[-tail if tail else 0:]
    assert len([c for c in cli.cluster.calls if c[1].endswith("/log")]) == 3


def test_a_followed_log_whose_stream_keeps_breaking_is_oneone_error_line(cli,
                                                                      monkeypatch) -> None:
    _long_log(cli, 40)
    cli.cluster.faults.rules.append(Fault("cut", path="/log"))
    monkeypatch.setitem(COMMANDS, "logs", [*COMMANDS["logs"], "--follow"])
    code, _, err, _ = cli("logs")
    assert code == EXIT_CODES["no cluster"]
    assert one_error_line(err).startswith("error: cannot follow the log of pod t-00000000-pod: "
                                       "the stream of pod t-00000000-pod's log broke 4 times")


def test_status_watch_looks_again_after_a_look_that_failed_every_try(cli, monkeypatch) -> None:
    _with_experiment(cli, "status")
    cli.cluster.faults.rules.append(Fault("status", times=5, method="GET",
                                          path="/experiments/t"))
    monkeypatch.setattr("automl._watch.time.sleep", lambda seconds: None)
    monkeypatch.setitem(COMMANDS, "status", [*COMMANDS["status"], "--watch"])
    code, out, err, _ = cli("status")
    assert code == 0, err
    assert "t: Succeeded" in out
    assert "injected 503' (4 tries): the server is down or overloaded; try again later; " \
           "looking again in 2 s" in err


@pytest.mark.parametrize("value", ["soon", "0", "-1", "inf"])
def test_a_wrong_http_timeout_is_bad_input(cli, monkeypatch, value) -> None:
    monkeypatch.setenv("AUTOML_HTTP_TIMEOUT", value)
    code, _, err, _ = cli("list")
    assert code == 2
    assert one_error_line(err) == (f"error: cannot list experiments: $AUTOML_HTTP_TIMEOUT="
                                f"{value!r}: give the seconds to wait for a server as a "
                                "positive number, e.g. 30")


def _corrupt(obj: dict, path: str, value) -> None:
    *parents, last = [int(n) if n.isdigit() else n for n in path.split(".")]
    for name in parents:
        obj = obj[name]
    if value is None:
        del obj[last]
    else:
        obj[last] = value


@pytest.mark.parametrize(("target", "path", "value", "text"), [
    ("experiment", "spec", 5, "the answer's spec is a number, not a mapping"),
    ("experiment", "status.conditions", "x", "the answer's status.conditions is a text, not "
                                             "a list"),
    ("experiment", "status.conditions.0.type", None, "item 0 of status.conditions: the "
                                                     "answer has no type"),
    ("experiment", "status.trialsFailed", "3", "the answer's status.trialsFailed is a text, "
                                               "not a number"),
    ("trial", "metadata.name", 5, "the answer's metadata.name is a number, not a text"),
    ("trial", "spec.parameterAssignments", {}, "the answer's spec.parameterAssignments is a "
                                               "mapping, not a list"),
    ("trial", "spec.parameterAssignments.0.value", None, "item 0 of spec.parameterAssignments"
                                                         ": the answer has no value"),
    ("trial", "status.observation.metrics.0", "loss", "item 0 of status.observation.metrics: "
                                                      "the answer's name is inside a text"),
    ("trial", "status.startTime", "yesterday", "the answer's status.startTime 'yesterday' is "
                                               "not a timestamp"),
    ("trial", "spec.metricsCollector", "StdOut", "the answer's "
                                                 "spec.metricsCollector.collector.kind is "
                                                 "inside a text"),
])
def test_a_field_automl_reads_that_is_missing_or_mistyped_is_named(cli, target, path, value,
                                                                   text) -> None:
    """Every field the katib commands read of an Experiment or Trial is checked where the
    answer comes in: one line naming it, exit status 1."""
    _with_experiment(cli, "trials")
    store = cli.cluster.experiments if target == "experiment" else cli.cluster.trials
    _corrupt(next(iter(store.values())), path, value)
    code, _, err, _ = cli("trials")
    assert code == 1, err
    line = one_error_line(err)
    assert line.startswith("error: cannot ") and text in line, line


@pytest.mark.parametrize("command", ["list", "status", "trials", "logs"])
def test_an_answer_dripping_a_byte_at_a_time_ends_at_the_calls_deadline(cli, command) -> None:
    """Each byte comes well within the read timeout; the whole answer (10 KB at 10 B/s)
    never does: the call ends at connect + 2 x read seconds, retries included."""
    _with_experiment(cli, command)
    cli.cluster.faults.rules.append(Fault("drip", method="GET"))
    code, _, err, seconds = cli(command)
    assert code == EXIT_CODES["no cluster"]
    assert f"no complete answer within {3 * TIMEOUT:g} s" in one_error_line(err)
    assert seconds < 3 * TIMEOUT + 2


SHAPES = ["null", "[]", '"x"', "{}", '{"kind": "Status", "apiVersion": "v1", "message": "x"}',
          '{"kind": "ExperimentList", "apiVersion": "kubeflow.org/v1beta1"}']
ENDPOINTS = {  # command: the path of the answer spoiled (each command's every read)
    "list": "/experiments", "status": "/experiments/t", "trials": "/trials",
    "logs": "/trials/t-00000000", "logs-pods": "/pods", "run": "/experiments/t",
}


@pytest.mark.parametrize("body", SHAPES)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_json_of_the_wrong_shape_is_one_line_not_an_empty_answer(cli, endpoint,
                                                                  body) -> None:
    """A List without items, of another kind, a Status, null or a list where an object
    belongs: never read as "no experiments" (an empty table and status 0)."""
    command = endpoint.split("-")[0]
    _with_experiment(cli, command)
    cli.cluster.faults.rules.append(Fault("json", method="GET", path=ENDPOINTS[endpoint],
                                          body=body))
    code, out, err, _ = cli(command)
    assert code == 1, err
    assert one_error_line(err).startswith("error: cannot "), err
    assert not out.strip() or command == "run", out
