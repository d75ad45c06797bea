"""A whole-answer deadline for a request, whatever the server does.

urllib3's timeouts bound each socket operation: a server (or a proxy) that sends its answer
one byte a second never trips them. :func:`install` gives a ``PoolManager`` connections that
start a watchdog when a request is sent; at the deadline :func:`within` set for the calling
thread, the watchdog shuts the socket down, so the read waiting on it ends at once (urllib3
then raises a ``ProtocolError``: the answer came cut short). The watchdog ends when the answer
is read, or, for a stream (``preload_content=False``), when its headers are: a stream is
bounded by the read timeout of each read only.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["install", "within"]

_local = threading.local()  # the deadline (time.monotonic()) of this thread's request


@contextlib.contextmanager
def within(deadline: float) -> Iterator[None]:
    """Requests sent by this thread meanwhile end by ``deadline`` (``time.monotonic()``)."""
    before = getattr(_local, "deadline", None)
    _local.deadline = deadline
    try:
        yield
    finally:
        _local.deadline = before


def install(pools: Any) -> None:
    """Make the pools ``pools`` (a urllib3 ``PoolManager``) opens from now on watch deadlines."""
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    pools.pool_classes_by_scheme = {
        "http": _pool(HTTPConnectionPool), "https": _pool(HTTPSConnectionPool)}
    pools.clear()  # pools opened before have the plain connections


def _pool(base: type) -> type:
    connection = type(f"Watched{base.ConnectionCls.__name__}", (_Watched, base.ConnectionCls),
                      {})
    return type(f"Watched{base.__name__}", (base,), {"ConnectionCls": connection})


class _Watched:
    """A urllib3 connection mixin: a request and the reading of its answer end at the
    thread's deadline."""

    sock: Any

    def request(self, *args: Any, **kwargs: Any) -> Any:
        deadline = getattr(_local, "deadline", None)
        self._automl_socket = None
        self._automl_watchdog = None
        if deadline is not None:
            watchdog = threading.Timer(max(deadline - time.monotonic(), 0.0), self._cut)
            watchdog.daemon = True
            watchdog.start()
            self._automl_watchdog = watchdog
        try:
            return super().request(*args, **kwargs)  # type: ignore[misc]
        except BaseException:
            self._stop()
            raise

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        # http.client lets go of the socket once the headers say the connection closes;
        # the watchdog still needs it while the body is read.
        self._automl_socket = self.sock
        try:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        finally:
            self._stop()

    def _stop(self) -> None:
        if self._automl_watchdog is not None:
            self._automl_watchdog.cancel()

    def _cut(self) -> None:
        sock = self.sock or self._automl_socket
        if sock is not None:
            with contextlib.suppress(OSError):  # closed meanwhile: nothing left to end
                sock.shutdown(socket.SHUT_RDWR)
