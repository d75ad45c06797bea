"""Storage faults named in one line from what real storages raise; locks that know they are lost."""

from __future__ import annotations

import os
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
from optuna.storages import RDBStorage

from automl.local.lock import LockLost, StorageFileLock, database_lock, storage_lock
from automl.local.storage_faults import StorageError, diagnose, storage_command


def _new_study(storage: RDBStorage) -> None:
    storage.create_new_study([optuna.study.StudyDirection.MINIMIZE], "s")


def _sqlite_full(tmp_path: Path, _request: pytest.FixtureRequest) -> BaseException:
    from sqlalchemy import event

    storage = RDBStorage(f"sqlite:///{tmp_path / 'x.db'}")
    # SQLite's own page limit: the file cannot grow, as on a full disk (SQLITE_FULL).
    event.listen(storage.engine, "connect",
                 lambda connection, _: connection.execute("PRAGMA max_page_count = 40"))
    storage.engine.dispose()
    study = storage.create_new_study([optuna.study.StudyDirection.MINIMIZE], "s")
    with pytest.raises(optuna.exceptions.StorageInternalError) as raised:
        for number in range(1000):
            storage.set_study_user_attr(study, f"k{number}", "x" * 4000)
    return raised.value


def _sqlite_locked(tmp_path: Path, _request: pytest.FixtureRequest) -> BaseException:
    database = tmp_path / "x.db"
    RDBStorage(f"sqlite:///{database}")
    holder = sqlite3.connect(database)
    holder.execute("BEGIN IMMEDIATE")  # others may read, not write
    try:
        with pytest.raises(optuna.exceptions.StorageInternalError) as raised:
            _new_study(RDBStorage(f"sqlite:///{database}", engine_kwargs={
                "connect_args": {"timeout": 0}}))
        return raised.value
    finally:
        holder.close()


def _sqlite_read_only(tmp_path: Path, _request: pytest.FixtureRequest) -> BaseException:
    database = tmp_path / "x.db"
    RDBStorage(f"sqlite:///{database}")
    storage = RDBStorage(f"sqlite:///file:{database}?mode=ro&uri=true")
    with pytest.raises(optuna.exceptions.StorageInternalError) as raised:
        _new_study(storage)
    return raised.value


def _disk_full(_tmp_path: Path, _request: pytest.FixtureRequest) -> BaseException:
    with pytest.raises(OSError) as raised, open("/dev/full", "wb", buffering=0) as full:
        full.write(b"x")
    return raised.value


def _server_refused(_tmp_path: Path, _request: pytest.FixtureRequest) -> BaseException:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(Exception) as raised:  # SQLAlchemy's OperationalError
        RDBStorage(f"postgresql+psycopg://postgres@127.0.0.1:{port}/x")
    return raised.value


def _server_terminated(_tmp_path: Path, request: pytest.FixtureRequest) -> BaseException:
    from sqlalchemy import create_engine, text

    url = request.getfixturevalue("postgres_url")
    storage = RDBStorage(url)
    _new_study(storage)  # a pooled connection, then its session ended by an administrator
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                                "datname = current_database() AND pid <> pg_backend_pid()"))
    admin.dispose()
    with pytest.raises(optuna.exceptions.StorageInternalError) as raised:
        storage.set_study_user_attr(0, "k", "v")
    return raised.value


_GONE = "the database server refused or closed the connection"
_REACH = "check that the server is up and reachable"
_FAULTS: dict[str, tuple[Callable[..., BaseException], str, str]] = {
    "sqlite full": (_sqlite_full, "the disk is full (database or disk is full)", "make room"),
    "sqlite locked": (_sqlite_locked, "another process holds the database locked (database "
                      "is locked)", "wait for it to finish, or stop it"),
    "sqlite read-only": (_sqlite_read_only, "the database file or its folder is read-only "
                         "(attempt to write a readonly database)",
                         "make the storage and its folder writable"),
    "ENOSPC": (_disk_full, "No space left on device", "make room"),
    "server refused": (_server_refused, f"{_GONE} (connection failed: ", _REACH),
    "server terminated": (_server_terminated, f"{_GONE} (terminating connection due to "
                          "administrator command)", _REACH),
}


@pytest.mark.parametrize("kind", list(_FAULTS))
def test_each_storage_fault_is_named_by_its_cause_and_what_to_do(tmp_path, request,
                                                                  kind) -> None:
    make, cause, remedy = _FAULTS[kind]
    fault = diagnose(make(tmp_path, request))
    assert fault is not None
    assert fault.cause.startswith(cause), fault.cause
    assert "\n" not in fault.cause
    assert fault.remedy == remedy


def test_an_error_that_is_no_storage_fault_is_left_as_it_is() -> None:
    assert diagnose(ValueError("no")) is None
    assert diagnose(KeyError("t")) is None


def test_a_storage_command_says_a_fault_in_one_line_naming_the_storage_without_password(
        ) -> None:
    @storage_command
    def command(name: str, storage: str | None = None, root: Path = Path(".x")) -> None:
        with open("/dev/full", "wb", buffering=0) as full:
            full.write(name.encode())

    with pytest.raises(StorageError) as raised:
        command("t", "postgresql://me:secret@127.0.0.1/db")
    assert str(raised.value) == ("storage postgresql://me:***@127.0.0.1/db: No space left on "
                                 "device; make room")
    assert raised.value.exit_code == 1
    with pytest.raises(StorageError, match=r"^storage \.x/studies\.journal: No space left"):
        command("t")


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_storage_file_deleted_or_replaced_is_a_lock_lost(tmp_path, how) -> None:
    database = tmp_path / "x.journal"
    database.touch()
    with storage_lock(database, "t") as check:
        check()  # held
        if how == "deleted":
            database.unlink()
        else:  # a new file renamed over it
            (tmp_path / "other").touch()
            os.replace(tmp_path / "other", database)
        with pytest.raises(LockLost, match=r"^experiment 't' lost its lock: .*x\.journal "
                                           r"was deleted or replaced while it ran"):
            check()
        if how == "replaced":
            # Another engine can now lock the file the path names: both must not run on.
            other = StorageFileLock(database, "t")
            assert other.acquire()
            other.release()


def test_a_postgresql_lock_whose_session_ended_is_lost_for_good(postgres_url) -> None:
    from sqlalchemy import create_engine, text

    with database_lock(postgres_url, "t") as check:
        check()
        admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            ended = connection.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'automl lock t'")).scalar()
            assert ended == 1
        admin.dispose()
        for _ in range(2):  # the first check's cause, not a reconnection's, every time
            with pytest.raises(LockLost, match=r"lost its lock in .*: the database server "
                                               r"refused or closed the connection \(terminating"):
                check()
