"""The Katib backend against a Kubernetes API double (see kube_server.py for why a double)."""

from __future__ import annotations

import base64
import shlex

import pytest

import automl
from automl.katib import katib_dict
from automl.katib.backend import collect, run_on_katib
from automl.katib.cluster import EXIT_CODES, KatibCluster, KatibError
from tests.katib.kube_server import PREFIX, kube_server
from tests.local.helpers import katib_spec, run

_spec = katib_spec


def test_run_creates_follows_and_collects_in_the_kubeconfig_namespace(tmp_path) -> None:
    with kube_server(tmp_path) as (kubeconfig, cluster):
        katib = KatibCluster(config_file=kubeconfig)
        summary = run_on_katib(_spec(), katib, poll_seconds=0, progress=False)
        results = collect("t", katib)
    assert katib.namespace == "team-a"
    assert cluster.calls[0] == ("POST", f"{PREFIX}team-a/experiments")
    assert (summary.status, summary.counts) == ("Succeeded", {"Succeeded": 3})
    assert summary.reason.startswith("ExperimentMaxTrialsReached")
    trials = results.trials
    assert list(trials["status"]) == ["Succeeded"] * 3
    assert (trials["backend"] == "katib").all()
    # The double's objective is x; minimize takes min: x itself
    assert list(trials["objective"]) == pytest.approx(list(trials["params.x"]))
    assert summary.best["name"] == trials.loc[trials["objective"].idxmin(), "trial"]


def test_a_text_objective_on_the_cluster_is_not_the_best_here(tmp_path) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(automl.spec.spec_to_yaml(_spec()))
    with kube_server(tmp_path) as (kubeconfig, cluster):
        cluster.texts = {0: "-"}  # what Katib's default filter reads from 'loss=-inf'
        katib = KatibCluster(config_file=kubeconfig)
        summary = run_on_katib(_spec(), katib, poll_seconds=0, progress=False)
        results = collect("t", katib)
        status = _cli("status", "t", "--backend", "katib", kubeconfig=kubeconfig, cwd=tmp_path)
        (experiment,) = cluster.experiments.values()
    trials = results.trials
    texted = trials["trial"].iloc[0]
    assert experiment["status"]["currentOptimalTrial"]["bestTrialName"] == texted  # Katib's
    numeric = trials[trials["trial"] != texted]
    best = numeric.loc[numeric["objective"].idxmin(), "trial"]
    assert summary.best["name"] == best
    assert results.best()["trial"].tolist() == [best]
    assert f"best: {best} loss=" in status.stdout


def test_katib_and_local_results_have_identical_columns_and_dtypes(tmp_path) -> None:
    run(_spec(), tmp_path)
    local = automl.load_results("t", root=tmp_path / ".automl").trials
    with kube_server(tmp_path) as (kubeconfig, _):
        katib = KatibCluster(config_file=kubeconfig)
        run_on_katib(_spec(), katib, poll_seconds=0, progress=False)
        remote = collect("t", katib).trials
    assert list(remote.columns) == list(local.columns)
    assert dict(remote.dtypes) == dict(local.dtypes)


def test_resume_reattaches_and_a_second_create_is_a_conflict(tmp_path) -> None:
    with kube_server(tmp_path) as (kubeconfig, cluster):
        katib = KatibCluster(config_file=kubeconfig)
        run_on_katib(_spec(), katib, poll_seconds=0, progress=False)
        with pytest.raises(KatibError) as caught:
            run_on_katib(_spec(), katib, poll_seconds=0, progress=False)
        assert caught.value.exit_code == EXIT_CODES["conflict"]
        assert "already exists in namespace team-a; reattach with --resume" in str(caught.value)
        summary = run_on_katib(_spec(), katib, resume=True, poll_seconds=0, progress=False)
    assert summary.status == "Succeeded"
    assert [m for m, _ in cluster.calls].count("POST") == 2


@pytest.mark.parametrize(("setup", "code", "text"), [
    (lambda c: c.forbidden.add("team-a"), "forbidden", "forbidden in namespace team-a"),
    (lambda c: setattr(c, "katib_installed", False), "no Katib", "the cluster has no Katib"),
])
def test_refusals_are_one_line_errors_with_their_exit_code(tmp_path, setup, code, text) -> None:
    with kube_server(tmp_path) as (kubeconfig, cluster):
        setup(cluster)
        with pytest.raises(KatibError) as caught:
            run_on_katib(_spec(), KatibCluster(config_file=kubeconfig), progress=False)
    assert caught.value.exit_code == EXIT_CODES[code]
    assert text in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_experiment_is_not_found(tmp_path) -> None:
    with kube_server(tmp_path) as (kubeconfig, _), pytest.raises(KatibError) as caught:
        collect("nope", KatibCluster(config_file=kubeconfig))
    assert caught.value.exit_code == EXIT_CODES["not found"]
    assert str(caught.value) == "cannot get experiment nope: not found in namespace team-a"


def test_no_kubeconfig_is_no_cluster(tmp_path) -> None:
    with pytest.raises(KatibError) as caught:
        KatibCluster(config_file=str(tmp_path / "missing"))
    assert caught.value.exit_code == EXIT_CODES["no cluster"]


def test_budget_edits_list_and_delete(tmp_path) -> None:
    with kube_server(tmp_path) as (kubeconfig, cluster):
        katib = KatibCluster(config_file=kubeconfig, namespace="other")
        katib.create(katib_dict(_spec()))
        edited = katib.edit_budget("t", max_trials=5, parallel_trials=2)
        assert (edited["spec"]["maxTrialCount"], edited["spec"]["parallelTrialCount"]) == (5, 2)
        assert [e["metadata"]["name"] for e in katib.list()] == ["t"]
        katib.delete("t")
        assert katib.list() == []
    assert ("PATCH", f"{PREFIX}other/experiments/t") in cluster.calls


def test_the_double_refuses_what_katibs_schema_refuses(tmp_path) -> None:
    body = katib_dict(_spec())
    body["spec"]["maxTrialCount"] = "three"
    with kube_server(tmp_path) as (kubeconfig, _), \
            pytest.raises(KatibError, match="denied the request: 'three' is not of type"):
        KatibCluster(config_file=kubeconfig).create(body)


def _cli(*args, kubeconfig, cwd):
    import os
    import subprocess
    import sys

    env = {**os.environ, "KUBECONFIG": kubeconfig}
    return subprocess.run([sys.executable, "-m", "automl", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_cli_runs_lists_reads_and_deletes_on_katib(tmp_path) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(automl.spec.spec_to_yaml(_spec()))
    with kube_server(tmp_path) as (kubeconfig, cluster):
        ran = _cli("run", str(path), "--backend", "katib", "--poll", "0", "-q",
                   kubeconfig=kubeconfig, cwd=tmp_path)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.startswith("t: Succeeded (ExperimentMaxTrialsReached")
        table = _cli("trials", "t", "--backend", "katib", "--format", "csv",
                     kubeconfig=kubeconfig, cwd=tmp_path)
        assert table.returncode == 0, table.stderr
        lines = table.stdout.splitlines()
        assert len(lines) == 4 and lines[1].endswith(",katib,")  # succeeded: no reason
        listed = _cli("list", "--backend", "katib", kubeconfig=kubeconfig, cwd=tmp_path)
        assert [line.split()[0] for line in listed.stdout.splitlines()] == ["experiment", "t"]
        again = _cli("run", str(path), "--backend", "katib", kubeconfig=kubeconfig,
                     cwd=tmp_path)
        assert again.returncode == EXIT_CODES["conflict"]
        assert "Traceback" not in again.stderr
        edited = _cli("budget", "t", "--max-trials", "5", kubeconfig=kubeconfig, cwd=tmp_path)
        assert edited.stdout.strip() == ("t: maxTrialCount=5 parallelTrialCount=3 "
                                         "maxFailedTrialCount=None")
        dry = _cli("run", str(path), "--backend", "katib", "--dry-run", kubeconfig=kubeconfig,
                   cwd=tmp_path)
        assert dry.stdout.startswith("apiVersion: kubeflow.org/v1beta1\nkind: Experiment\n")
        assert _cli("delete", "t", "--backend", "katib", "--yes", kubeconfig=kubeconfig,
                    cwd=tmp_path).returncode == 0
        gone = _cli("status", "t", "--backend", "katib", kubeconfig=kubeconfig, cwd=tmp_path)
        assert gone.returncode == EXIT_CODES["not found"]
    assert not cluster.experiments


def shifted(params):
    return (float(params["x"]) - 2) ** 2


def test_tune_with_the_katib_backend_submits_the_function(tmp_path, monkeypatch) -> None:
    with kube_server(tmp_path) as (kubeconfig, cluster):
        monkeypatch.setenv("KUBECONFIG", kubeconfig)
        summary = automl.tune("quad", shifted, {"x": {"type": "double", "min": 0, "max": 4}},
                              objective_metric_name="loss", objective_type="minimize",
                              max_trial_count=3, parallel_trial_count=3, backend="katib",
                              progress=False)
        (experiment,) = cluster.experiments.values()
    assert summary.status == "Succeeded"
    container = experiment["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"][
        "containers"][0]
    assert container["command"] == ["sh", "-c"]
    program = shlex.split(container["args"][0].replace("$$", "$"))[4]
    assert base64.b64decode(program).decode().startswith("def shifted(params):")


def test_ctrl_c_stops_following_and_leaves_the_experiment_running(tmp_path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "exp.yaml"
    path.write_text(automl.spec.spec_to_yaml(_spec()))
    with kube_server(tmp_path) as (kubeconfig, cluster):
        cluster.stalled = True
        follower = subprocess.Popen(
            [sys.executable, "-m", "automl", "run", str(path), "--backend", "katib",
             "--poll", "0.1", "-q"], env={**os.environ, "KUBECONFIG": kubeconfig},
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while time.time() < deadline and not cluster.trials:
            time.sleep(0.1)
        follower.send_signal(signal.SIGINT)
        _, err = follower.communicate(timeout=60)
        assert follower.returncode == 130
        assert "the experiment runs on. Reattach: automl status t --backend katib" in err
        assert "Traceback" not in err
        assert ("team-a", "t") in cluster.experiments  # still there, still running


def test_the_pipeline_step_runs_the_experiment_on_katib(tmp_path, monkeypatch) -> None:
    import json

    from automl.pipelines.builder import tuning_pipeline
    from automl.pipelines.local import run_local

    with kube_server(tmp_path) as (kubeconfig, cluster):
        monkeypatch.setenv("KUBECONFIG", kubeconfig)  # the step's process inherits it
        out = run_local(tuning_pipeline(_spec(), backend="katib"), tmp_path / "kfp",
                        quiet=True)
        (experiment,) = cluster.experiments.values()
    optimal = experiment["status"]["currentOptimalTrial"]
    assert out["best_params"] == {a["name"]: a["value"]
                                  for a in optimal["parameterAssignments"]}
    trials_csv = out["outputs"]["tune"]["trials"]
    lines = trials_csv.read_text().splitlines()
    assert len(lines) == 4 and lines[1].endswith(",katib,")  # succeeded: no reason
    assert json.loads(json.dumps(out["metrics"]["tune"]))["trials"] == 3


def test_katib_status_shows_counts_and_best_and_all_lists_every_trial(tmp_path) -> None:
    with kube_server(tmp_path) as (kubeconfig, _cluster):
        katib = KatibCluster(config_file=kubeconfig)
        run_on_katib(_spec(), katib, poll_seconds=0, progress=False)
        trials = collect("t", katib).trials
        summary = _cli("status", "t", "--backend", "katib", kubeconfig=kubeconfig, cwd=tmp_path)
        every = _cli("status", "t", "--backend", "katib", "--all", kubeconfig=kubeconfig,
                     cwd=tmp_path)
    assert "trials: 3 of 3 (3 Succeeded)" in summary.stdout
    ranked = trials.sort_values("objective", kind="stable")["trial"].tolist()
    shown = [line.split()[0] for line in summary.stdout.splitlines() if line.startswith("t-")]
    assert "best 3" in summary.stdout and shown == ranked
    assert [line.split()[0] for line in every.stdout.splitlines()
            if line.startswith("t-")] == trials["trial"].tolist()


def test_katib_status_watch_stops_once_the_experiment_has_succeeded(tmp_path) -> None:
    with kube_server(tmp_path) as (kubeconfig, _cluster):
        katib = KatibCluster(config_file=kubeconfig)
        run_on_katib(_spec(), katib, poll_seconds=0, progress=False)
        watched = _cli("status", "t", "--backend", "katib", "--watch", "--interval", "0.1",
                       kubeconfig=kubeconfig, cwd=tmp_path)
    assert watched.returncode == 0, watched.stderr
    assert watched.stdout.startswith("--- ") and watched.stdout.count("--- ") == 1
    assert "t: Succeeded" in watched.stdout
