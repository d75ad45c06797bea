"""Where studies live: one Optuna storage file under ``.automl/``, or any Optuna storage URL."""

from __future__ import annotations

import json
import logging
import os
import warnings
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, InMemoryStorage, RDBStorage

from automl.errors import AutomlError
from automl.local.changes import changed_fields, describe
from automl.local.journal import JOURNAL_START, JournalFile
from automl.local.journal_storage import IndexedJournalStorage
from automl.local.lock import FileLock, database_lock
from automl.local.paths import DEFAULT_ROOT, JOURNAL, RUNS_KEY
from automl.local.status import RESUME_KEY
from automl.local.storage_faults import StorageError, diagnose
from automl.local.storage_faults import shown as _shown
from automl.local.trial_files import UnreadableFile, not_regular, open_trial_file
from automl.spec import ExperimentSpec
from automl.state.cut import cut_short

__all__ = ["ATTR", "DEFAULT_ROOT", "JOURNAL", "RUN_OPTIONS", "StorageError", "dashboard_attrs",
           "open_storage", "open_study", "server_url", "storage_file", "stored_spec"]

logger = logging.getLogger(__name__)

ATTR = "automl"  # one user attribute per study or trial holds automl's record (one write)

_SQLITE = b"SQLite format 3\0"  # the first bytes of every SQLite database file
_FILES: weakref.WeakKeyDictionary[BaseStorage, Path] = weakref.WeakKeyDictionary()


def open_storage(url: str | None = None, root: Path = DEFAULT_ROOT, *,
                 existing: bool = False) -> BaseStorage:
    """The storage named by ``url``, or the journal file ``<root>/studies.journal``.

    ``url`` may be any Optuna RDB URL (``sqlite:///x.db``, ``postgresql://...``), the path of
    a journal file or of a SQLite database, or ``:memory:`` (nothing kept after the process
    ends). Optuna's journal file appends one line per change and fsyncs it, so a ``kill -9``
    loses nothing that was recorded; it costs a few milliseconds per trial where SQLite's
    transactions cost tens (automl.local.journal: its lock dies with its holder, and a
    damaged record is skipped rather than hiding the rest). A file is used only when its
    content is a journal's or a SQLite database's (or it is empty): anything else is left
    as it is. With ``existing`` (commands that read, and ``automl delete``), a storage that
    is not there is an error rather than created, and automl writes nothing on opening it.
    (SQLite itself may: a transaction that an engine killed mid-write left in the database's
    journal is rolled back by the next connection, which a read-only one cannot do.)

    Raises:
        StorageError: When the storage cannot be opened (exit status 2 for a path that names
            no storage, 1 when reading or writing fails), or ``existing`` and there is none.
    """
    if url == ":memory:":
        return InMemoryStorage()
    if url is None or "://" not in url:
        path = Path(url) if url else root / JOURNAL
        if url is None and not existing:
            _make_folder(root)
        elif url is None and not root.is_dir():  # a reading command where nothing ran yet
            raise StorageError(f"no experiments here: {path} does not exist (run one first, "
                               "or give --storage)")
        kind = _file_kind(path, url or str(path), existing)
        if kind == "sqlite":
            return open_storage(f"sqlite:///{path.resolve()}", root, existing=existing)
        if not existing:
            _writable(path, url or str(path))
        storage: BaseStorage = IndexedJournalStorage(JournalFile(path))
        _FILES[storage] = path.resolve()
        return storage
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    given, database = url, _sqlite_file(url)
    if database is not None and _file_kind(database, url, existing) == "journal":
        raise StorageError(f"storage {url!r}: {database} is a journal, not a SQLite "
                           f"database; give --storage {database}")
    if existing and database is not None:
        # mode=rw: never creates the file (nor, below, tables in it), and can roll back what
        # a killed engine left in its journal: mode=ro fails there ("attempt to write a
        # readonly database") until the next run. On a read-only file it opens read-only.
        url = f"sqlite:///file:{database}?mode=rw&uri=true"
    # A server's pooled connections may be closed between writes (idle_session_timeout, a
    # proxy): each is tested before use, as Optuna does for MySQL.
    engine_kwargs = {} if database is not None else {"pool_pre_ping": True}
    try:
        if existing and not _has_tables(url):
            raise StorageError(f"no experiments here: {database or _shown(url)} holds no "
                               "Optuna tables (run one first, or give the --storage it used)")
        # Two engines opening a new database at once would both create its tables, and one
        # would fail ("table ... already exists"): one at a time, by a lock file beside a
        # SQLite file, or an advisory lock in a PostgreSQL database.
        if database is None or existing:
            with database_lock(url, "(tables)", wait=True):
                storage = RDBStorage(url, engine_kwargs=engine_kwargs)
        else:
            lock = FileLock(database.with_name(database.name + ".flock"))
            lock.acquire()
            try:
                storage = RDBStorage(url)
            finally:
                lock.release()
    except (ImportError, ValueError, ArgumentError) as exc:
        raise StorageError(f"cannot open storage {_shown(given)!r}: {exc}") from None
    except (OSError, SQLAlchemyError, optuna.exceptions.StorageInternalError) as exc:
        # a server that cannot be reached, a file that cannot be written: not the input
        fault = diagnose(exc)
        detail = (f"{fault.cause}; {fault.remedy}" if fault is not None
                  else str(getattr(exc, "orig", None) or exc).splitlines()[0])
        raise StorageError(f"cannot open storage {_shown(given)!r}: {detail}", 1) from None
    if database is not None:
        _FILES[storage] = database
    return storage


def storage_file(storage: BaseStorage) -> Path | None:
    """The local file behind a storage from :func:`open_storage` (journal or SQLite), if any."""
    return _FILES.get(storage)


def server_url(storage: BaseStorage) -> str | None:
    """The URL of the database server behind a storage (not a SQLite file), if any."""
    if isinstance(storage, RDBStorage) and storage_file(storage) is None:
        return storage.url
    return None


def _has_tables(url: str) -> bool:
    """Whether the database at ``url`` has Optuna's tables (looked at, nothing created)."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        return inspect(engine).has_table("studies")
    finally:
        engine.dispose()


def _file_kind(path: Path, given: str, existing: bool) -> str:
    """``journal``, ``sqlite`` or ``new`` (missing or empty), from the file's first bytes.

    Raises:
        StorageError: When ``path`` is not a regular file (a folder, FIFO, socket or device,
            refused before it is opened), is in a missing folder, holds something else, or
            cannot be read; or it is missing and ``existing``.
    """
    try:
        kind = not_regular(path.stat().st_mode)
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise StorageError(f"storage {given!r}: the folder {path.parent} does not "
                               "exist") from None
        if existing:
            raise StorageError(f"no experiments here: {path} does not exist (run one first, "
                               "or give --storage)") from None
        return "new"
    except OSError as exc:
        raise _io_error(f"cannot read storage {given!r}", exc) from None
    if kind is not None:  # opening a FIFO or a device to read or append could wait forever
        raise StorageError(f"storage {given!r}: {kind}, not a regular file; give a journal "
                           "or SQLite file (or a path where automl may create one)")
    try:
        with open_trial_file(path, max_bytes=None) as file:  # never waits, even if replaced
            head = file.read(len(_SQLITE))
    except UnreadableFile as exc:
        raise StorageError(f"storage {given!r}: {exc}") from None
    except OSError as exc:
        raise _io_error(f"cannot read storage {given!r}", exc) from None
    if not head:
        return "new"
    if head == _SQLITE:
        return "sqlite"
    if head.startswith(JOURNAL_START):
        return "journal"
    raise StorageError(f"storage {given!r} is neither an Optuna journal nor a SQLite database "
                       f"(it starts with {head[:12]!r}); automl leaves it as it is")


def _writable(path: Path, given: str) -> None:
    """Create ``path`` if missing (empty) and check it can be appended to.

    Raises:
        StorageError: When it cannot (exit status 1).
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
    except OSError as exc:
        raise _io_error(f"cannot write storage {given!r}", exc) from None


def _make_folder(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _io_error(f"cannot create {root}", exc) from None


def _io_error(what: str, exc: OSError) -> StorageError:
    """``what`` failed, with its cause and what to do (exit status 1); the path is in ``what``."""
    fault = diagnose(OSError(exc.errno, exc.strerror))
    return StorageError(f"{what}: {fault.cause}; {fault.remedy}" if fault is not None
                        else f"{what}: {exc}", 1)


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


RUN_OPTIONS = {"katib_shell": "--katib-shell"}
"""The options that change how trials run (name → its flag of ``automl run``): kept with the
study by its first run, so that a resume cannot mix two ways of running trials in one study."""


def open_study(spec: ExperimentSpec, storage: BaseStorage, sampler: optuna.samplers.BaseSampler,
               katib_yaml: str | None, identity: dict[str, str] | None = None,
               options: Mapping[str, bool] | None = None,
               runs: Path | None = None, resume: str | None = None) -> optuna.Study:
    """Create the experiment's study, or load it to resume.

    Args:
        spec: The experiment.
        storage: Where the study lives.
        sampler: The study's sampler.
        katib_yaml: The Katib manifest kept with the study (None when it has none).
        identity: What the trials run beyond ``spec`` (TrialRunner.identity), compared as
            the spec is.
        options: The values of :data:`RUN_OPTIONS` this run has.
        runs: The experiment's absolute runs folder, recorded in the study (a study made
            before folders were recorded gets it when resumed), so that readers in any
            folder find the files of a study on a database server
            (:func:`automl.local.paths.runs_folder`).
        resume: How to resume this run from any folder (automl.local.status.resume_command),
            recorded for ``automl list``/``status`` to show once it is interrupted; the last
            start's wins.

    Raises:
        AutomlError: When a study of that name exists with another definition (as in Katib,
            only the budget may change between runs) or was run with other options.
    """
    direction = "maximize" if spec.objective.type == "maximize" else "minimize"
    study = optuna.create_study(study_name=spec.name, storage=storage, sampler=sampler,
                                direction=direction, load_if_exists=True)
    record = study.user_attrs.get(ATTR)
    mine = json.loads(spec.model_dump_json(by_alias=True))
    if study.metric_names is None:  # optuna-dashboard names the objective axis after it
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([spec.objective.metric])
    identity = identity or {}
    options = dict(options or {})
    where = {} if runs is None else {RUNS_KEY: str(runs)}
    if resume is not None:
        where[RESUME_KEY] = resume
    if record is None:
        study.set_user_attr(ATTR, {"spec": mine, "katib": katib_yaml, "status": "Running",
                                   "reason": "", "identity": identity, "options": options,
                                   **where})
        return study
    _check_options(spec.name, record.get("options"), options)
    if "options" not in record:  # a study from before options were kept: from now on
        record = {**record, "options": options}
        study.set_user_attr(ATTR, record)
    theirs = record["spec"]
    changes = changed_fields(theirs, mine, ignore=("budget",))
    # a study from before identities were kept has none: it takes this run's
    stored = record.get("identity", identity)
    changes += [(key, _identity_change(key, stored.get(key), identity.get(key)))
                for key in sorted(set(stored) | set(identity))
                if stored.get(key) != identity.get(key)]
    if changes:
        raise AutomlError(f"experiment {spec.name!r} already exists in this storage with "
                          f"{describe(changes)}; only the budget may change between runs (as "
                          f"in Katib). {_fresh_start(spec.name, identity)}")
    budget = theirs.get("budget") != mine.get("budget")
    if budget:
        _check_restart(spec, record, _counted_trials(study), identity)
    if (budget or "identity" not in record or (RUNS_KEY not in record and where)
            or (resume is not None and record.get(RESUME_KEY) != resume)):
        study.set_user_attr(ATTR, {**record, "spec": mine, "katib": katib_yaml,
                                   "identity": identity, **where})
    return study


def _identity_change(key: str, before: str | None, now: str | None) -> str:
    """How one identity entry changed, in words: ``train: its code, ...``."""
    if key == "function" and before and now:
        name = now.split(" ")[0]
        return f"{name}: its code, the code it calls, its fixed values or the data it reads"
    return f"{key}: {before or 'none'} → {now or 'none'}"


def _fresh_start(name: str, identity: Mapping[str, str]) -> str:
    """How to run ``name`` anew, from where the user is: automl.tune() or an experiment file."""
    if "function" in identity:
        return (f"Call automl.tune() with another name, or start fresh with "
                f"'automl delete {name}'")
    return f"Use another name, or start fresh with 'automl delete {name}'"


def dashboard_attrs(record: dict[str, Any], spec: ExperimentSpec) -> dict[str, Any]:
    """A trial's name, Katib condition and metrics as user attributes of their own.

    automl reads its one record attribute; optuna-dashboard shows user attributes as a table,
    where these say what the record's JSON would bury: the trial's Katib name, its status
    (EarlyStopped, Killed, MetricsUnavailable: Optuna has no such states) and each metric's
    value after its strategy.
    """
    attrs: dict[str, Any] = {"trial": record["name"], "status": record["status"]}
    if record.get("reason"):
        attrs["reason"] = record["reason"]
    for metric, values in record["metrics"].items():
        value = values.get(spec.objective.strategy(metric))
        if value is not None:
            attrs[f"metrics.{metric}"] = value
    return attrs


def _check_options(name: str, stored: Mapping[str, bool] | None,
                   given: Mapping[str, bool]) -> None:
    """Refuse a resume whose trials would run otherwise than the study's first run's."""
    for option, flag in RUN_OPTIONS.items():
        if stored is None or option not in stored:
            continue
        before, now = bool(stored[option]), bool(given.get(option, False))
        if before != now:
            was = "with" if before else "without"
            raise AutomlError(f"experiment {name!r} was started {was} {flag}, and its trials "
                              f"must all run one way: run it again {was} {flag}, or start "
                              f"fresh (automl delete {name}, or another name)")


def _counted_trials(study: optuna.Study) -> int:
    """The study's trials that count toward its budget, as Katib's ``status.trials`` does.

    Left out: trials cut short by their engine's stop (:mod:`automl.state.cut`), and those
    running without a record, which the engine holding the lock records as cut short (a
    trial records itself before its end reaches Optuna, so one with a record has ended).
    """
    count = 0
    for t in study.get_trials(deepcopy=False):
        record = t.user_attrs.get(ATTR)
        count += t.state.is_finished() if record is None else not cut_short(record)
    return count


def _check_restart(spec: ExperimentSpec, record: dict[str, Any], trials: int,
                   identity: Mapping[str, str]) -> None:
    from automl.spec.rules.restart import restart_findings

    status, reason = record.get("status", "Running"), record.get("reason", "")
    findings = list(restart_findings(spec, status=status, reason=reason, trials=trials))
    if not findings:
        return
    message = (f"experiment {spec.name!r} cannot take the new budget: "
               + "; ".join(str(f) for f in findings))
    if any(f.path == ("resume_policy",) for f in findings) and reason.startswith(
            "ExperimentMaxTrialsReached"):
        # the policy is fixed when an experiment is made (Katib's webhook refuses an edit)
        where = ("automl.tune(..., resume_policy='LongRunning')" if "function" in identity
                 else "'resume_policy: LongRunning' in the experiment file")
        raise AutomlError(f"{message}. The policy is set when an experiment is created: start "
                          f"it anew with {where} under another name (or after 'automl delete "
                          f"{spec.name}') to be able to raise its max trials later")
    raise AutomlError(f"{message}. {_fresh_start(spec.name, identity)}")


def stored_spec(study: optuna.Study | Any) -> ExperimentSpec:
    """The ExperimentSpec a study was run with."""
    return ExperimentSpec.model_validate(study.user_attrs[ATTR]["spec"])
