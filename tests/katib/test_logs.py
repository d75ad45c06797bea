"""automl logs on Katib: the trial's pod found by its label, the collector's container read.

Against the Kubernetes API double (kube_server.py: no API server can run here), which serves
the core API's pod list and pod log paths as the kubernetes client calls them.
"""

from __future__ import annotations

import pytest

import automl
from automl.backends import get_backend
from automl.errors import AutomlError
from automl.katib.cluster import KatibError
from tests.katib.kube_server import CORE_PREFIX, kube_server

SPEC = {"name": "tiny", "objective": {"metric": "loss", "type": "minimize"},
        "algorithm": {"name": "random"}, "budget": {"max_trials": 2, "parallel_trials": 2},
        "parameters": [{"name": "lr", "type": "double", "min": 0.01, "max": 0.1}],
        "trial": {"image": "python:3.12", "command": ["python", "train.py",
                                                      "--lr=${trialParameters.lr}"]}}


def _run(kubeconfig: str, monkeypatch: pytest.MonkeyPatch) -> tuple[object, list[str]]:
    monkeypatch.setenv("KUBECONFIG", kubeconfig)
    backend = get_backend("katib", poll_seconds=0)
    backend.run(automl.load(SPEC), progress=False)
    trials = list(backend.results("tiny").trials["trial"])
    return backend, trials


def test_logs_read_the_stdout_collectors_container_of_the_trials_pod(tmp_path,
                                                                     monkeypatch) -> None:
    with kube_server(tmp_path) as (kubeconfig, cluster):
        backend, trials = _run(kubeconfig, monkeypatch)
        lines = list(backend.logs("tiny", trials[0]))
        assert lines and lines[0].startswith("step 0: lr=")
        assert list(backend.logs("tiny", trials[0], tail=0)) == []
        assert ("GET", f"{CORE_PREFIX}team-a/pods/{trials[0]}-pod/log") in cluster.calls


def test_a_trial_of_another_experiment_or_stderr_alone_is_refused(tmp_path,
                                                                 monkeypatch) -> None:
    with kube_server(tmp_path) as (kubeconfig, _):
        backend, trials = _run(kubeconfig, monkeypatch)
        with pytest.raises(KatibError, match="not a trial of experiment 'other'") as caught:
            list(backend.logs("other", trials[0]))
        assert caught.value.exit_code == 7
        with pytest.raises(KatibError, match="not found"):
            list(backend.logs("tiny", "tiny-missing"))
        with pytest.raises(AutomlError, match="stdout and stderr together"):
            list(backend.logs("tiny", trials[0], stderr=True))
