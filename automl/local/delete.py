"""Deleting a local experiment: only one automl made, and never while it runs."""

from __future__ import annotations

import shutil
from contextlib import ExitStack, suppress
from pathlib import Path

from automl.errors import AutomlError
from automl.local.lock import ExperimentBusy, FileLock, database_lock, storage_lock
from automl.local.paths import RUN_LOCK, RUNS_KEY, runs_folder
from automl.local.pbt import STATE_FILE
from automl.local.snapshot import SNAPSHOT
from automl.local.storage_faults import storage_command
from automl.local.store import ATTR, DEFAULT_ROOT, open_storage, server_url, storage_file
from automl.spec.rules.experiment import name_problem

__all__ = ["delete_experiment"]


@storage_command
def delete_experiment(name: str, storage: str | None = None,
                      root: Path = DEFAULT_ROOT) -> list[Path]:
    """Delete a local experiment: its study and what automl wrote in its runs folder.

    Only what automl wrote goes (:func:`runs_folder`): each trial's folder the study names,
    automl's own files beside them (its lock, the status snapshot, pbt's population), then
    the folders if that left them empty. A file someone else put there (a TensorBoard event
    file in a ``runs/`` folder of theirs) stays, and the folder with it.

    The name must be one ``automl run`` accepts (Katib's rules): a study any Optuna client
    named ``../..`` would otherwise point the trials' folder at the working directory. A
    study automl did not create (it has no automl record) is not automl's to delete. The
    locks a running engine holds are taken first, and held while deleting, so that neither
    the engine loses its study under it nor a new run starts in between.

    Returns:
        What was left in the runs folder (files automl did not write), if anything.

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
    record = store.get_study_user_attrs(study_id).get(ATTR)
    if record is None:
        raise AutomlError(f"study {name!r} was not made by automl (it has no automl record); "
                          "delete it with Optuna if you mean to")
    runs = runs_folder(name, storage, root, recorded=record.get(RUNS_KEY))
    if runs.name != name:  # a recorded folder of another experiment is not this one's to delete
        raise AutomlError(f"experiment {name!r}: its recorded runs folder {runs} is not named "
                          "after it; delete that folder yourself if you mean to")
    with ExitStack() as held:
        try:
            held.enter_context(storage_lock(storage_file(store), name))
            held.enter_context(database_lock(server_url(store), name))
        except ExperimentBusy as exc:
            raise ExperimentBusy(f"cannot delete: {exc}; stop it first") from None
        if runs.is_dir():
            # The engine's own lock on its trials' folder (automl.local.engine._exclusive).
            lock = FileLock(runs / RUN_LOCK)
            if not lock.acquire(blocking=False):
                raise ExperimentBusy(f"cannot delete experiment {name!r}: it is running here "
                                     "(an 'automl run' holds it); stop it first")
            held.callback(lock.release)
        trials = [f"{name}-{t.number:04d}" for t in store.get_all_trials(study_id,
                                                                          deepcopy=False)]
        store.delete_study(study_id)
        return _remove_runs(runs, trials)


_OWN_FILES = (RUN_LOCK, SNAPSHOT, f".{SNAPSHOT}.tmp", STATE_FILE, Path(STATE_FILE).stem + ".tmp")
"""What the engine writes in a runs folder besides the trials' folders."""


def _remove_runs(runs: Path, trials: list[str]) -> list[Path]:
    """Remove the trials' folders and automl's files from ``runs``, then the folder (and the
    storage's folder of runs folders) if empty; what is left, sorted."""
    for trial in trials:
        shutil.rmtree(runs / trial, ignore_errors=True)  # a symlink there is not followed
    for own in _OWN_FILES:
        with suppress(OSError):
            (runs / own).unlink()
    for folder in (runs, runs.parent):
        with suppress(OSError):  # missing, or not empty: someone else's files are there
            folder.rmdir()
    return sorted(runs.iterdir()) if runs.is_dir() else []
