"""A stand-in KFP API server on 127.0.0.1, for testing ``submit`` without a cluster.

Why a double: no KFP API server can run on these machines. This one speaks the v2beta1 REST
paths and JSON payloads that kfp.Client 2.13 sends and parses (shared/kfp/README.md lists the
exact calls, captured against a logging server), keeps pipelines, versions, experiments and
runs in memory, records every call in order, and can be told to answer a path with an HTTP
error (401, 404, 409, ...) or, with ``State.faults``, to misbehave as a server or the proxy
before it can (tests/http_faults.py).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.http_faults import Fault, Faults, lose

API = "/apis/v2beta1"
CREATED = "2026-11-29T12:00:00Z"


@dataclass
class State:
    """What the server holds, what it was asked, and the answers it is told to give."""

    pipelines: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    experiments: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: list[bytes] = field(default_factory=list)
    calls: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)
    errors: dict[tuple[str, str], int] = field(default_factory=dict)
    run_states: list[str] = field(default_factory=lambda: ["RUNNING", "SUCCEEDED"])
    # Multi-user Kubeflow: every call needs this Authorization or Cookie header; experiments
    # need a namespace, one of these.
    token: str | None = None
    cookie: str | None = None
    namespaces: set[str] | None = None
    headers: list[dict[str, str]] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)

    def add_pipeline(self, name: str) -> str:
        pid = str(uuid.uuid4())
        self.pipelines[pid] = {"pipeline_id": pid, "display_name": name, "created_at": CREATED}
        self.versions[pid] = [self._version(pid, name)]
        return pid

    def add_experiment(self, name: str, namespace: str = "") -> str:
        eid = str(uuid.uuid4())
        self.experiments[eid] = {"experiment_id": eid, "display_name": name,
                                 "namespace": namespace, "created_at": CREATED,
                                 "storage_state": "AVAILABLE"}
        return eid

    def _version(self, pid: str, name: str) -> dict[str, Any]:
        return {"pipeline_id": pid, "pipeline_version_id": str(uuid.uuid4()),
                "display_name": name, "created_at": CREATED}


class _Handler(BaseHTTPRequestHandler):
    state: State
    lost: Fault | None = None

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        if self.lost is not None:
            lose(self, self.lost, status, "application/json", data)
            return
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        s = self.state
        s.calls.append((method, url.path, query))
        s.headers.append({k.title(): v for k, v in self.headers.items()
                          if k.lower() in ("authorization", "cookie")})
        self.lost = s.faults.spoil(self, method)
        if self.lost is not None and self.lost.kind not in ("lost", "cut"):
            return
        refused = self._refusal(method, url.path.removeprefix(API), query, raw)
        if refused is not None:
            self._answer(*refused)
            return
        status = s.errors.get((method, url.path))
        if status is not None:
            self._answer(status, {"error": f"injected {status}", "code": status,
                                  "message": f"injected {status}"})
            return
        path = url.path.removeprefix(API)
        body = json.loads(raw) if raw and self.headers.get_content_type() == "application/json" \
            else None
        s.bodies.append(body)
        self._answer(200, self._respond(method, path, query, body, raw))

    def _refusal(self, method: str, path: str, query: dict[str, str],
                 raw: bytes) -> tuple[int, Any] | None:
        """What a multi-user KFP (behind Kubeflow's auth) answers a call it refuses."""
        s = self.state
        if path == "/healthz":
            return None
        logged_in = ((s.token is None or self.headers.get("Authorization") == f"Bearer {s.token}")
                     and (s.cookie is None or s.cookie in (self.headers.get("Cookie") or "")))
        if not logged_in:
            return 401, {"error": "Unauthenticated", "code": 16,
                         "message": "Request header error: there is no user identity header."}
        if s.namespaces is None or (method, path) != ("POST", "/experiments"):
            return None
        namespace = json.loads(raw).get("namespace") or ""
        if not namespace:
            return 400, {"error": "Invalid input error: In multi-user mode, CreateExperiment "
                                  "requires namespace.", "code": 3}
        if namespace not in s.namespaces:
            return 403, {"error": f"User is not authorized to create experiments in namespace "
                                  f"{namespace}", "code": 7}
        return None

    def _respond(self, method: str, path: str, query: dict[str, str], body: Any,
                 raw: bytes) -> Any:
        s = self.state
        if path == "/healthz":
            return {"multi_user": False}
        if (method, path) == ("GET", "/pipelines"):
            name = _filtered_name(query)
            found = [p for p in s.pipelines.values() if name in (None, p["display_name"])]
            return {"pipelines": found, "total_size": len(found)} if found else {}
        if (method, path) == ("POST", "/pipelines/upload"):
            s.uploads.append(_upload(self.headers, raw))
            return s.pipelines[s.add_pipeline(query["name"])]
        if (method, path) == ("POST", "/pipelines/upload_version"):
            s.uploads.append(_upload(self.headers, raw))
            version = s._version(query["pipelineid"], query["name"])
            s.versions[query["pipelineid"]].insert(0, version)
            return version
        if method == "GET" and path.startswith("/pipelines/") and path.endswith("/versions"):
            versions = s.versions[path.split("/")[2]]
            return {"pipeline_versions": versions[: int(query.get("page_size", 10))],
                    "total_size": len(versions)}
        if (method, path) == ("GET", "/experiments"):
            name = _filtered_name(query)
            found = [e for e in s.experiments.values() if name in (None, e["display_name"])]
            return {"experiments": found, "total_size": len(found)} if found else {}
        if (method, path) == ("POST", "/experiments"):
            return s.experiments[s.add_experiment(body["display_name"],
                                                  body.get("namespace", ""))]
        if (method, path) == ("POST", "/runs"):
            rid = str(uuid.uuid4())
            s.runs[rid] = {**body, "run_id": rid, "state": "PENDING", "created_at": CREATED}
            return s.runs[rid]
        if method == "GET" and path.startswith("/runs/"):
            run = s.runs[path.split("/")[2]]
            if s.run_states:
                run["state"] = s.run_states.pop(0)
            return run
        raise AssertionError(f"the double has no {method} {path}")

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")


def _filtered_name(query: dict[str, str]) -> str | None:
    if "filter" not in query:
        return None
    (predicate,) = json.loads(query["filter"])["predicates"]
    assert (predicate["operation"], predicate["key"]) == (1, "display_name")
    return predicate["stringValue"]


def _upload(headers: Any, raw: bytes) -> bytes:
    """The multipart field ``uploadfile`` kfp.Client sends the pipeline YAML in."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + headers["Content-Type"].encode() + b"\r\n\r\n" + raw)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "uploadfile":
            return part.get_payload(decode=True)
    raise AssertionError("no uploadfile field in the upload")


@contextmanager
def kfp_server() -> Iterator[tuple[str, State]]:
    """Run the double on a free port of 127.0.0.1; yields its URL and its state."""
    state = State()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        state.faults.released.set()
        server.shutdown()
        server.server_close()
