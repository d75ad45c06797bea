"""Nothing automl starts outlives it: its long-lived children end when it does.

Two ways, by who starts the child:

- A child automl starts itself (TensorBoard) gets :func:`ends_with_this_process` as its
  ``preexec_fn``: the kernel sends it ``SIGTERM`` when its parent dies, however it dies
  (SIGTERM, SIGINT, kill -9), by Linux's ``PR_SET_PDEATHSIG``; the child is a program of its
  own, which watches nothing of ours.
- A process another program starts for automl (kfp.local runs the tuning step under two
  shells, whose death would not reach it): :func:`watched_by_descendants` names this process
  in the environment, and :func:`end_with_watched` in the descendant watches it (a pidfd)
  and sends itself ``SIGTERM`` when it is gone, which stops a run as Ctrl-C would.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import threading
from collections.abc import Callable, Iterator

__all__ = ["PR_SET_CHILD_SUBREAPER", "PR_SET_PDEATHSIG", "WATCHED", "available",
           "end_with_watched", "ends_with_this_process", "prctl", "watched_by_descendants"]

WATCHED = "AUTOML_END_WITH_PID"
"""The environment variable naming the process a descendant ends with."""

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

# Looked up once, here: in a process forked while another thread held the dynamic loader's
# lock (loading a library), a lookup could wait for it forever. None outside Linux.
_PRCTL = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)


def available() -> bool:
    """True where prctl(2) exists (Linux)."""
    return _PRCTL is not None


def prctl(option: int, value: int) -> None:
    """Call prctl(2) with one argument.

    Raises:
        OSError: When the kernel refuses.
    """
    if _PRCTL(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


def ends_with_this_process(signal_number: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the child sent ``signal_number`` when this process dies.

    Returns:
        The function for ``subprocess.Popen(preexec_fn=...)``; None where prctl(2) does not
        exist (the child then outlives a killed parent, as it would anyway there).
    """
    if not available():
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal_number)
        if os.getppid() != parent:  # the parent died before the death signal was set
            os.kill(os.getpid(), signal_number)

    return preexec


@contextlib.contextmanager
def watched_by_descendants() -> Iterator[None]:
    """While open, the processes started from here (and theirs) end with this process when
    they call :func:`end_with_watched`: its pid is in the environment they inherit."""
    before = os.environ.get(WATCHED)
    os.environ[WATCHED] = str(os.getpid())
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(WATCHED, None)
        else:
            os.environ[WATCHED] = before


def end_with_watched() -> None:
    """When the environment names a process to end with, send this one ``SIGTERM`` once it
    is gone (at once if it already is); else nothing, as on a cluster."""
    named = os.environ.get(WATCHED, "")
    if not named.isdigit() or int(named) == os.getpid():
        return
    try:
        handle = os.pidfd_open(int(named))
    except ProcessLookupError:
        os.kill(os.getpid(), signal.SIGTERM)
        return
    except OSError:  # no pidfd (Linux before 5.3, another system): the old way, unwatched
        return

    def watch() -> None:
        select.select([handle], [], [])  # readable once the process has exited
        os.close(handle)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="automl-end-with", daemon=True).start()
