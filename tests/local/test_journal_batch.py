"""A trial's start and its end are each one durable write, however many values it samples."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import optuna

from automl.local.journal import one_write
from automl.local.store import open_storage
from tests.conftest import REPO

SPACE = {f"p{i}": optuna.distributions.CategoricalDistribution(["a", "b", "c"])
         for i in range(21)}  # as many values as an ENAS trial on NAS-Bench-201 samples


def _study(path: Path) -> optuna.Study:
    return optuna.create_study(study_name="s", storage=open_storage(str(path)),
                               load_if_exists=True)


def _fsyncs(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd))[1])
    return calls


def test_asking_for_21_values_is_one_fsync_and_every_value_is_stored(tmp_path,
                                                                      monkeypatch) -> None:
    study = _study(tmp_path / "j")
    calls = _fsyncs(monkeypatch)
    with one_write(study._storage):
        trial = study.ask(SPACE)
    assert len(calls) == 1
    reread = _study(tmp_path / "j").trials[0]
    assert reread.params == trial.params and len(reread.params) == 21


def test_without_a_batch_each_value_is_its_own_fsync(tmp_path, monkeypatch) -> None:
    study = _study(tmp_path / "j")
    calls = _fsyncs(monkeypatch)
    study.ask(SPACE)
    assert len(calls) == 22  # the comparison the batch is for: creation + 21 values


def test_a_kill_inside_the_batch_leaves_no_trial(tmp_path) -> None:
    code = ("import os, sys, optuna\n"
            "from automl.local.journal import one_write\n"
            "from automl.local.store import open_storage\n"
            f"storage = open_storage({str(tmp_path / 'j')!r})\n"
            "study = optuna.create_study(study_name='s', storage=storage)\n"
            "study.optimize(lambda t: t.suggest_float('x', 0, 1), n_trials=2)\n"
            "with one_write(study._storage):\n"
            "    study.ask({'x': optuna.distributions.FloatDistribution(0, 1)})\n"
            "    os._exit(9)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, timeout=120)
    assert result.returncode == 9
    trials = _study(tmp_path / "j").trials
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE"]


def test_another_writer_waits_for_the_batch_and_both_numberings_agree(tmp_path) -> None:
    ours, theirs = _study(tmp_path / "j"), _study(tmp_path / "j")
    inside, done = threading.Event(), threading.Event()

    def other_writer() -> None:
        inside.wait()
        theirs.enqueue_trial({"p0": "a"})  # blocks on the journal's lock until the batch ends
        done.set()

    thread = threading.Thread(target=other_writer)
    thread.start()
    with one_write(ours._storage):
        ours.ask(SPACE)
        inside.set()
        assert not done.wait(0.5)
    thread.join(10)
    assert done.is_set()
    fresh = _study(tmp_path / "j")
    for study in (ours, theirs, fresh):
        assert [(t.number, t.state.name) for t in study.get_trials()] == [
            (0, "RUNNING"), (1, "WAITING")]
