"""Locks that a process holds through an open file or connection, so they die with it.

A ``kill -9`` of an engine never leaves one of these held: the kernel drops a ``flock`` with
the process's files, and a database server drops an advisory lock with its connection.
(Optuna's journal locks are files their holder creates and deletes; one left by a killed engine
made the next run wait out a 30 s grace period.) Lock files are created when first needed and
never deleted: a process that opened a file about to be deleted could otherwise hold a lock on
a file nobody else sees.

A lock can still be lost while its holder runs: the lock file deleted or replaced (another
engine then locks the new file), the server's session ended (``pg_terminate_backend``, a
restart, a dropped connection). An engine's locks therefore yield a check, which it calls
before every write that assumes the lock, and :func:`watch` calls every second: a run that no
longer holds its lock stops (:class:`LockLost`) and writes nothing more. A check and the
write after it are not one atomic step; the lock can only be lost in between by a fault such
as the ones above.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from automl.errors import AutomlError
from automl.local.storage_faults import diagnose, storage_errors

__all__ = ["Check", "ExperimentBusy", "FileLock", "LockLost", "database_lock", "is_held",
           "storage_lock", "watch"]

Check = Callable[[], None]
"""Returns while the lock it checks is held; raises :class:`LockLost` once it is not."""


class ExperimentBusy(AutomlError):
    """Another engine runs this experiment; the CLI exits with status 1 (not bad input)."""

    exit_code = 1


class LockLost(AutomlError):
    """An engine no longer holds its experiment's lock: it stopped writing (exit status 1)."""

    exit_code = 1


class FileLock:
    """An exclusive ``flock`` on ``path``, taken by one thread of one process at a time.

    Args:
        path: The lock file (created if missing, never deleted).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None
        # flock excludes other open files, not other threads sharing this object's file.
        self._thread = threading.Lock()

    def acquire(self, blocking: bool = True) -> bool:
        """Take the lock; without ``blocking``, return False at once when it is held.

        Raises:
            OSError: When the lock file cannot be created.
        """
        if not self._thread.acquire(blocking):
            return False
        try:
            # Kept open while the lock is held, which is what holds it; created if needed,
            # never truncated; O_NONBLOCK: a FIFO put at its path fails here, never waits.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK
                         | os.O_CLOEXEC, 0o644)
            file = os.fdopen(fd, "a")
        except BaseException:
            self._thread.release()
            raise
        try:
            fcntl.flock(file, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BaseException as exc:
            file.close()
            self._thread.release()
            if isinstance(exc, BlockingIOError):
                return False
            raise
        self._file = file
        return True

    def holds(self) -> bool:
        """Whether the lock is held on the file ``path`` names now (not deleted or replaced)."""
        if self._file is None:
            return False
        try:
            there = os.stat(self.path)
        except OSError:
            return False
        mine = os.fstat(self._file.fileno())
        return (there.st_dev, there.st_ino) == (mine.st_dev, mine.st_ino)

    def release(self) -> None:
        """Drop the lock (closing the file is what drops it)."""
        file, self._file = self._file, None
        if file is not None:
            file.close()
            self._thread.release()


def is_held(path: Path) -> bool:
    """Whether a process holds the lock on ``path`` now (a reader's look; creates nothing)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO: no lock, and no wait
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # which drops the shared lock, if taken
    return False


def _no_check() -> None:
    """The check of a storage that takes no lock of its own."""


@contextmanager
def storage_lock(database: Path | None, name: str) -> Iterator[Check]:
    """Hold experiment ``name`` in the storage file ``database`` for one engine.

    The lock file is ``<database>.<name>.lock`` beside the journal or SQLite file, so every
    engine using that file takes the same lock whatever folder it runs in. A storage that is
    no local file (a database server, memory) has no such lock: see :func:`database_lock`.
    Yields its check: the lock file deleted or replaced means another engine may lock the
    new one.

    Raises:
        ExperimentBusy: When another engine holds it.
    """
    if database is None:
        yield _no_check
        return
    lock = FileLock(database.with_name(f"{database.name}.{name}.lock"))
    with storage_errors(f"cannot lock experiment {name!r}: {{cause}}; {{remedy}}"):
        acquired = lock.acquire(blocking=False)
    if not acquired:
        raise ExperimentBusy(f"experiment {name!r} is already running with the storage "
                             f"{database} (another 'automl run' holds {lock.path})")
    def check() -> None:
        if not lock.holds():
            raise LockLost(f"experiment {name!r} lost its lock: {lock.path} was deleted or "
                           f"replaced while it ran; {_LOST}")

    try:
        yield check
    finally:
        lock.release()


@contextmanager
def database_lock(url: str | None, name: str, *, wait: bool = False) -> Iterator[Check]:
    """Hold experiment ``name`` in the database server at ``url`` for one engine.

    On PostgreSQL, a session advisory lock keyed by the experiment's name, held by a
    connection of its own for the whole run, so engines on other machines are refused too.
    Other servers (MySQL) take no lock here: engines in different folders or on different
    machines must not run one experiment on them at the same time. ``url`` None: no lock.
    With ``wait``, wait for the holder to let go instead of being refused.

    The session turns ``idle_session_timeout`` off for itself (a database may set it) and is
    named ``automl lock <name>`` in ``pg_stat_activity``. Yields its check: whether
    ``pg_locks`` still shows the lock held by this session, which fails once the server
    ended the session (terminated, restarted, connection lost).

    Raises:
        ExperimentBusy: When another engine holds it (and not ``wait``).
        AutomlError: When the server cannot be reached (exit status 1).
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    if url is None:
        yield _no_check
        return
    # NullPool: closing the connection ends the session, which is what drops the lock.
    engine = create_engine(url, poolclass=NullPool)
    if engine.dialect.name != "postgresql":
        yield _no_check
        return
    shown = engine.url.render_as_string(hide_password=True)
    key = int.from_bytes(hashlib.sha256(f"automl/{name}".encode()).digest()[:8], "big",
                         signed=True)
    take = "pg_advisory_lock" if wait else "pg_try_advisory_lock"  # void, or whether taken
    try:
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        # One statement, at once: the session may not idle before it is exempt (14+).
        connection.execute(text(
            "SELECT set_config('application_name', :n, false), CASE WHEN "
            "current_setting('server_version_num')::int >= 140000 THEN "
            "set_config('idle_session_timeout', '0', false) END"),
            {"n": f"automl lock {name}"[:63]})
        acquired = connection.execute(text(f"SELECT {take}(:key)"), {"key": key}).scalar()
    except SQLAlchemyError as exc:
        error = AutomlError(f"cannot lock experiment {name!r} in {shown}: "
                            f"{str(getattr(exc, 'orig', None) or exc).splitlines()[0]}")
        error.exit_code = 1  # the server, not the input
        raise error from None
    # pg_locks shows a bigint advisory key as its high and low 32 bits (classid, objid).
    held = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND pid = pg_backend_pid() AND objsubid = 1 "
                "AND classid::bigint = :high AND objid::bigint = :low")
    parts = {"high": (key >> 32) & 0xFFFFFFFF, "low": key & 0xFFFFFFFF}
    one_at_a_time = threading.Lock()  # the engine's writes and the watch share the session
    lost: list[str] = []  # why, once lost: a lock lost is never found again

    def check() -> None:
        with one_at_a_time:
            if not lost:
                try:
                    if connection.execute(held, parts).scalar():
                        return
                    lost.append("the server no longer shows it held by this engine's session")
                except SQLAlchemyError as exc:
                    fault = diagnose(exc)
                    lost.append(fault.cause if fault is not None
                                else str(getattr(exc, "orig", None) or exc).splitlines()[0])
        raise LockLost(f"experiment {name!r} lost its lock in {shown}: {lost[0]}; {_LOST}")

    try:
        if not (wait or acquired):
            raise ExperimentBusy(f"experiment {name!r} is already running with the storage "
                                 f"{shown} (another 'automl run' holds its lock there)")
        yield check
    finally:
        with one_at_a_time:
            connection.close()


_LOST = ("another engine may run it now, so this one stopped and wrote nothing more: run the "
         "same command to resume once none does")


@contextmanager
def watch(check: Check, lost: Callable[[], None], every: float = 1.0) -> Iterator[None]:
    """Call ``check`` every ``every`` seconds in a thread; ``lost()`` once it fails.

    An engine waiting on long trials writes nothing for a while; this is how it learns
    sooner that it lost its lock (``lost`` stops it; its next write's check then raises).
    """
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            try:
                check()
            except LockLost:
                lost()
                return

    thread = threading.Thread(target=loop, name="automl-lock-watch", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
