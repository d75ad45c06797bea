"""Optuna's JournalStorage, with the unfinished trials of a study found without a full scan.

Each ``study.ask()`` first looks for a WAITING trial (one enqueued with ``enqueue_trial``)
through ``get_all_trials(states=(WAITING,))``, which Optuna's journal replay answers by
visiting every trial of the study. At 10,000 trials that scan was most of the engine's
bookkeeping per trial, and it grew with every trial. A finished trial never changes state
again, so the trials that may still be waiting or running are kept in a short list, each
trial leaving it once when it is seen finished: a question about unfinished states costs
what the unfinished trials cost, whatever the study's size.
"""

from __future__ import annotations

import copy
from collections.abc import Container

from optuna.storages import JournalStorage
from optuna.trial import FrozenTrial, TrialState

__all__ = ["IndexedJournalStorage"]

_UNFINISHED = tuple(s for s in TrialState if not s.is_finished())


class IndexedJournalStorage(JournalStorage):
    """A JournalStorage that answers ``get_all_trials`` for unfinished states from an index.

    Every other call, and a question that includes a finished state, is Optuna's own.

    Example:
        >>> import optuna
        >>> from pathlib import Path
        >>> from automl.local.journal import JournalFile
        >>> storage = IndexedJournalStorage(JournalFile(Path("studies.journal")))
        >>> study = optuna.create_study(storage=storage)  # doctest: +SKIP
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._seen: dict[int, int] = {}  # study id -> how many of its trials were indexed
        self._open: dict[int, list[int]] = {}  # study id -> ids of trials not seen finished

    def get_all_trials(self, study_id: int, deepcopy: bool = True,
                       states: Container[TrialState] | None = None) -> list[FrozenTrial]:
        if states is None or any(s in states for s in TrialState if s not in _UNFINISHED):
            return super().get_all_trials(study_id, deepcopy, states)
        with self._thread_lock:
            self._sync_with_backend()
            if study_id in self._replay_result._studies:
                found = [t for t in self._unfinished(study_id) if t.state in states]
                return copy.deepcopy(found) if deepcopy else found
        return super().get_all_trials(study_id, deepcopy, states)  # Optuna's missing-study error

    def _unfinished(self, study_id: int) -> list[FrozenTrial]:
        """The study's trials not finished, in order; the index is brought up to date."""
        replay = self._replay_result
        ids = replay._study_id_to_trial_ids[study_id]
        indexed = self._open.setdefault(study_id, [])
        indexed.extend(ids[self._seen.get(study_id, 0):])
        self._seen[study_id] = len(ids)
        trials = [replay._trials[i] for i in indexed]
        still = [t for t in trials if not t.state.is_finished()]
        if len(still) < len(trials):
            self._open[study_id] = [t._trial_id for t in still]
        return still
