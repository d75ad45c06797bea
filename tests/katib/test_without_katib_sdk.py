"""Without kubeflow-katib (the usual environment, beside kfp 2.17), what needs it says so.

kubeflow-katib is the ``katib-sdk`` extra: ``automl.report`` on a cluster and ``--db-manager``
need it. Each says, in one line and before touching the cluster, what to install.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

import automl
from automl.errors import AutomlError
from tests.katib.kube_server import kube_server

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("kubeflow") is not None
    and importlib.util.find_spec("kubeflow.katib") is not None,
    reason="kubeflow-katib is installed here")

HINT = "pip install 'automl[katib-sdk]'"


def test_db_manager_without_the_katib_sdk_says_what_to_install_in_one_line(tmp_path) -> None:
    with kube_server(tmp_path) as (kubeconfig, cluster):
        done = subprocess.run(
            [sys.executable, "-m", "automl", "trials", "t", "--backend", "katib",
             "--db-manager", "127.0.0.1:6789"], env={**os.environ, "KUBECONFIG": kubeconfig},
            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and HINT in done.stderr
    assert done.stderr.startswith("error: --db-manager needs kubeflow-katib")
    assert cluster.calls == []


def test_report_on_a_cluster_without_the_katib_sdk_says_what_to_install(monkeypatch) -> None:
    monkeypatch.delenv("AUTOML_METRICS_FILE", raising=False)
    with pytest.raises(AutomlError, match="needs kubeflow-katib") as caught:
        automl.report({"accuracy": 0.9})
    assert HINT in str(caught.value) and "\n" not in str(caught.value)


def test_the_kubeflow_sdk_search_space_tunes_locally(tmp_path) -> None:
    """The Kubeflow SDK (``kubeflow.optimizer.Search``) builds kubeflow-katib-api parameter specs;
    automl.tune takes them, as it takes kubeflow-katib's ``katib.search``."""
    search = pytest.importorskip("kubeflow.optimizer").Search
    summary = automl.tune("t", _product, {"lr": search.loguniform(0.001, 0.1),
                                         "kind": search.choice(["a", "b"])},
                          objective_metric_name="y", max_trial_count=3, progress=False,
                          root=tmp_path / ".automl")
    assert summary.counts == {"Succeeded": 3}
    assert 0.001 <= float(summary.best["params"]["lr"]) <= 0.1
    assert summary.best["params"]["kind"] in ("a", "b")


def _product(params):
    return {"y": float(params["lr"]) * (2 if params["kind"] == "a" else 1)}
