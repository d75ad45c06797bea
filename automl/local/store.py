"""Where studies live: one Optuna storage file under ``.automl/``, or any Optuna storage URL."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, InMemoryStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

from automl.errors import AutomlError
from automl.spec import ExperimentSpec

__all__ = ["ATTR", "DEFAULT_ROOT", "delete_experiment", "open_storage", "open_study",
           "stored_spec"]

logger = logging.getLogger(__name__)

DEFAULT_ROOT = Path(".automl")
JOURNAL = "studies.journal"
ATTR = "automl"  # one user attribute per study or trial holds automl's record (one write)


def open_storage(url: str | None = None, root: Path = DEFAULT_ROOT, *,
                 existing: bool = False) -> BaseStorage:
    """The storage named by ``url``, or the journal file ``<root>/studies.journal``.

    ``url`` may be any Optuna RDB URL (``sqlite:///x.db``, ``postgresql://...``), the path of
    a journal file, or ``:memory:`` (nothing kept after the process ends). Optuna's journal
    file appends one line per change and fsyncs it, so a ``kill -9`` loses nothing that was
    recorded; it costs a few milliseconds per trial where SQLite's transactions cost tens.
    With ``existing``, a journal file that is not there is an error rather than created (for
    commands that only read).

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
        return JournalStorage(JournalFileBackend(str(path), JournalFileOpenLock(str(path))))
    try:
        return RDBStorage(url)
    except (ImportError, ValueError, optuna.exceptions.StorageInternalError) as exc:
        raise AutomlError(f"cannot open storage {url!r}: {exc}") from None


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


def delete_experiment(name: str, storage: str | None = None,
                      root: Path = DEFAULT_ROOT) -> None:
    """Delete a local experiment: its study and its trials' folders.

    Raises:
        AutomlError: When the storage holds no such experiment.
    """
    import shutil

    store = open_storage(storage, root, existing=True)
    try:
        optuna.delete_study(study_name=name, storage=store)
    except KeyError:
        raise AutomlError(f"no experiment {name!r} in this storage") from None
    shutil.rmtree(root / "runs" / name, ignore_errors=True)


def stored_spec(study: optuna.Study | Any) -> ExperimentSpec:
    """The ExperimentSpec a study was run with."""
    return ExperimentSpec.model_validate(study.user_attrs[ATTR]["spec"])
