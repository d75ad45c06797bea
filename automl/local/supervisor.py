"""A trial's supervisor: the process between the engine and a trial, which leaves nothing behind.

The engine forks one supervisor per trial. The supervisor starts the trial as its child and
is its *child subreaper* (Linux ``PR_SET_CHILD_SUBREAPER``): whatever the trial starts stays
its descendant, even a process that left the trial's process group or session and whose
parent exited (a daemon's double fork). When the trial exits, when the engine asks, or when
the engine dies (``PR_SET_PDEATHSIG``, set in the supervisor, which then still runs), the
supervisor kills every descendant it has and reaps them, so no trial process outlives its
trial or its experiment, as no process outlives its pod on Katib.

A trial that kills its supervisor (``kill -9 $PPID``) leaves that sweep undone. The trial
runs in the supervisor's session (in a process group of its own), so the engine, seeing the
supervisor end without the trial's status, kills every process still in that session itself
(:meth:`Supervised.result`): a session rather than a group, so that a trial's shell with job
control, whose pipelines get groups of their own, is swept too. The engine sweeps before it
reaps the supervisor, so that the session's id, the supervisor's pid, is no other process's.

Being forked from the engine, the supervisor closes every file the engine had open (its
locks, its journal, other trials' pipes) before anything starts, so a trial holds none of
them, and it costs no interpreter start-up. Signals to the supervisor: ``SIGTERM`` is passed
on to the trial's process group (Katib's stop), ``SIGUSR1`` kills the whole tree at once.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import logging
import os
import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from automl._lifetime import PR_SET_CHILD_SUBREAPER, PR_SET_PDEATHSIG, prctl
from automl._lifetime import available as prctl_available

__all__ = ["Supervised", "end_session", "fork", "spawn"]

logger = logging.getLogger(__name__)

_STOP = signal.SIGTERM
_END = signal.SIGUSR1
_WATCHED = {signal.SIGCHLD, _STOP, _END}
_STATUS_FD = 3
_SWEEP_SECONDS = 5.0
_SWEEP_POLL = 0.01
_GONE = (b"Z", b"X")
_RESET = (signal.SIGPIPE, signal.SIGXFSZ)
"""Signals Python ignores at start-up that a trial program gets at their default again."""


class Supervised:
    """A trial under its supervisor, seen from the engine.

    Attributes:
        pid: The supervisor's process id.
        stdout: The read end of the trial's stdout pipe (command trials), else None.
        stderr: The same for stderr.
    """

    def __init__(self, pid: int, status: int, stdout: int | None = None,
                 stderr: int | None = None) -> None:
        self.pid = pid
        self.stdout = stdout
        self.stderr = stderr
        self._status = status
        self._reaped = False

    def wait_exit(self) -> None:
        """Block until the supervisor has exited, without reaping it.

        It stays a zombie until :meth:`result`, so its pid cannot be reused by another
        process that :meth:`stop` or :meth:`kill` would then signal.
        """
        with contextlib.suppress(ChildProcessError):  # result() reaped it meanwhile
            os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOWAIT)

    def stop(self) -> None:
        """Ask the trial to stop: SIGTERM to its process group."""
        self._signal(_STOP)

    def kill(self) -> None:
        """Kill the trial and all its descendants now."""
        self._signal(_END)

    def result(self) -> int:
        """Wait for the end; the trial's exit status (``-N``: killed by signal N).

        Raises:
            OSError: When the trial's program could not be started.
        """
        self.wait_exit()
        try:
            text = os.read(self._status, 64).decode()
        finally:
            os.close(self._status)
        if not text:
            # The supervisor was killed (maybe by the trial) before it killed the trial's
            # processes; unreaped, it still holds its pid, the session's id.
            end_session(self.pid)
        _, wait_status = os.waitpid(self.pid, 0)
        self._reaped = True
        if text.startswith("error "):
            number = int(text.split()[1])
            raise OSError(number, os.strerror(number))
        # Nothing written: the supervisor's own status is all there is.
        return int(text) if text else os.waitstatus_to_exitcode(wait_status)

    def _signal(self, number: int) -> None:
        if not self._reaped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, number)


def spawn(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Supervised:
    """Start the program ``argv`` (an argument list, never a shell) under a supervisor.

    Its stdin is ``/dev/null``; its stdout and stderr are pipes the caller reads.

    Raises:
        OSError: When no process can be forked, or this is not Linux.
    """
    out, err = os.pipe(), os.pipe()

    def launch() -> int:
        os.chdir(cwd)
        # posix_spawnp looks the program up in this process's PATH: the trial's.
        os.environ.clear()
        os.environ.update(env)
        return os.posix_spawnp(argv[0], list(argv), env, setpgroup=0, setsigmask=(),
                               setsigdef=_RESET)

    try:
        supervised = _start(launch, (out[1], err[1]))
    except OSError:
        os.close(out[0])
        os.close(err[0])
        raise
    finally:
        os.close(out[1])
        os.close(err[1])
    supervised.stdout, supervised.stderr = out[0], err[0]
    return supervised


def fork(trial: Callable[[], object]) -> Supervised:
    """Run ``trial()`` in a forked process under a supervisor; it must end with ``os._exit``.

    It starts with stdin, stdout and stderr on ``/dev/null`` and no other file open, in its
    own process group, with Python's default signal handlers.

    Raises:
        OSError: When no process can be forked, or this is not Linux.
    """
    collecting = gc.isenabled()

    def launch() -> int:
        pid = os.fork()
        if pid == 0:
            try:
                os.setpgid(0, 0)
                os.closerange(_STATUS_FD, os.sysconf("SC_OPEN_MAX"))
                for number in (_STOP, _END, signal.SIGCHLD):
                    signal.signal(number, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                signal.pthread_sigmask(signal.SIG_SETMASK, ())
                if collecting:
                    gc.enable()
                trial()
            finally:
                os._exit(1)
        # Also here, so that a SIGTERM passed on at once reaches the trial's group.
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)
        return pid

    return _start(launch, None)


def _start(launch: Callable[[], int], outputs: tuple[int, int] | None) -> Supervised:
    if not prctl_available() or not hasattr(signal, "sigwaitinfo"):
        raise OSError(errno.ENOSYS, "local trials need Linux (their supervisor uses prctl)")
    parent = os.getpid()
    status_read, status_write = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(status_read)
        os.close(status_write)
        raise
    if pid == 0:
        code = 1  # a failure here is the trial's, as a failed exec would be
        try:
            # A collection could finalise one of the engine's objects here (flush a file).
            gc.disable()
            _detach(status_write, outputs)
            _supervise(launch, parent)
            code = 0
        finally:
            os._exit(code)
    os.close(status_write)
    return Supervised(pid, status_read)


def _detach(status: int, outputs: tuple[int, int] | None) -> None:
    """In the supervisor: its own session, and no file of the engine's left open."""
    os.setsid()  # a Ctrl-C at the terminal reaches the engine, which stops the trials
    null = os.open(os.devnull, os.O_RDWR)
    # Above the targets first, so that no source is overwritten before it is copied.
    sources = [fcntl.fcntl(fd, fcntl.F_DUPFD, _STATUS_FD + 1)
               for fd in (null, *(outputs or (null, null)), status)]
    for target, source in enumerate(sources[:3]):
        os.dup2(source, target)
    os.dup2(sources[3], _STATUS_FD, inheritable=False)
    os.closerange(_STATUS_FD + 1, os.sysconf("SC_OPEN_MAX"))


def _supervise(launch: Callable[[], int], parent: int) -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    prctl(PR_SET_PDEATHSIG, _END)
    if os.getppid() != parent:
        return  # the engine died before its death signal was set: start nothing
    try:
        trial = launch()
    except OSError as exc:
        os.write(_STATUS_FD, f"error {exc.errno}".encode())
        return
    status = None
    while status is None:
        number = signal.sigwaitinfo(_WATCHED).si_signo
        if number == signal.SIGCHLD:
            status = _reap(trial, 0)
        elif number == _STOP:
            try:
                os.killpg(trial, _STOP)
            except ProcessLookupError:  # the trial left its group
                with contextlib.suppress(ProcessLookupError):
                    os.kill(trial, _STOP)
        else:
            break
    status = _kill_all(trial, status)
    os.write(_STATUS_FD, str(os.waitstatus_to_exitcode(status)).encode())


def _reap(trial: int, status: int | None) -> int | None:
    """Reap every child that has exited; the trial's wait status if it was one of them."""
    found = None
    with contextlib.suppress(ChildProcessError):
        while True:
            pid, wait_status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            if pid == trial:
                found = wait_status
    return status if found is None else found


def _kill_all(trial: int, status: int | None) -> int:
    """SIGKILL every descendant until none is left; the trial's wait status.

    A process forking while the tree is killed leaves a child the list missed; that child
    is re-parented to this subreaper and killed in the next round. No child at all means no
    descendant at all.
    """
    me = os.getpid()
    while True:
        try:  # the common case, no child left, needs no look at every process
            os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return status if status is not None else 0
        for pid in _descendants(me):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        pid, wait_status = os.waitpid(-1, 0)
        if pid == trial:
            status = wait_status
        status = _reap(trial, status)


def end_session(session: int) -> None:
    """SIGKILL every process of ``session`` until none is left (the engine's own sweep).

    Its processes have no supervisor left: whoever adopted them reaps them. One that forks
    meanwhile leaves a child in the session for the next round.
    """
    deadline = time.monotonic() + _SWEEP_SECONDS
    while True:
        members = [pid for pid, _, sid, state in _processes()
                   if sid == session and state not in _GONE]
        if not members:
            return
        if time.monotonic() > deadline:  # e.g. stuck in the kernel (state D)
            logger.warning("processes %s of a trial whose supervisor was killed did not end",
                           members)
            return
        for pid in members:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(_SWEEP_POLL)


def _processes() -> Iterator[tuple[int, int, int, bytes]]:
    """Each process's id, parent's id, session id and state (``Z``: a zombie), from /proc."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as file:
                fields = file.read().rsplit(b")", 1)[1].split()  # the name may hold ") "
        except OSError:  # it exited meanwhile
            continue
        yield int(entry), int(fields[1]), int(fields[3]), fields[0]


def _descendants(root: int) -> list[int]:
    """Every live or zombie process below ``root``, from each process's parent in /proc."""
    children: dict[int, list[int]] = {}
    for pid, parent, _, _ in _processes():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found
