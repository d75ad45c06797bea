"""Linux's prctl(2), for the children automl starts: none outlives the process that started it.

A child started with :func:`ends_with_this_process` as its ``preexec_fn`` gets ``SIGTERM``
from the kernel when its parent dies, however it dies (SIGTERM, SIGINT, kill -9): the kernel's
``PR_SET_PDEATHSIG`` rather than a pipe the child would have to watch, since the child is a
program of its own (TensorBoard) that watches nothing of ours.
"""

from __future__ import annotations

import ctypes
import os
import signal
from collections.abc import Callable

__all__ = ["PR_SET_CHILD_SUBREAPER", "PR_SET_PDEATHSIG", "available", "ends_with_this_process",
           "prctl"]

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
