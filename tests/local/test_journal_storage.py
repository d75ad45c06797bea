"""IndexedJournalStorage answers every get_all_trials question exactly as Optuna's own does."""

from __future__ import annotations

import itertools
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.trial import TrialState

from automl.local.journal import JournalFile
from automl.local.journal_storage import IndexedJournalStorage
from automl.local.store import open_storage

STATE_SETS = [None, (TrialState.WAITING,), (TrialState.RUNNING,),
              (TrialState.WAITING, TrialState.RUNNING), (TrialState.COMPLETE,),
              (TrialState.RUNNING, TrialState.FAIL), ()]


def _answers(storage: JournalStorage, study_id: int) -> list[list[list[int]]]:
    return [[[t.number, t.state.value] for t in storage.get_all_trials(study_id, deepcopy=d,
                                                                          states=states)]
            for states, d in itertools.product(STATE_SETS, (True, False))]


def test_unfinished_trials_match_optunas_replay_through_a_study_life(tmp_path: Path) -> None:
    path = tmp_path / "studies.journal"
    ours = IndexedJournalStorage(JournalFile(path))
    study = optuna.create_study(study_name="a", storage=ours,
                                sampler=optuna.samplers.RandomSampler(seed=0))
    other = optuna.create_study(study_name="b", storage=ours)
    running = []
    for step in range(60):
        if step % 7 == 0:
            study.enqueue_trial({"x": 0.5})
        if step % 5 == 0:
            other.ask()  # trials of another study in between
        running.append(study.ask({"x": optuna.distributions.FloatDistribution(0, 1)}))
        if step % 3:
            trial = running.pop(0)
            state = [TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED][step % 3]
            study.tell(trial, trial.params["x"] if state == TrialState.COMPLETE else None,
                       state=state)
        # A second reader of the same file, with Optuna's own replay, sees the same trials.
        plain = JournalStorage(JournalFile(path))
        for study_id in (0, 1):
            assert _answers(ours, study_id) == _answers(plain, study_id)
    waiting = ours.get_all_trials(0, states=(TrialState.WAITING,))
    assert [t.state for t in waiting] == []
    assert len(ours.get_all_trials(0, states=(TrialState.RUNNING,))) == len(running) > 0


def test_a_trial_finished_by_another_process_leaves_the_index(tmp_path: Path) -> None:
    path = tmp_path / "studies.journal"
    ours = IndexedJournalStorage(JournalFile(path))
    study = optuna.create_study(study_name="a", storage=ours)
    trial = study.ask()
    assert [t.number for t in ours.get_all_trials(0, states=(TrialState.RUNNING,))] == [0]
    elsewhere = optuna.load_study(study_name="a", storage=JournalStorage(JournalFile(path)))
    elsewhere.tell(trial.number, 1.0)
    assert ours.get_all_trials(0, states=(TrialState.RUNNING,)) == []
    assert [t.value for t in ours.get_all_trials(0)] == [1.0]


def test_a_missing_study_raises_optunas_error(tmp_path: Path) -> None:
    ours = IndexedJournalStorage(JournalFile(tmp_path / "studies.journal"))
    with pytest.raises(KeyError):
        ours.get_all_trials(3, states=(TrialState.WAITING,))


def test_journal_files_open_as_the_indexed_storage(tmp_path: Path) -> None:
    assert isinstance(open_storage(None, tmp_path / ".automl"), IndexedJournalStorage)


def test_asking_for_waiting_trials_does_not_visit_finished_ones(tmp_path: Path) -> None:
    """The cost of ask()'s WAITING question stays flat as finished trials pile up."""
    storage = IndexedJournalStorage(JournalFile(tmp_path / "studies.journal"))
    study = optuna.create_study(storage=storage)
    visited = []
    for _ in range(200):
        study.tell(study.ask(), 1.0)
    replay = storage._replay_result
    trials = replay._trials

    class Watch(dict):
        def __getitem__(self, key: int) -> object:
            visited.append(key)
            return super().__getitem__(key)

    replay._trials = Watch(trials)
    assert storage.get_all_trials(0, states=(TrialState.WAITING,)) == []
    assert visited == [199]  # the one trial that ran at the last ask, seen finished now
    assert storage.get_all_trials(0, states=(TrialState.WAITING,)) == []
    assert visited == [199]
