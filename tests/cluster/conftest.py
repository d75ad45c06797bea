"""Fixtures of the tests against the real Katib: its control plane, built from Go source.

The tests here are marked ``cluster`` and run only when asked for: ``python -m pytest -m
cluster tests/cluster``. The first run builds the binaries (``tests/cluster/build.py``, cached
per machine); without Go, or when the build cannot run here, they are skipped with one line
(in CI, ``CI=true``, that is a failure).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import build, control_plane
from tests.cluster.control_plane import ControlPlane
from tests.cluster.kubelet import Kubelet

INJECTION_LABEL = "katib.kubeflow.org/metrics-collector-injection"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cluster: needs the real Katib control plane (built "
                                       "from Go source); run with -m cluster")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave the cluster tests out unless the marker expression names them."""
    if "cluster" in (config.getoption("markexpr") or ""):
        return
    keep = [item for item in items if item.get_closest_marker("cluster") is None]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep


def _unavailable(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def cluster_binaries() -> Path:
    """The folder of the control plane's binaries (built on first use, then cached)."""
    try:
        return build.build()
    except build.BuildError as error:
        _unavailable(f"the Katib control plane cannot be built here: {error}")
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def cluster(cluster_binaries: Path, postgres_server: str,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """The running control plane with the stand-in kubelet (see ``kubelet``)."""
    try:
        plane = control_plane.start(tmp_path_factory.mktemp("cluster"), cluster_binaries,
                                    postgres_server)
    except (OSError, RuntimeError) as error:
        _unavailable(f"the Katib control plane did not start: {error}")
    kubelet = Kubelet(plane)
    try:
        yield plane
    finally:
        kubelet.stop()
        plane.stop()


def make_namespace(cluster: ControlPlane) -> str:
    """A fresh namespace where Katib runs experiments (its label on), with the default
    ServiceAccount pods need (no controller-manager makes it here); returns its name."""
    name = f"t-{secrets.token_hex(4)}"
    cluster.apply({"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": name, "labels": {INJECTION_LABEL: "enabled"}}})
    cluster.apply({"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": "default", "namespace": name}})
    return name


@pytest.fixture
def katib_namespace(cluster: ControlPlane, tmp_path: Path,
                    monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh namespace with Katib's metrics-collector injection on, and KUBECONFIG set to
    an admin kubeconfig whose context uses it."""
    name = make_namespace(cluster)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(cluster.kubeconfig.read_text().replace("namespace: default",
                                                                 f"namespace: {name}"))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    return name
