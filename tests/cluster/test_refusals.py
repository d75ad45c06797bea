"""automl's exit statuses for what the real API server refuses: already exists (6), not found
(7), and forbidden (5) for a real ServiceAccount token whose RBAC Role lacks the verb."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cluster.control_plane import ControlPlane
from tests.cluster.test_run import _automl, _experiment

pytestmark = pytest.mark.cluster


def test_running_an_existing_experiment_again_exits_6(
        cluster: ControlPlane, katib_namespace: str, tmp_path: Path) -> None:
    experiment = str(_experiment(tmp_path, "random")[0])
    first = _automl("run", experiment, "--backend", "katib", "--poll", "0.5", "--quiet")
    assert first.returncode == 0, first.stderr
    again = _automl("run", experiment, "--backend", "katib", "--poll", "0.5", "--quiet")
    assert again.returncode == 6
    assert again.stderr.strip().count("\n") == 0
    assert "already exists" in again.stderr


def test_a_missing_experiment_exits_7(cluster: ControlPlane, katib_namespace: str) -> None:
    shown = _automl("status", "no-such-experiment", "--backend", "katib")
    assert shown.returncode == 7
    assert shown.stderr.strip().count("\n") == 0
    assert "not found" in shown.stderr


def test_a_token_whose_role_lacks_create_exits_5(
        cluster: ControlPlane, katib_namespace: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    namespace = katib_namespace
    cluster.apply({"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": "reader", "namespace": namespace}})
    cluster.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                   "metadata": {"name": "experiment-reader", "namespace": namespace},
                   "rules": [{"apiGroups": ["kubeflow.org"], "resources": ["experiments"],
                              "verbs": ["get", "list", "watch"]}]})
    cluster.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": "reader", "namespace": namespace},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                               "name": "experiment-reader"},
                   "subjects": [{"kind": "ServiceAccount", "name": "reader",
                                 "namespace": namespace}]})
    status, answer = cluster.request(
        "POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/reader/token",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}})
    assert status == 201, answer
    kubeconfig = tmp_path / "reader.kubeconfig"
    kubeconfig.write_text(Path(cluster.kubeconfig).read_text()
                          .replace(cluster.token, answer["status"]["token"])
                          .replace("namespace: default", f"namespace: {namespace}"))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))

    ran = _automl("run", str(_experiment(tmp_path, "random")[0]), "--backend", "katib",
                  "--quiet")
    assert ran.returncode == 5
    assert ran.stderr.strip().count("\n") == 0
    assert f"forbidden in namespace {namespace}" in ran.stderr
    listed = _automl("status", "--backend", "katib")  # list: a verb the Role has
    assert listed.returncode == 0, listed.stderr


def test_a_namespace_without_katibs_label_is_refused_in_one_line(
        cluster: ControlPlane, katib_namespace: str, tmp_path: Path) -> None:
    """Katib 0.19's webhook refuses Experiments in a namespace that lacks the label
    ``katib.kubeflow.org/metrics-collector-injection: enabled``; automl passes its reason on."""
    status, answer = cluster.request(
        "PATCH", f"/api/v1/namespaces/{katib_namespace}",
        {"metadata": {"labels": {"katib.kubeflow.org/metrics-collector-injection": None}}},
        content_type="application/merge-patch+json")
    assert status == 200, answer
    ran = _automl("run", str(_experiment(tmp_path, "random")[0]), "--backend", "katib",
                  "--quiet")
    assert ran.returncode == 1
    assert ran.stderr.strip().count("\n") == 0
    assert 'lacks label "katib.kubeflow.org/metrics-collector-injection: enabled"' in ran.stderr
