"""Network namespaces of the test's, and TCP bridges between their loopbacks.

The control plane runs in a network namespace of its own that has nothing but ``lo``: every
address a Katib program binds (the suggestion service and the DB manager hard-code
``0.0.0.0:6789``, the webhook server binds every interface) is then on a loopback no one else
shares, and its ports cannot collide with another test run's. A :class:`Bridge` joins two
loopbacks: it listens on an address in one namespace and connects, for each connection, to an
address in another (sockets belong to the namespace they were created in, so one thread that
briefly enters a namespace with ``setns`` can make them).
"""

from __future__ import annotations

import ctypes
import logging
import os
import socket
import subprocess
import threading
import time
from contextlib import suppress
from pathlib import Path

log = logging.getLogger(__name__)

_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)

#: The namespace of the calling thread when it started: where "the host" is.
HOST = Path(f"/proc/{os.getpid()}/ns/net")


def _setns(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, _CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns({path}): {os.strerror(error)}")
    finally:
        os.close(fd)


def socket_in(namespace: Path) -> socket.socket:
    """A new TCP socket that belongs to the network namespace ``namespace``."""
    own = Path(f"/proc/self/task/{threading.get_native_id()}/ns/net")
    keep = os.open(own, os.O_RDONLY)
    try:
        _setns(namespace)
        try:
            return socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        finally:
            if _libc.setns(keep, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "cannot return to the thread's namespace")
    finally:
        os.close(keep)


class Namespace:
    """A network namespace with only ``lo`` (up), held by a ``sleep`` process of the test's.

    Attributes:
        path: ``/proc/<pid>/ns/net`` of the holder: what ``nsenter --net=`` and
            :func:`socket_in` take.
    """

    def __init__(self) -> None:
        # The holder brings lo up itself, then sleeps until stop() ends it (by its pid).
        self._holder = subprocess.Popen(
            ["unshare", "--net", "--", "sh", "-c", "ip link set lo up && exec sleep infinity"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.path = Path(f"/proc/{self._holder.pid}/ns/net")
        deadline = time.monotonic() + 10
        while not self._lo_up():
            if self._holder.poll() is not None:
                raise OSError("cannot create a network namespace (unshare --net): "
                              + self._holder.stderr.read().decode(errors="replace").strip())
            if time.monotonic() > deadline:
                raise TimeoutError("the network namespace's lo did not come up in 10 s")
            time.sleep(0.02)

    def _lo_up(self) -> bool:
        with suppress(OSError), socket_in(self.path) as probe:
            probe.bind(("127.0.0.1", 0))
            probe.listen(1)
            probe.settimeout(1)
            with socket_in(self.path) as client:
                client.settimeout(1)
                client.connect(probe.getsockname())
                return True
        return False

    def enter(self) -> list[str]:
        """The command prefix that runs a program inside this namespace."""
        return ["nsenter", f"--net={self.path}", "--"]

    def stop(self) -> None:
        """End the holder (the namespace goes when its last process does)."""
        self._holder.kill()
        self._holder.wait()


class Bridge:
    """Forward TCP connections from ``listen`` in one namespace to ``target`` in another.

    Args:
        listen_ns: The namespace to listen in.
        listen: ``(host, port)`` to listen on (port 0: any free one; see ``address``).
        target_ns: The namespace to connect in.
        target: ``(host, port)`` to connect to.
    """

    def __init__(self, listen_ns: Path, listen: tuple[str, int], target_ns: Path,
                 target: tuple[str, int]) -> None:
        self._target_ns, self._target = target_ns, target
        self._server = socket_in(listen_ns)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(listen)
        self._server.listen(64)
        self.address: tuple[str, int] = self._server.getsockname()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True,
                         name=f"bridge {self.address}->{target}").start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket_in(self._target_ns)
        try:
            upstream.connect(self._target)
        except OSError as exc:
            log.debug("bridge to %s: %s", self._target, exc)
            client.close()
            upstream.close()
            return
        pump = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
        pump.start()
        _pump(client, upstream)
        pump.join()
        client.close()
        upstream.close()

    def close(self) -> None:
        """Stop accepting (connections under way end with their peers)."""
        self._closed = True
        with suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes until ``source`` ends, then end ``sink``'s sending side."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    with suppress(OSError):
        sink.shutdown(socket.SHUT_WR)
