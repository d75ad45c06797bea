"""What the real Katib 0.19 does that it should not: each test pins one upstream defect, so
that it fails (and the note and the workaround go) once a Katib release fixes it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from tests.cluster.conftest import make_namespace
from tests.cluster.control_plane import ControlPlane
from tests.cluster.test_run import _automl, _experiment

pytestmark = pytest.mark.cluster


def test_katib_feeds_a_same_named_experiments_trials_from_another_namespace(
        cluster: ControlPlane, katib_namespace: str, tmp_path: Path) -> None:
    """The suggestion controller lists an experiment's trials by the label
    katib.kubeflow.org/experiment=<name> without a namespace: an experiment named like a
    finished one of another namespace gets that one's trials, and its suggestion service
    refuses them ("Same parameter is not found for Trial"), so it never starts a trial."""
    experiment, name = _experiment(tmp_path, "random")
    ran = _automl("run", str(experiment), "--backend", "katib", "--poll", "0.5", "--quiet")
    assert ran.returncode == 0, ran.stderr

    other = make_namespace(cluster)
    compiled = yaml.safe_load(_automl("compile", str(experiment)).stdout)
    compiled["metadata"]["namespace"] = other
    status, answer = cluster.request(
        "POST", f"/apis/kubeflow.org/v1beta1/namespaces/{other}/experiments", compiled)
    assert status == 201, answer
    log = cluster.folder / "logs" / f"suggestion-{other}-{name}-random.log"
    deadline = time.monotonic() + 120
    while not (log.exists() and "Same parameter is not found for Trial" in log.read_text()):
        assert time.monotonic() < deadline, "the suggestion service never saw foreign trials"
        time.sleep(0.2)
    status, trials = cluster.request(
        "GET", f"/apis/kubeflow.org/v1beta1/namespaces/{other}/trials")
    assert status == 200 and trials["items"] == []
    cluster.request("DELETE", f"/apis/kubeflow.org/v1beta1/namespaces/{other}/experiments/"
                              f"{name}")
