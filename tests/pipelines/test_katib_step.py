"""The tuning step with backend="katib": what it needs on a cluster, and the same outputs as
with the local backend. The cluster is tests/katib/kube_server.py's API double (no Kubernetes
API server runs here; it speaks the real Katib CRD and core API wire format)."""

from __future__ import annotations

import csv
import functools
import json

import yaml

from automl.backends._katib import KatibBackend
from automl.katib.backend import collect as katib_results
from automl.katib.cluster import KatibCluster
from automl.pipelines import compile_pipeline, tuning_pipeline
from automl.pipelines.step import run_tuning
from tests.katib.kube_server import PREFIX, kube_server
from tests.katib.test_backend import _spec
from tests.local.helpers import spec as local_spec


def test_the_compiled_katib_step_carries_its_namespace_and_a_pod_deadline(tmp_path) -> None:
    package = compile_pipeline(tuning_pipeline(local_spec(), backend="katib",
                                               namespace="team-a", timeout_minutes=30),
                               tmp_path / "k.yaml")
    pipeline, platform = yaml.safe_load_all(package.read_text())
    defaults = {k: v.get("defaultValue")
                for k, v in pipeline["root"]["inputDefinitions"]["parameters"].items()}
    assert (defaults["backend"], defaults["namespace"], defaults["timeout_minutes"]) == (
        "katib", "team-a", 30.0)
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert executors["exec-tune"]["activeDeadlineSeconds"] == str(30 * 60 + 300)


def test_the_katib_step_writes_what_the_local_step_writes(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(KatibBackend, "__init__",
                        functools.partialmethod(KatibBackend.__init__, poll_seconds=0))
    out = tmp_path / "out"
    with kube_server(tmp_path, namespace="default") as (kubeconfig, cluster):
        monkeypatch.setenv("KUBECONFIG", kubeconfig)
        result = run_tuning(json.dumps(_spec().model_dump(mode="json", by_alias=True)),
                            trials_path=out / "trials.csv", tensorboard_dir=out / "tb",
                            summary_path=out / "summary.md", backend="katib",
                            namespace="team-a", logs_dir=out / "logs", progress=False)
        katib = KatibCluster(config_file=kubeconfig, namespace="team-a")
        pod_logs = {t: "".join(f"{line}\n" for line in katib.trial_logs("t", t))
                    for t in katib_results("t", katib).trials["trial"]}
    assert cluster.calls[0] == ("POST", f"{PREFIX}team-a/experiments")
    assert result.trials == 3
    with open(out / "trials.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [r["backend"] for r in rows] == ["katib"] * 3
    assert (out / "summary.md").read_text().startswith("# Experiment `t`: Succeeded")
    assert sorted(p.name for p in (out / "tb").iterdir() if p.is_dir()) == [
        r["trial"] for r in rows]
    for row in rows:  # each trial's pod log, as automl logs --backend katib prints it
        shown = (out / "logs" / row["trial"] / "stdout.log").read_text()
        assert shown == pod_logs[row["trial"]] and shown.strip()
