"""Locks that a process holds through an open file or connection, so they die with it.

A ``kill -9`` of an engine never leaves one of these held: the kernel drops a ``flock`` or an OFD
lock with the process's files, and a database server drops an advisory lock with its connection.
(Optuna's journal locks are files their holder creates and deletes; one left by a killed engine
made the next run wait out a 30 s grace period.) Lock files are created when first needed and
never deleted: a process that opened a file about to be deleted could otherwise hold a lock on
a file nobody else sees.

A lock can still be lost while its holder runs: the locked file deleted or replaced (another
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
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from automl.errors import AutomlError
from automl.local.storage_faults import diagnose, storage_errors

__all__ = ["Check", "ExperimentBusy", "FileLock", "LockLost", "StorageFileLock", "database_lock",
           "is_held", "storage_lock", "storage_locked", "watch"]

Check = Callable[[], None]
"""Returns while the lock it checks is held; raises :class:`LockLost` once it is not."""


class ExperimentBusy(AutomlError):
    """Another engine runs this experiment; the CLI exits with status 1 (not bad input)."""

    exit_code = 1


class LockLost(AutomlError):
    """An engine no longer holds its experiment's lock: it stopped writing (exit status 1)."""

    exit_code = 1


def _names(path: Path, fd: int) -> bool:
    """Whether ``path`` names the file open as ``fd`` (it was not deleted or replaced)."""
    try:
        there = os.stat(path)
    except OSError:
        return False
    mine = os.fstat(fd)
    return (there.st_dev, there.st_ino) == (mine.st_dev, mine.st_ino)


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
        return self._file is not None and _names(self.path, self._file.fileno())

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


# struct flock on Linux (64-bit off_t): l_type, l_whence, l_start, l_len, l_pid, padding.
_FLOCK = "hhqqi4x"
_BASE = 2**40
"""The first byte of the experiments' locks in a storage file: far above SQLite's own lock
bytes (0x40000000 and the 510 bytes after it) and any offset Optuna's journal writes at."""


def _byte(name: str) -> int:
    """The byte of a storage file whose lock is experiment ``name``'s (stable across runs)."""
    digest = hashlib.sha256(f"automl/{name}".encode()).digest()
    return _BASE + int.from_bytes(digest[:4], "big") % 2**30


def _ofd(fd: int, command: int, kind: int, offset: int) -> int:
    """Apply an OFD lock ``command`` of ``kind`` to byte ``offset`` of ``fd``; the lock type
    the kernel answers (for ``F_OFD_GETLK``: ``F_UNLCK`` when nothing else holds it)."""
    answer = fcntl.fcntl(fd, command, struct.pack(_FLOCK, kind, os.SEEK_SET, offset, 1, 0))
    return struct.unpack(_FLOCK, answer)[0]


class StorageFileLock:
    """Experiment ``name``'s exclusive lock on the storage file ``path`` itself (its inode).

    An open file description (OFD) lock, ``F_OFD_SETLK``, on one byte of the journal or
    SQLite file, chosen by the experiment's name (two names sharing a byte, one chance in
    2**30, refuse each other). On the file itself, not on a file beside the path used to
    reach it: a hard link, a symlink, a bind mount or another mount of the same file system
    reach the same inode, hence the same lock. An OFD lock, not a classic POSIX lock
    (``lockf``, ``F_SETLK``): a POSIX lock belongs to the process and is dropped when the
    process closes *any* descriptor of the file, which SQLite and Optuna do all the time
    (every connection, every journal read); an OFD lock belongs to the descriptor this object
    opened and lives until it is closed or the process dies (``kill -9`` included). The byte
    lies far beyond anything SQLite locks (``_BASE``), so its locking and the journal's
    (a ``flock`` on ``<journal>.flock``) are unaffected. Linux 3.15 or later.

    Args:
        path: The storage file (it exists: the storage was opened first).
        name: The experiment.
    """

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self._byte = _byte(name)
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock; False at once when another open file holds it.

        Raises:
            OSError: When the storage file cannot be opened for writing.
        """
        fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)  # a write lock needs a writable fd
        try:
            _ofd(fd, fcntl.F_OFD_SETLK, fcntl.F_WRLCK, self._byte)
        except BaseException as exc:
            os.close(fd)
            if isinstance(exc, (BlockingIOError, PermissionError)):  # EAGAIN or EACCES: held
                return False
            raise
        self._fd = fd
        return True

    def holds(self) -> bool:
        """Whether the lock is held on the file ``path`` names now (not deleted or replaced)."""
        return self._fd is not None and _names(self.path, self._fd)

    def release(self) -> None:
        """Drop the lock (closing the descriptor is what drops it)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def storage_locked(path: Path, name: str) -> bool:
    """Whether an engine holds experiment ``name``'s lock on the storage file ``path`` now
    (a reader's look, through any path to the file; takes and creates nothing)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return _ofd(fd, fcntl.F_OFD_GETLK, fcntl.F_WRLCK, _byte(name)) != fcntl.F_UNLCK
    finally:
        os.close(fd)


def _no_check() -> None:
    """The check of a storage that takes no lock of its own."""


@contextmanager
def storage_lock(database: Path | None, name: str) -> Iterator[Check]:
    """Hold experiment ``name`` in the storage file ``database`` for one engine.

    A :class:`StorageFileLock` on the journal or SQLite file itself, so every engine using
    that file takes the same lock whatever folder it runs in and whatever path (a hard link,
    a bind mount) it names the file by. A storage that is no local file (a database server,
    memory) has no such lock: see :func:`database_lock`. Yields its check: the storage file
    deleted or replaced means another engine may lock the new one.

    Raises:
        ExperimentBusy: When another engine holds it.
    """
    if database is None:
        yield _no_check
        return
    lock = StorageFileLock(database, name)
    with storage_errors(f"cannot lock experiment {name!r}: {{cause}}; {{remedy}}"):
        acquired = lock.acquire()
    if not acquired:
        raise ExperimentBusy(f"experiment {name!r} is already running with the storage "
                             f"{database} (another 'automl run' holds its lock on that file)")
    def check() -> None:
        if not lock.holds():
            raise LockLost(f"experiment {name!r} lost its lock: {database} was deleted or "
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
