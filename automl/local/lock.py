"""Locks that a process holds through an open file or connection, so they die with it.

A ``kill -9`` of an engine never leaves one of these held: the kernel drops a ``flock`` with
the process's files, and a database server drops an advisory lock with its connection.
(Optuna's journal locks are files their holder creates and deletes; one left by a killed engine
made the next run wait out a 30 s grace period.) Lock files are created when first needed and
never deleted: a process that opened a file about to be deleted could otherwise hold a lock on
a file nobody else sees.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from automl.errors import AutomlError

__all__ = ["ExperimentBusy", "FileLock", "database_lock", "is_held", "storage_lock"]


class ExperimentBusy(AutomlError):
    """Another engine runs this experiment; the CLI exits with status 1 (not bad input)."""

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
            # Kept open while the lock is held, which is what holds it; "a" creates the file
            # if needed and never truncates it.
            file = open(self.path, "a")  # noqa: SIM115
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

    def release(self) -> None:
        """Drop the lock (closing the file is what drops it)."""
        file, self._file = self._file, None
        if file is not None:
            file.close()
            self._thread.release()


def is_held(path: Path) -> bool:
    """Whether a process holds the lock on ``path`` now (a reader's look; creates nothing)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # which drops the shared lock, if taken
    return False


@contextmanager
def storage_lock(database: Path | None, name: str) -> Iterator[None]:
    """Hold experiment ``name`` in the storage file ``database`` for one engine.

    The lock file is ``<database>.<name>.lock`` beside the journal or SQLite file, so every
    engine using that file takes the same lock whatever folder it runs in. A storage that is
    no local file (a database server, memory) has no such lock: see :func:`database_lock`.

    Raises:
        ExperimentBusy: When another engine holds it.
    """
    if database is None:
        yield
        return
    lock = FileLock(database.with_name(f"{database.name}.{name}.lock"))
    try:
        acquired = lock.acquire(blocking=False)
    except OSError as exc:
        raise AutomlError(f"cannot lock experiment {name!r}: {lock.path}: "
                          f"{exc.strerror or exc}") from None
    if not acquired:
        raise ExperimentBusy(f"experiment {name!r} is already running with the storage "
                             f"{database} (another 'automl run' holds {lock.path})")
    try:
        yield
    finally:
        lock.release()


@contextmanager
def database_lock(url: str | None, name: str, *, wait: bool = False) -> Iterator[None]:
    """Hold experiment ``name`` in the database server at ``url`` for one engine.

    On PostgreSQL, a session advisory lock keyed by the experiment's name, held by a
    connection of its own for the whole run, so engines on other machines are refused too.
    Other servers (MySQL) take no lock here: engines in different folders or on different
    machines must not run one experiment on them at the same time. ``url`` None: no lock.
    With ``wait``, wait for the holder to let go instead of being refused.

    Raises:
        ExperimentBusy: When another engine holds it (and not ``wait``).
        AutomlError: When the server cannot be reached (exit status 1).
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    if url is None:
        yield
        return
    # NullPool: closing the connection ends the session, which is what drops the lock.
    engine = create_engine(url, poolclass=NullPool)
    if engine.dialect.name != "postgresql":
        yield
        return
    shown = engine.url.render_as_string(hide_password=True)
    key = int.from_bytes(hashlib.sha256(f"automl/{name}".encode()).digest()[:8], "big",
                         signed=True)
    take = "pg_advisory_lock" if wait else "pg_try_advisory_lock"  # void, or whether taken
    try:
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        acquired = connection.execute(text(f"SELECT {take}(:key)"), {"key": key}).scalar()
    except SQLAlchemyError as exc:
        error = AutomlError(f"cannot lock experiment {name!r} in {shown}: "
                            f"{str(getattr(exc, 'orig', None) or exc).splitlines()[0]}")
        error.exit_code = 1  # the server, not the input
        raise error from None
    try:
        if not (wait or acquired):
            raise ExperimentBusy(f"experiment {name!r} is already running with the storage "
                                 f"{shown} (another 'automl run' holds its lock there)")
        yield
    finally:
        connection.close()
