"""Deleting a local experiment: only one automl made, and never while it runs."""

from __future__ import annotations

import shutil
from contextlib import ExitStack
from pathlib import Path

from automl.errors import AutomlError
from automl.local.lock import ExperimentBusy, FileLock, database_lock, storage_lock
from automl.local.paths import RUN_LOCK
from automl.local.storage_faults import storage_command
from automl.local.store import ATTR, DEFAULT_ROOT, open_storage, server_url, storage_file
from automl.spec.rules.experiment import name_problem

__all__ = ["delete_experiment"]


@storage_command
def delete_experiment(name: str, storage: str | None = None,
                      root: Path = DEFAULT_ROOT) -> None:
    """Delete a local experiment: its study and its trials' folder ``<root>/runs/<name>``.

    The name must be one ``automl run`` accepts (Katib's rules): a study any Optuna client
    named ``../..`` would otherwise point the trials' folder at the working directory. A
    study automl did not create (it has no automl record) is not automl's to delete. The
    locks a running engine holds are taken first, and held while deleting, so that neither
    the engine loses its study under it nor a new run starts in between.

    Raises:
        AutomlError: When the name is invalid, the storage holds no such experiment, or its
            study was not made by automl.
        ExperimentBusy: When an ``automl run`` of it is running (exit status 1).
    """
    problem = name_problem(name)
    if problem is not None:
        raise AutomlError(problem)
    store = open_storage(storage, root, existing=True)
    try:
        study_id = store.get_study_id_from_name(name)
    except KeyError:
        raise AutomlError(f"no experiment {name!r} in this storage") from None
    if ATTR not in store.get_study_user_attrs(study_id):
        raise AutomlError(f"study {name!r} was not made by automl (it has no automl record); "
                          "delete it with Optuna if you mean to")
    runs = root / "runs" / name
    if runs.resolve().parent != (root / "runs").resolve():  # never, with a valid name
        raise AutomlError(f"experiment {name!r}: its trials' folder {runs} is not in {root}")
    with ExitStack() as held:
        if runs.is_dir():
            # The engine's own lock on its trials' folder (automl.local.engine._exclusive).
            lock = FileLock(runs / RUN_LOCK)
            if not lock.acquire(blocking=False):
                raise ExperimentBusy(f"cannot delete experiment {name!r}: it is running here "
                                     "(an 'automl run' holds it); stop it first")
            held.callback(lock.release)
        try:
            held.enter_context(storage_lock(storage_file(store), name))
            held.enter_context(database_lock(server_url(store), name))
        except ExperimentBusy as exc:
            raise ExperimentBusy(f"cannot delete: {exc}; stop it first") from None
        store.delete_study(study_id)
        shutil.rmtree(runs, ignore_errors=True)
