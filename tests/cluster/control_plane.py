"""Start the real control plane: etcd, kube-apiserver and Katib, as local processes.

Everything runs in a network namespace of the test's (see ``netns``) whose loopback holds the
usual ports (etcd 2379, the API server 6443, the webhook 8443, the DB manager 6789); the host
reaches the API server through a bridge on ``127.0.0.1:<free port>``, and the DB manager
reaches the suite's PostgreSQL through a bridge the other way. Katib dials services by DNS name:
``katib-db-manager.kubeflow`` and ``<suggestion>.<namespace>`` resolve through a hosts file of
the fixture's that is bind-mounted over ``/etc/hosts`` in the mount namespaces of the
katib-controller and of the stand-in's pods only (addresses 127.0.1.x of the namespace's lo).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from tests.cluster import netns, pki
from tests.conftest import KATIB

log = logging.getLogger(__name__)

DB_MANAGER_ADDRESS = "127.0.1.2"
#: The goptuna service serves these algorithms; the KatibConfig maps each to its image
#: (upstream: random and tpe -> suggestion-hyperopt, cmaes and sobol -> suggestion-goptuna).
GOPTUNA_ALGORITHMS = ("random", "tpe", "cmaes", "sobol")
GOPTUNA_IMAGE = "ghcr.io/kubeflow/katib/suggestion-goptuna:latest"
COLLECTOR_IMAGE = "ghcr.io/kubeflow/katib/file-metrics-collector:latest"
#: The images the stand-in can run, and the binary each stands for.
IMAGE_BINARIES = {GOPTUNA_IMAGE: "goptuna-suggestion", COLLECTOR_IMAGE: "file-metricscollector"}
# Where the controller's own mount namespace sees the fixture's folder (an empty folder of
# every Debian system; hidden only in that namespace).
_SEEN_AT = "/srv"


@dataclass
class ControlPlane:
    """A running control plane; ``stop()`` ends every process it started.

    Attributes:
        folder: The fixture's folder (certificates, kubeconfigs, logs, the hosts file).
        binaries: The folder of the built binaries.
        network: The network namespace everything runs in.
        server: The API server's URL as the host reaches it.
        kubeconfig: A kubeconfig for the cluster's admin (system:masters) at ``server``.
        token: The admin's bearer token.
        hosts: The hosts file the controller and the pods see as /etc/hosts.
        database: The URL of the DB manager's PostgreSQL database (from the host).
    """

    folder: Path
    binaries: Path
    network: netns.Namespace
    server: str = ""
    kubeconfig: Path = Path()
    token: str = ""
    hosts: Path = Path()
    database: str = ""
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    bridges: list[netns.Bridge] = field(default_factory=list)

    # ---- processes -----------------------------------------------------------------------

    def start_process(self, name: str, argv: list[str], env: dict[str, str] | None = None,
                      cwd: Path | None = None) -> subprocess.Popen:
        """Run ``argv`` in the cluster's network namespace, its output in ``logs/<name>.log``."""
        logs = self.folder / "logs"
        logs.mkdir(exist_ok=True)
        with open(logs / f"{name}.log", "ab") as out:
            process = subprocess.Popen([*self.network.enter(), *argv], stdout=out,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env=env, cwd=cwd, start_new_session=True)
        self.processes[name] = process
        return process

    def log_tail(self, name: str, lines: int = 5) -> str:
        """The last lines of a process's log, joined by `` | `` (for one-line errors)."""
        path = self.folder / "logs" / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def stop(self) -> None:
        """End every process (by pid, newest first) and bridge; the namespace goes last."""
        for name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    log.warning("%s did not end on SIGTERM; killing it", name)
                    process.kill()
                    process.wait()
        for bridge in self.bridges:
            bridge.close()
        self.network.stop()

    # ---- the API -------------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None,
                content_type: str = "application/json") -> tuple[int, dict[str, Any]]:
        """One call to the API server as the admin: (HTTP status, decoded JSON answer)."""
        import ssl

        context = ssl.create_default_context(cafile=str(self.folder / "ca.crt"))
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.server + path, data=data, method=method,
                                         headers={"Authorization": f"Bearer {self.token}",
                                                  "Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, context=context, timeout=30) as answer:
                return answer.status, _decoded(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, _decoded(error.read())

    def apply(self, document: dict[str, Any]) -> dict[str, Any]:
        """Create ``document`` (server-side apply would need field managers; create is enough
        for a fresh cluster). Raises RuntimeError with the API's message when refused."""
        status, answer = self.request("POST", _collection(document), document)
        if status >= 300:
            raise RuntimeError(f"cannot create {document['kind']} "
                               f"{document['metadata']['name']}: HTTP {status}: "
                               f"{answer.get('message')}")
        return answer


def _decoded(raw: bytes) -> dict[str, Any]:
    """A JSON answer as a dict; a plain-text one (``/readyz``'s ``ok``) as its message."""
    try:
        decoded = json.loads(raw or b"{}")
    except ValueError:
        return {"message": raw.decode(errors="replace")}
    return decoded if isinstance(decoded, dict) else {"message": decoded}


def _collection(document: dict[str, Any]) -> str:
    """The URL path of the collection ``document`` is created in."""
    group_version = document["apiVersion"]
    base = f"/api/{group_version}" if "/" not in group_version else f"/apis/{group_version}"
    plural = _PLURALS.get(document["kind"]) or document["kind"].lower() + "s"
    namespace = document.get("metadata", {}).get("namespace")
    if namespace and document["kind"] not in _CLUSTER_SCOPED:
        return f"{base}/namespaces/{namespace}/{plural}"
    return f"{base}/{plural}"


_PLURALS = {"CustomResourceDefinition": "customresourcedefinitions",
            "ClusterRoleBinding": "clusterrolebindings", "ClusterRole": "clusterroles",
            "ValidatingWebhookConfiguration": "validatingwebhookconfigurations",
            "MutatingWebhookConfiguration": "mutatingwebhookconfigurations"}
_CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
                   "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}


def _wait(what: str, ready, timeout: float, plane: ControlPlane, process: str) -> None:
    """Poll ``ready()`` until true; raise RuntimeError naming ``what`` and the log tail."""
    deadline = time.monotonic() + timeout
    while not ready():
        if plane.processes[process].poll() is not None:
            raise RuntimeError(f"{process} exited ({plane.processes[process].returncode}) "
                               f"before {what}: {plane.log_tail(process)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:.0f} s: {plane.log_tail(process)}")
        time.sleep(0.1)


def _kubeconfig(path: Path, server: str, ca: Path, token: str, namespace: str) -> Path:
    ca_data = base64.b64encode(ca.read_bytes()).decode()
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "katib",
        "clusters": [{"name": "katib", "cluster": {"server": server,
                                                   "certificate-authority-data": ca_data}}],
        "users": [{"name": "user", "user": {"token": token}}],
        "contexts": [{"name": "katib", "context": {"cluster": "katib", "user": "user",
                                                   "namespace": namespace}}]}))
    path.chmod(0o600)
    return path


def _katib_config() -> dict[str, Any]:
    """Upstream's PostgreSQL KatibConfig, with the goptuna service for its algorithms, the
    certificates made by the fixture and the controller's ports on loopback."""
    config = yaml.safe_load(
        (KATIB / "manifests/installs/katib-standalone-postgres/katib-config.yaml").read_text())
    config["init"]["certGenerator"] = {"enable": False}
    config["init"]["controller"].update(
        {"metricsAddr": "127.0.0.1:8080", "healthzAddr": "127.0.0.1:18080"})
    for suggestion in config["runtime"]["suggestions"]:
        if suggestion["algorithmName"] in GOPTUNA_ALGORITHMS:
            suggestion["image"] = GOPTUNA_IMAGE
    return config


def _documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def start(folder: Path, binaries: Path, postgres: str) -> ControlPlane:
    """Start etcd, kube-apiserver and Katib (DB manager, controller with its webhooks).

    Args:
        folder: An empty folder of the fixture's.
        binaries: The folder ``build.py`` filled.
        postgres: The suite's PostgreSQL base URL (``postgresql+psycopg://user@host:port``).

    Returns:
        The running control plane (its API server ready, Katib's webhooks answering).

    Raises:
        RuntimeError: A part did not start (names it, with the last lines of its log).
    """
    plane = ControlPlane(folder=folder, binaries=binaries, network=netns.Namespace())
    try:
        _start(plane, postgres)
    except BaseException:
        plane.stop()
        raise
    return plane


def _start(plane: ControlPlane, postgres: str) -> None:
    folder, binaries = plane.folder, plane.binaries
    ca = pki.make_ca(folder)
    serving = pki.make_serving(ca, folder, "apiserver",
                               ["127.0.0.1", "localhost", "kubernetes.default.svc"])
    webhook = folder / "webhook"
    webhook.mkdir()
    # tls.crt/tls.key: the names controller-runtime's webhook server reads from its folder.
    pki.make_serving(ca, webhook, "tls", ["127.0.0.1", "katib-controller.kubeflow.svc"])
    signing_key, signing_pub = pki.make_signing_key(folder, "service-account")
    plane.token = secrets.token_hex(16)
    (folder / "tokens.csv").write_text(f'{plane.token},admin,admin-uid,"system:masters"\n')
    plane.hosts = folder / "hosts"
    plane.hosts.write_text(f"127.0.0.1 localhost\n{DB_MANAGER_ADDRESS} "
                           "katib-db-manager.kubeflow katib-db-manager.kubeflow.svc\n")

    plane.start_process("etcd", [
        str(binaries / "etcd"), "--data-dir", str(folder / "etcd"), "--log-level", "warn",
        "--listen-client-urls", "http://127.0.0.1:2379",
        "--advertise-client-urls", "http://127.0.0.1:2379",
        "--listen-peer-urls", "http://127.0.0.1:2380",
        "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
        "--initial-cluster", "default=http://127.0.0.1:2380", "--unsafe-no-fsync"])
    plane.start_process("kube-apiserver", [
        str(binaries / "kube-apiserver"), "--etcd-servers", "http://127.0.0.1:2379",
        "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
        "--secure-port", "6443", "--cert-dir", str(folder / "apiserver-certs"),
        "--tls-cert-file", str(serving.cert), "--tls-private-key-file", str(serving.key),
        "--client-ca-file", str(ca.cert), "--token-auth-file", str(folder / "tokens.csv"),
        "--authorization-mode", "RBAC",
        "--enable-admission-plugins", "NamespaceLifecycle,ServiceAccount,"
        "MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ResourceQuota",
        "--service-account-issuer", "https://kubernetes.default.svc",
        "--service-account-key-file", str(signing_pub),
        "--service-account-signing-key-file", str(signing_key),
        "--service-cluster-ip-range", "10.0.0.0/24",
        # Endpoints may not hold loopback addresses: the reconciler would only log errors.
        "--endpoint-reconciler-type", "none", "--profiling=false"])
    bridge = netns.Bridge(netns.HOST, ("127.0.0.1", 0), plane.network.path,
                          ("127.0.0.1", 6443))
    plane.bridges.append(bridge)
    plane.server = f"https://127.0.0.1:{bridge.address[1]}"
    _wait("the API server's /readyz", lambda: plane.request("GET", "/readyz")[0] == 200
          if _answers(plane) else False, 120, plane, "kube-apiserver")
    plane.kubeconfig = _kubeconfig(folder / "admin.kubeconfig", plane.server, ca.cert,
                                   plane.token, "default")

    manifests = KATIB / "manifests" / "components"
    for path in [manifests / "namespace" / "namespace.yaml", *sorted((KATIB / "crds").glob(
            "*.yaml")), manifests / "controller" / "rbac.yaml",
                 manifests / "controller" / "trial-templates.yaml"]:
        for document in _documents(path):
            plane.apply(document)
    config = _katib_config()
    plane.apply({"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": "katib-config", "namespace": "kubeflow"},
                 "data": {"katib-config.yaml": yaml.safe_dump(config)}})
    (folder / "katib-config.yaml").write_text(yaml.safe_dump(config))
    for crd in ("experiments", "trials", "suggestions"):
        _wait(f"CRD {crd}.kubeflow.org established", lambda c=crd: _established(plane, c), 60,
              plane, "kube-apiserver")

    _start_db_manager(plane, postgres)
    _start_controller(plane, ca)
    for document in _documents(manifests / "webhook" / "webhooks.yaml"):
        for entry in document["webhooks"]:
            path = entry["clientConfig"]["service"]["path"]
            entry["clientConfig"] = {
                "url": f"https://127.0.0.1:8443{path}",
                "caBundle": base64.b64encode(ca.cert.read_bytes()).decode()}
        plane.apply(document)


def _answers(plane: ControlPlane) -> bool:
    try:
        plane.request("GET", "/readyz")
    except (OSError, urllib.error.URLError):
        return False
    return True


def _established(plane: ControlPlane, plural: str) -> bool:
    status, crd = plane.request(
        "GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{plural}.kubeflow.org")
    conditions = crd.get("status", {}).get("conditions", []) if status == 200 else []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)


def _start_db_manager(plane: ControlPlane, postgres: str) -> None:
    """katib-db-manager on a database of its own in the suite's PostgreSQL."""
    import psycopg

    url = urlsplit(postgres.replace("postgresql+psycopg://", "postgresql://"))
    database = f"katib_{secrets.token_hex(4)}"
    with psycopg.connect(f"postgresql://{url.username}@{url.hostname}:{url.port}/postgres",
                         autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {database}")
    plane.database = f"postgresql://{url.username}@{url.hostname}:{url.port}/{database}"
    plane.bridges.append(netns.Bridge(plane.network.path, ("127.0.0.1", 5432), netns.HOST,
                                      (url.hostname or "127.0.0.1", url.port or 5432)))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DB_NAME": "postgres",
           "DB_USER": url.username or "postgres", "DB_PASSWORD": "unused-trust-auth",
           "KATIB_POSTGRESQL_DB_HOST": "127.0.0.1", "KATIB_POSTGRESQL_DB_PORT": "5432",
           "KATIB_POSTGRESQL_DB_DATABASE": database}
    plane.start_process("katib-db-manager", [
        str(plane.binaries / "katib-db-manager"),
        "--listen-address", f"{DB_MANAGER_ADDRESS}:6789"], env=env)
    _wait("the DB manager listening", lambda: _listening(plane, DB_MANAGER_ADDRESS, 6789), 60,
          plane, "katib-db-manager")


def _listening(plane: ControlPlane, host: str, port: int) -> bool:
    with netns.socket_in(plane.network.path) as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


def _start_controller(plane: ControlPlane, ca: pki.Pair) -> None:
    """katib-controller as its own ServiceAccount (upstream's RBAC), in a mount namespace
    where /etc/hosts is the fixture's and /tmp/cert (its fixed certificate folder) holds the
    webhook certificate."""
    status, answer = plane.request(
        "POST", "/api/v1/namespaces/kubeflow/serviceaccounts/katib-controller/token",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
         "spec": {"expirationSeconds": 86400}})
    if status != 201:
        raise RuntimeError(f"cannot get the katib-controller token: HTTP {status}: "
                           f"{answer.get('message')}")
    _kubeconfig(plane.folder / "controller.kubeconfig", "https://127.0.0.1:6443", ca.cert,
                answer["status"]["token"], "kubeflow")
    seen = _SEEN_AT
    script = (f'mount --bind "$0" {seen} && mount --bind {seen}/hosts /etc/hosts && '
              f"mount -t tmpfs tmpfs /tmp && mkdir /tmp/cert && "
              f"mount --bind {seen}/webhook /tmp/cert && cd {seen} && exec \"$1\" "
              f"--katib-config={seen}/katib-config.yaml")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KATIB_CORE_NAMESPACE": "kubeflow",
           "KUBECONFIG": f"{seen}/controller.kubeconfig"}
    plane.start_process("katib-controller", [
        "unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script,
        str(plane.folder), str(plane.binaries / "katib-controller")], env=env)
    _wait("the katib-controller webhook listening", lambda: _listening(plane, "127.0.0.1", 8443),
          120, plane, "katib-controller")
