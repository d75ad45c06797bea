"""Misbehaviour the API doubles (tests/katib/kube_server.py, tests/pipelines/kfp_server.py)
can be told to show, as servers and the proxies in front of them do: a login or proxy page
with status 200, an error status (once, or for good), no answer at all, a body cut short, an
empty body, JSON without the fields promised, a redirect, an answer lost after the request
was done."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

LOGIN_PAGE = ("<!DOCTYPE html><html><head><title>Log in to Kubeflow</title></head><body>"
              "<form action='/dex/auth'>Password</form></body></html>")
PROXY_PAGE = ("<html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!"
              "</h1></body></html>")


@dataclass
class Fault:
    """One misbehaviour, for the requests it matches.

    Attributes:
        kind: ``page`` (``body`` as text/html), ``status`` (``status`` with a JSON error),
            ``silent`` (reads the request, never answers), ``truncated`` (the first half of
            a JSON body), ``empty`` (200, no body), ``json`` (``body`` as application/json),
            ``redirect`` (302, or ``status`` if it is a redirect, to ``location`` + the same
            path and query), ``drip`` (200 and a JSON body a byte every 0.1 s: each read
            comes in time, the whole never; until the double stops), ``lost`` (the
            request is done, its answer replaced by ``status``), ``cut`` (the request is
            done, its answer cut after half its body: a broken stream).
        times: How many requests it spoils (None: every one).
        method: Only requests of this method (None: any).
        path: Only paths containing this text.
    """

    kind: str
    times: int | None = None
    method: str | None = None
    path: str = ""
    status: int = 503
    body: str = ""
    location: str = ""

    def takes(self, method: str, path: str) -> bool:
        """Whether it spoils this request (and counts it)."""
        if self.times == 0 or self.method not in (None, method) or self.path not in path:
            return False
        if self.times is not None:
            self.times -= 1
        return True


@dataclass
class Faults:
    """The faults a double shows, and what it saw: each request's Authorization header."""

    rules: list[Fault] = field(default_factory=list)
    authorization: list[str | None] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def spoil(self, handler: BaseHTTPRequestHandler, method: str) -> Fault | None:
        """Answer the request as its first matching fault says; the fault, or None.

        A ``lost`` or ``cut`` fault is returned unanswered: the double does the request,
        then calls :func:`lose` instead of sending its answer.
        """
        self.authorization.append(handler.headers.get("Authorization"))
        fault = next((f for f in self.rules if f.takes(method, handler.path)), None)
        if fault is None or fault.kind in ("lost", "cut"):
            return fault
        if fault.kind == "silent":
            self.released.wait(60)  # until the double stops; the client gives up before
            handler.close_connection = True
        elif fault.kind == "page":
            _send(handler, 200, "text/html; charset=utf-8", fault.body.encode())
        elif fault.kind == "status":
            _send(handler, fault.status, "application/json", json.dumps(
                {"kind": "Status", "code": fault.status,
                 "message": f"injected {fault.status}"}).encode())
        elif fault.kind == "truncated":
            whole = json.dumps({"kind": "List", "items": [{"metadata": {"name": "x"}}]})
            _send(handler, 200, "application/json", whole[: len(whole) // 2].encode())
        elif fault.kind == "empty":
            _send(handler, 200, "text/plain", b"")
        elif fault.kind == "json":
            _send(handler, 200, "application/json", fault.body.encode())
        elif fault.kind == "drip":
            _drip(handler, self.released)
        elif fault.kind == "redirect":
            handler.send_response(fault.status if 300 <= fault.status < 400 else 302)
            handler.send_header("Location", fault.location + handler.path)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        else:
            raise AssertionError(f"no fault kind {fault.kind!r}")
        return fault


def lose(handler: BaseHTTPRequestHandler, fault: Fault, status: int, kind: str,
         data: bytes) -> None:
    """Answer a request that was done as ``fault`` says instead of with (status, kind, data):
    ``lost``: ``fault.status``, as a proxy that timed out; ``cut``: its first half lines,
    then part of a chunk, then the connection closes."""
    if fault.kind == "lost":
        _send(handler, fault.status, "text/plain", b"upstream request timeout")
        return
    handler.send_response(status)  # chunked, a line a chunk, as a followed log streams
    handler.send_header("Content-Type", kind)
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    lines = data.splitlines(keepends=True)
    for line in lines[: len(lines) // 2]:
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
    handler.wfile.write(b"40\r\nhalf a chunk")  # and no last chunk: the stream broke
    handler.wfile.flush()
    handler.close_connection = True


def _drip(handler: BaseHTTPRequestHandler, released: threading.Event) -> None:
    """A slow proxy's answer: 200, then a long JSON body a byte every 0.1 s."""
    data = json.dumps({"kind": "List", "items": []}).encode() + b" " * 10_000
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    for byte in data:
        if released.wait(0.1):
            break
        try:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
        except OSError:  # the client gave up: what it should do
            break
    handler.close_connection = True


def _send(handler: BaseHTTPRequestHandler, status: int, kind: str, data: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", kind)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)



def one_error_line(stderr: str) -> str:
    """The one ``error:`` line a command printed for a bad answer (and no traceback)."""
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    assert "Traceback" not in stderr
    return errors[0]
