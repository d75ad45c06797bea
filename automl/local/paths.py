"""Where a local experiment keeps its files; importing it costs nothing (no Optuna).

A run's files (trial folders, the engine's lock, pbt's population, the status snapshot) belong
to one experiment in one storage, so their folder is keyed by both, and absolute, so that a
command run from any folder finds the same files (:func:`runs_folder`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["DEFAULT_ROOT", "JOURNAL", "RUNS", "RUNS_KEY", "RUN_LOCK", "runs_folder", "storage_path"]

DEFAULT_ROOT = Path(".automl")
"""The folder of the default journal and of its experiments' trials (``runs/<experiment>``)."""

JOURNAL = "studies.journal"
"""The journal's file name in :data:`DEFAULT_ROOT` (or the ``root`` given)."""

RUNS = "runs"
"""The run files' folder beside the default journal (``.automl/studies.journal``); another
storage file ``F`` has ``F.runs`` beside it, a database server ``runs-<scheme>-<hash>`` in
the root."""

RUN_LOCK = ".lock"
"""The lock file in the experiment's runs folder: the engine holds it while it runs the
experiment (``automl logs -f`` and ``status --watch`` read that the run goes on from it)."""

RUNS_KEY = "runs"
"""The key of the experiment's absolute runs folder in the study's automl record."""


def runs_folder(name: str, storage: str | None = None, root: Path = DEFAULT_ROOT, *,
                recorded: str | None = None) -> Path:
    """The absolute folder of experiment ``name``'s run files in ``storage``.

    The one answer to "where are the files of this experiment in this storage": the engine
    writes there and every reader looks there, whichever folder it runs in.

    - A journal or SQLite file (a path, or a ``sqlite:///`` URL): a folder beside the file,
      ``<file name>.runs/<name>``; but ``runs/<name>`` for a default journal (a file
      ``studies.journal`` in ``root`` or in any folder named ``.automl``), as runs made
      before storages were told apart. ``runs/`` elsewhere is a common folder of the user's
      (TensorBoard's, PyTorch's ``SummaryWriter``): automl writes there only where a run
      made before this rule left its lock (``runs/<name>/.lock``) and nothing is in the new
      folder yet, so that such a run's files are still found.
    - A database server (``postgresql://``, ``mysql://``): no file to sit beside. The folder
      the engine recorded in the study (``recorded``; looked up in the storage when None),
      else ``<root>/runs-<scheme>-<hash of the URL without its password>/<name>``. On
      another machine the recorded folder is absent: the tables load all the same, and
      ``automl logs`` names the folder the logs were in.
    - ``:memory:``: ``<root>/runs-memory/<name>`` (the study is gone when the process ends).

    Args:
        name: The experiment (a valid Katib name: it is one folder).
        storage: The storage as given to ``automl run`` (None: ``<root>/studies.journal``).
        root: The folder of the default storage (also of a server's folders).
        recorded: The folder recorded in the study (:data:`RUNS_KEY`), if the caller has it.
    """
    if storage == ":memory:":
        return (root / "runs-memory" / name).resolve()
    database = storage_path(storage, root)
    if database is not None:
        return _beside(database, name, root)
    from automl.local.store import _shown

    if recorded is None:
        recorded = _recorded(name, storage, root)
    if recorded:
        return Path(recorded)
    scheme = storage.split(":", 1)[0].split("+", 1)[0]
    digest = hashlib.sha256(_shown(storage).encode()).hexdigest()[:12]
    return (root / f"runs-{scheme}-{digest}" / name).resolve()


def storage_path(storage: str | None, root: Path = DEFAULT_ROOT) -> Path | None:
    """The journal or SQLite file (absolute) of ``storage`` as given to ``automl run``; None
    for a database server or memory.

    Args:
        storage: The storage (None: ``<root>/studies.journal``).
        root: The folder of the default storage.
    """
    if storage == ":memory:":
        return None
    if storage is None or "://" not in storage:
        return (root / JOURNAL if storage is None else Path(storage)).resolve()
    from automl.local.store import _sqlite_file

    return _sqlite_file(storage)


def _beside(file: Path, name: str, root: Path) -> Path:
    """The runs folder of experiment ``name`` of the storage ``file`` (absolute)."""
    old = file.parent / RUNS / name
    if file.name == JOURNAL and (file.parent.name == DEFAULT_ROOT.name
                                 or file == (root / JOURNAL).resolve()):
        return old
    new = file.parent / f"{file.name}.{RUNS}" / name
    if file.name == JOURNAL and not new.exists() and (old / RUN_LOCK).is_file():
        return old  # a run made when every studies.journal had runs/ beside it
    return new


def _recorded(name: str, url: str, root: Path) -> str | None:
    """The runs folder recorded in the study ``name`` of the server at ``url``, if any.

    None when the study or its record is not there (a run not started yet, or made before
    the folder was recorded), or when the server cannot be read: the caller then uses the
    folder keyed by the URL, and a reading command reports what it does not find there.
    """
    from automl.errors import AutomlError
    from automl.local.store import ATTR, open_storage

    try:
        store = open_storage(url, root, existing=True)
    except AutomlError:
        return None
    try:
        record = store.get_study_user_attrs(store.get_study_id_from_name(name)).get(ATTR) or {}
    except KeyError:
        return None
    finally:  # a look, not a session: status --watch asks again at each view
        store.engine.dispose()  # type: ignore[attr-defined]
    value = record.get(RUNS_KEY)
    return value if isinstance(value, str) else None
