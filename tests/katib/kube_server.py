"""A stand-in Kubernetes API server with Katib, on 127.0.0.1, for testing the Katib backend.

Why a double: no kube-apiserver (let alone Katib's controllers) can run on these machines. This
one serves the REST paths of Katib's custom resources as the kubernetes client calls them
(create, get, list with labelSelector, merge-patch, delete; resourceVersion on every change),
answers 403, 404 and 409 with Kubernetes Status objects (and a bare ``404 page not found``
when Katib is not installed), refuses Experiments that fail Katib's OpenAPI schema
(shared/katib/openapi/swagger.json) as the API server with Katib's webhook would, and plays
Katib's controller: each read of an Experiment advances it one step (trials created and
running, then succeeded with observations, then the Experiment Succeeded with its
currentOptimalTrial), shaped as Katib writes them (FACTS.md, section j). ``Cluster.faults``
makes it misbehave as a real API server or the proxy before it can (tests/http_faults.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.conftest import KATIB, require_katib
from tests.http_faults import Fault, Faults, lose

require_katib()  # the schema below is read from the corpus

PREFIX = "/apis/kubeflow.org/v1beta1/namespaces/"
CORE_PREFIX = "/api/v1/namespaces/"
NOW = "2026-11-29T12:00:00Z"
_SWAGGER_URI = "urn:katib:swagger"
_VALIDATOR = jsonschema.Draft202012Validator(
    {"$ref": f"{_SWAGGER_URI}#/components/schemas/v1beta1.Experiment"},
    registry=Registry().with_resource(_SWAGGER_URI, Resource.from_contents(
        json.loads((KATIB / "openapi" / "swagger.json").read_text()),
        default_specification=DRAFT202012)))


@dataclass
class Cluster:
    """What the API server holds, the calls it got, and how it is told to misbehave."""

    experiments: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    trials: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    forbidden: set[str] = field(default_factory=set)
    katib_installed: bool = True
    stalled: bool = False  # trials stay Running: an experiment that takes its time
    texts: dict[int, str] = field(default_factory=dict)  # trial index -> its objective text
    # (namespace, pod) -> its labels and each container's log, as Katib's Job pods have them
    pods: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    version: int = 100
    faults: Faults = field(default_factory=Faults)

    def bump(self, obj: dict[str, Any]) -> None:
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)

    def advance(self, ns: str, name: str) -> None:
        """One step of Katib's controller: create trials, run them, finish them, finish."""
        exp = self.experiments[(ns, name)]
        spec, status = exp["spec"], exp.setdefault("status", {})
        mine = [t for (n, _), t in self.trials.items() if n == ns and
                t["metadata"]["labels"]["katib.kubeflow.org/experiment"] == name]
        if not mine:
            for i in range(spec["maxTrialCount"]):
                self._trial(ns, exp, i)
            status["conditions"] = [_condition("Created", "ExperimentCreated"),
                                    _condition("Running", "ExperimentRunning")]
        elif not self.stalled and all(_last(t) == "Running" for t in mine):
            for i, t in enumerate(mine):
                _finish(t, spec, self.texts.get(i))
            # status_util.go: a value ParseFloat refuses wins, the last such trial first
            texts = [t for t in mine if _objective(t) == "unavailable"]
            best = texts[-1] if texts else min(mine, key=lambda t: float(_objective(t)))
            status["currentOptimalTrial"] = {
                "bestTrialName": best["metadata"]["name"],
                "parameterAssignments": best["spec"]["parameterAssignments"],
                "observation": best["status"]["observation"]}
            status["conditions"] = [*status["conditions"][:1],
                                    _condition("Running", "ExperimentRunning", "False"),
                                    _condition("Succeeded", "ExperimentMaxTrialsReached")]
            status["completionTime"] = NOW
        mine = [t for (n, _), t in self.trials.items() if n == ns and
                t["metadata"]["labels"]["katib.kubeflow.org/experiment"] == name]
        status["trials"] = len(mine)
        status["trialsRunning"] = sum(_last(t) == "Running" for t in mine)
        status["trialsSucceeded"] = sum(_last(t) == "Succeeded" for t in mine)
        status["startTime"] = NOW
        self.bump(exp)

    def _trial(self, ns: str, exp: dict[str, Any], i: int) -> None:
        name = f"{exp['metadata']['name']}-{i:08x}"
        assignments = [{"name": p["name"], "value": _pick(p, i)}
                       for p in exp["spec"].get("parameters", [])]
        template = exp["spec"].get("trialTemplate", {})
        collector = exp["spec"].get("metricsCollectorSpec", {"collector": {"kind": "StdOut"}})
        trial = {"apiVersion": "kubeflow.org/v1beta1", "kind": "Trial",
                 "metadata": {"name": name, "namespace": ns,
                              "creationTimestamp": f"2026-11-29T12:00:{i:02d}Z",
                              "labels": {"katib.kubeflow.org/experiment":
                                         exp["metadata"]["name"]}},
                 "spec": {"parameterAssignments": assignments,
                          "objective": exp["spec"]["objective"],
                          "metricsCollector": collector,
                          **{k: template[k] for k in ("primaryContainerName",
                                                      "primaryPodLabels") if k in template}},
                 "status": {"startTime": NOW,
                            "conditions": [_condition("Created", "TrialCreated"),
                                           _condition("Running", "TrialRunning")]}}
        self.bump(trial)
        self.trials[(ns, name)] = trial
        # Katib's StdOut collector: the trial's output goes to a file its sidecar prints.
        output = "".join(f"step {k}: {a['name']}={a['value']}\n" for k, a in
                         enumerate(assignments))
        primary = template.get("primaryContainerName") or "training-container"
        stdout = collector["collector"]["kind"] == "StdOut"
        self.pods[(ns, f"{name}-pod")] = {
            "labels": {"katib.kubeflow.org/trial": name,
                       "katib.kubeflow.org/experiment": exp["metadata"]["name"],
                       **(template.get("primaryPodLabels") or {})},
            "logs": {primary: "" if stdout else output,
                     "metrics-logger-and-collector": output if stdout else ""}}


def _pick(p: dict[str, Any], i: int) -> str:
    space = p["feasibleSpace"]
    if "list" in space:
        return space["list"][i % len(space["list"])]
    low, high = float(space["min"]), float(space["max"])
    value = low + (high - low) * (i + 1) / 10
    return str(int(value)) if p["parameterType"] == "int" else repr(value)


def _finish(trial: dict[str, Any], spec: dict[str, Any], text: str | None = None) -> None:
    # The objective is the first numeric parameter's value: easy to check in tests. A text
    # has no min or max, as Katib's trial controller (getMetrics) leaves them.
    values = [float(a["value"]) for a in trial["spec"]["parameterAssignments"]
              if a["value"].replace(".", "", 1).replace("e-", "", 1).isdigit()]
    value = values[0] if values else 1.0
    names = [spec["objective"]["objectiveMetricName"],
             *spec["objective"].get("additionalMetricNames", [])]
    trial["status"]["observation"] = {"metrics": [
        {"name": n, "min": repr(value), "max": repr(value * 2), "latest": repr(value * 1.5)}
        for n in names]}
    if text is not None:
        trial["status"]["observation"]["metrics"][0].update(
            min="unavailable", max="unavailable", latest=text)
    trial["status"]["conditions"] = [*trial["status"]["conditions"][:1],
                                     _condition("Running", "TrialRunning", "False"),
                                     _condition("Succeeded", "TrialSucceeded")]
    trial["status"]["completionTime"] = "2026-11-29T12:05:00Z"


def _objective(trial: dict[str, Any]) -> str:
    return trial["status"]["observation"]["metrics"][0]["min"]


def _last(trial: dict[str, Any]) -> str:
    true = [c["type"] for c in trial["status"]["conditions"] if c["status"] == "True"]
    return true[-1]


def _log_stamp(k: int) -> str:
    """Line ``k``'s timestamp: three lines a second, the last two at the same instant."""
    return f"2026-11-29T12:{k // 180:02d}:{k // 3 % 60:02d}{'' if k % 3 == 0 else '.5'}Z"


def _condition(kind: str, reason: str, status: str = "True") -> dict[str, Any]:
    return {"type": kind, "status": status, "reason": reason, "message": f"{kind}",
            "lastTransitionTime": NOW, "lastUpdateTime": NOW}


def _status(code: int, reason: str, message: str, name: str | None = None) -> dict[str, Any]:
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
            "reason": reason, "code": code}
    if name is not None:
        body["details"] = {"name": name, "group": "kubeflow.org", "kind": "experiments"}
    return body


class _Handler(BaseHTTPRequestHandler):
    cluster: Cluster
    lost: Fault | None = None

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, code: int, body: Any) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        kind = "text/plain" if isinstance(body, str) else "application/json"
        if self.lost is not None:
            lose(self, self.lost, code, kind, data)
            return
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        c = self.cluster
        c.calls.append((method, url.path))
        self.lost = c.faults.spoil(self, method)
        if self.lost is not None and self.lost.kind not in ("lost", "cut"):
            return
        if url.path.startswith(CORE_PREFIX):
            self._core(url.path.removeprefix(CORE_PREFIX).split("/"), query)
            return
        if not c.katib_installed or not url.path.startswith(PREFIX):
            self._send(404, "404 page not found")
            return
        ns, plural, *rest = url.path.removeprefix(PREFIX).split("/")
        name = rest[0] if rest else None
        if ns in c.forbidden:
            self._send(403, _status(403, "Forbidden", f'{plural}.kubeflow.org is forbidden: '
                                                      f'User "dev" cannot {method.lower()} '
                                                      f'resource "{plural}" in "{ns}"'))
            return
        store = c.experiments if plural == "experiments" else c.trials
        if method == "POST":
            body = json.loads(raw)
            errors = sorted(e.message for e in _VALIDATOR.iter_errors(body))
            if errors:
                self._send(400, _status(400, "BadRequest", "admission webhook "
                                        f'"validator.experiment.katib.kubeflow.org" denied '
                                        f"the request: {errors[0]}"))
                return
            key = (ns, body["metadata"]["name"])
            if key in store:
                self._send(409, _status(409, "AlreadyExists", f'experiments.kubeflow.org '
                                        f'"{key[1]}" already exists', key[1]))
                return
            body["metadata"].update(namespace=ns, uid=f"uid-{key[1]}",
                                    creationTimestamp=NOW)
            c.bump(body)
            store[key] = body
            self._send(201, body)
            return
        if name is None:  # list
            items = [o for (n, _), o in store.items() if n == ns]
            selector = query.get("labelSelector")
            if selector:
                label, value = selector.split("=")
                items = [o for o in items if o["metadata"].get("labels", {}).get(label) == value]
            kind = "ExperimentList" if plural == "experiments" else "TrialList"
            self._send(200, {"apiVersion": "kubeflow.org/v1beta1", "kind": kind,
                             "items": items, "metadata": {"resourceVersion": str(c.version)}})
            return
        if (ns, name) not in store:
            self._send(404, _status(404, "NotFound", f'{plural}.kubeflow.org "{name}" not '
                                    "found", name))
            return
        if method == "GET":
            if plural == "experiments":
                c.advance(ns, name)
            self._send(200, store[(ns, name)])
        elif method == "PATCH":
            patch = json.loads(raw)
            store[(ns, name)]["spec"].update(patch.get("spec", {}))
            c.bump(store[(ns, name)])
            self._send(200, store[(ns, name)])
        elif method == "DELETE":
            del store[(ns, name)]
            for key in [k for k, t in c.trials.items() if k[0] == ns and
                        t["metadata"]["labels"]["katib.kubeflow.org/experiment"] == name]:
                del c.trials[key]
            self._send(200, _status(200, "Deleted", "deleted", name) | {"status": "Success"})

    def _core(self, parts: list[str], query: dict[str, str]) -> None:
        """Pods as the core API lists them (by labelSelector) and their logs."""
        ns, plural, *rest = parts
        pods = {name: pod for (n, name), pod in self.cluster.pods.items() if n == ns}
        if plural != "pods":
            self._send(404, "404 page not found")
        elif not rest:
            wanted = dict(item.split("=") for item in query.get("labelSelector", "").split(",")
                          if item)
            items = [{"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": name, "namespace": ns, "labels": pod["labels"]}}
                     for name, pod in pods.items()
                     if wanted.items() <= pod["labels"].items()]
            self._send(200, {"apiVersion": "v1", "kind": "PodList", "items": items,
                             "metadata": {"resourceVersion": str(self.cluster.version)}})
        elif rest[0] not in pods:
            self._send(404, _status(404, "NotFound", f'pods "{rest[0]}" not found', rest[0]))
        else:
            logs = pods[rest[0]]["logs"]
            container = query.get("container")
            if container not in logs:
                self._send(400, _status(400, "BadRequest", "a container name must be "
                                        f"specified for pod {rest[0]}, choose one of: "
                                        f"[{' '.join(logs)}]"))
                return
            lines = logs[container].splitlines(keepends=True)
            # Go's ParseBool reads the client's "True"; RFC 3339 with nanoseconds, zeros dropped
            if query.get("timestamps") in ("1", "t", "T", "true", "True", "TRUE"):
                lines = [f"{_log_stamp(k)} {line}" for k, line in enumerate(lines)]
            if "tailLines" in query:
                lines = lines[len(lines) - int(query["tailLines"]):] if int(
                    query["tailLines"]) else []
            self._send(200, "".join(lines))

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")


@contextmanager
def kube_server(tmp_path: Any, namespace: str = "team-a") -> Iterator[tuple[str, Cluster]]:
    """Serve the double on 127.0.0.1; yields a kubeconfig file for it and its state."""
    cluster = Cluster()
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("H", (_Handler,), {"cluster": cluster}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kubeconfig = tmp_path / "kubeconfig"
    host = f"http://127.0.0.1:{server.server_address[1]}"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "double", "cluster": {"server": host}}],
        "users": [{"name": "dev", "user": {"token": "t0ken"}}],
        "contexts": [{"name": "test", "context": {"cluster": "double", "user": "dev",
                                                  "namespace": namespace}}],
    }))
    try:
        yield str(kubeconfig), cluster
    finally:
        cluster.faults.released.set()
        server.shutdown()
        server.server_close()
