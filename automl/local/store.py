"""Where studies live: one Optuna storage file under ``.automl/``, or any Optuna storage URL."""

from __future__ import annotations

import json
import logging
import os
import weakref
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, InMemoryStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend

from automl.errors import AutomlError
from automl.local.lock import FileLock
from automl.spec import ExperimentSpec

__all__ = ["ATTR", "DEFAULT_ROOT", "open_storage", "open_study", "storage_file", "stored_spec"]

logger = logging.getLogger(__name__)

DEFAULT_ROOT = Path(".automl")
JOURNAL = "studies.journal"
ATTR = "automl"  # one user attribute per study or trial holds automl's record (one write)

_FILES: weakref.WeakKeyDictionary[BaseStorage, Path] = weakref.WeakKeyDictionary()


def open_storage(url: str | None = None, root: Path = DEFAULT_ROOT, *,
                 existing: bool = False) -> BaseStorage:
    """The storage named by ``url``, or the journal file ``<root>/studies.journal``.

    ``url`` may be any Optuna RDB URL (``sqlite:///x.db``, ``postgresql://...``), the path of
    a journal file, or ``:memory:`` (nothing kept after the process ends). Optuna's journal
    file appends one line per change and fsyncs it, so a ``kill -9`` loses nothing that was
    recorded; it costs a few milliseconds per trial where SQLite's transactions cost tens.
    Its lock (``<journal>.flock``) dies with its holder, and a record cut short (disk full,
    ``kill -9``) is removed rather than left to spoil the next. With ``existing``, a journal
    file that is not there is an error rather than created (for commands that only read).

    Raises:
        AutomlError: When the storage cannot be opened, or ``existing`` and there is none.
    """
    if url == ":memory:":
        return InMemoryStorage()
    if url is None or "://" not in url:
        path = Path(url) if url else root / JOURNAL
        if existing and not path.exists():
            raise AutomlError(f"no experiments here: {path} does not exist (run one first, "
                              "or give --storage)")
        path.parent.mkdir(parents=True, exist_ok=True)
        storage: BaseStorage = JournalStorage(_JournalFile(path))
        _FILES[storage] = path.resolve()
        return storage
    database = _sqlite_file(url)
    try:
        if database is None:
            return RDBStorage(url)
        # Two engines opening a new SQLite file at once would both create its tables, and
        # one would fail ("table ... already exists"): one at a time.
        lock = FileLock(database.with_name(database.name + ".flock"))
        lock.acquire()
        try:
            storage = RDBStorage(url)
        finally:
            lock.release()
    except (ImportError, ValueError, OSError, optuna.exceptions.StorageInternalError) as exc:
        raise AutomlError(f"cannot open storage {url!r}: {exc}") from None
    _FILES[storage] = database
    return storage


def storage_file(storage: BaseStorage) -> Path | None:
    """The local file behind a storage from :func:`open_storage` (journal or SQLite), if any."""
    return _FILES.get(storage)


def _sqlite_file(url: str) -> Path | None:
    """The database file of a ``sqlite:///`` URL (resolved), None for other URLs or memory."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # RDBStorage reports it
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()


class _JournalFile(JournalFileBackend):
    """Optuna's journal file, whose records are never left cut short.

    Appends hold ``<journal>.flock`` (an automl.local.lock.FileLock, which dies with its
    holder) instead of Optuna's lock file, so another program appending to the same journal
    at the same time should open it here too. A write that fails part-way (disk full, a file
    size limit) is undone before the error is raised, and a record a killed process left
    without its newline is removed before the next is appended: either would otherwise join
    the next record on one line, and Optuna, unable to read that line, could read nothing
    after it.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))  # its own lock is never taken: append_logs is replaced
        self.path = path
        self.flock = FileLock(path.with_name(path.name + ".flock"))

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        data = "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in logs).encode()
        self.flock.acquire()
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND)
            try:
                end = _whole_records(fd)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                    os.fsync(fd)
                except OSError:
                    os.ftruncate(fd, end)
                    raise
            finally:
                os.close(fd)
        finally:
            self.flock.release()


def _whole_records(fd: int) -> int:
    """The journal's size without a last record cut short (which is removed)."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return size
    end = size
    while end > 0:
        start = max(0, end - 65536)
        newline = os.pread(fd, end - start, start).rfind(b"\n")
        if newline >= 0:
            end = start + newline + 1
            break
        end = start
    os.ftruncate(fd, end)
    logger.warning("removed an incomplete last record (%d bytes) from the journal", size - end)
    return end


def open_study(spec: ExperimentSpec, storage: BaseStorage, sampler: optuna.samplers.BaseSampler,
               katib_yaml: str | None) -> optuna.Study:
    """Create the experiment's study, or load it to resume.

    Raises:
        AutomlError: When a study of that name exists with another definition; as in Katib,
            only the budget may change between runs.
    """
    direction = "maximize" if spec.objective.type == "maximize" else "minimize"
    study = optuna.create_study(study_name=spec.name, storage=storage, sampler=sampler,
                                direction=direction, load_if_exists=True)
    record = study.user_attrs.get(ATTR)
    mine = json.loads(spec.model_dump_json(by_alias=True))
    if record is None:
        study.set_user_attr(ATTR, {"spec": mine, "katib": katib_yaml, "status": "Running",
                                   "reason": ""})
        return study
    theirs = record["spec"]
    changed = sorted(k for k in set(mine) | set(theirs)
                     if k != "budget" and mine.get(k) != theirs.get(k))
    if changed:
        raise AutomlError(f"experiment {spec.name!r} already exists in this storage with a "
                          f"different {', '.join(changed)}; only the budget may change between "
                          "runs (as in Katib). Use another name, or delete the experiment")
    if record["spec"].get("budget") != mine.get("budget"):
        study.set_user_attr(ATTR, {**record, "spec": mine, "katib": katib_yaml})
    return study


def stored_spec(study: optuna.Study | Any) -> ExperimentSpec:
    """The ExperimentSpec a study was run with."""
    return ExperimentSpec.model_validate(study.user_attrs[ATTR]["spec"])
