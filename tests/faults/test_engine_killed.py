"""``kill -9`` of ``automl run`` at seeded random points, and what a kill leaves behind."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from automl.local.lock import FileLock
from automl.local.paths import runs_folder
from automl.local.store import open_storage
from automl.state.cut import cut_short
from tests.faults.helpers import (
    automl_run,
    finished,
    start,
    trial_processes,
    trials,
    wait_until,
    write_experiment,
)

MAX_TRIALS = 20
KILLS = 8
SEED = 20240611


def _kill_at_a_random_point(folder: Path, rng: random.Random, *options: str) -> None:
    """Start the engine and kill -9 it: during start-up and recovery, or among its trials.

    A wall-clock delay alone would land mostly in start-up on a slow machine, so half the
    points are counted from the engine's first trial folder of this run.
    """
    runs = runs_folder("k", options[1] if options else None, folder / ".automl")
    before = len(list(runs.glob("k-*")))
    engine = start(folder, *options)
    if rng.random() < 0.5:
        delay = rng.uniform(0.3, 1.5)
    else:
        wait_until(lambda: len(list(runs.glob("k-*"))) > before or engine.poll() is not None,
                   timeout=30)
        delay = rng.uniform(0.0, 0.8)
    try:
        engine.wait(timeout=delay)  # the experiment may also end first: nothing to kill
    except subprocess.TimeoutExpired:
        engine.kill()
        engine.wait(timeout=10)
    engine.communicate()


# (storage, trials, kills): the journal (the default) is killed most; PostgreSQL, whose
# transactions a kill cuts differently, fewer times to keep the suite short.
@pytest.mark.parametrize(("kind", "max_trials", "kills"),
                         [("journal", MAX_TRIALS, KILLS), ("postgresql", 10, 4)])
def test_kill_9_at_random_points_keeps_finished_trials_the_budget_and_no_orphans(
        tmp_path, request, kind, max_trials, kills):
    storage = request.getfixturevalue("postgres_url") if kind == "postgresql" else None
    options = ("--storage", storage) if storage else ()
    write_experiment(tmp_path, name="k", max_trials=max_trials, parallel_trials=2,
                     trial_args=("--epochs=2", "--sleep=0.1"))
    rng = random.Random(SEED)
    kept: dict[int, dict] = {}
    for _ in range(kills):
        _kill_at_a_random_point(tmp_path, rng, *options)
        # The trials die with their engine (PR_SET_PDEATHSIG), none is left running.
        assert wait_until(lambda: not trial_processes(tmp_path), timeout=10)
        now = finished(trials(tmp_path, "k", storage))
        for number, record in kept.items():
            assert now[number] == record  # a finished trial stays as it was
        kept = now

    result = automl_run(tmp_path, *options)
    assert result.returncode == 0, result.stderr
    rows = trials(tmp_path, "k", storage)
    records = finished(rows)
    cut_off = [r for r in records.values() if r["reason"].startswith("interrupted")]
    uncounted = f" ({len(cut_off)} more cut short by a stopped engine, not counted)"
    assert result.stdout.startswith(
        f"k: Succeeded (ExperimentMaxTrialsReached: {max_trials} trials completed"
        f"{uncounted if cut_off else ''});")
    assert len(rows) == len(records)  # every trial finished
    # none beyond the budget, which the trials a kill cut short do not use up
    assert sum(not cut_short(r) for r in records.values()) == max_trials
    assert [r["name"] for r in records.values()] == [f"k-{n:04d}" for n in range(len(rows))]
    for number, record in kept.items():
        assert records[number] == record
    assert all(r["status"] == "Failed" and cut_short(r) for r in cut_off)
    # A kill between a trial's creation and its launch leaves it without a folder; no folder
    # is left by a trial beyond the budget.
    runs = runs_folder("k", storage, tmp_path / ".automl")
    folders = {p.name for p in runs.iterdir() if p.is_dir()}
    assert folders <= {r["name"] for r in records.values()}
    assert trial_processes(tmp_path) == []


def test_a_journal_lock_held_by_a_killed_process_is_free_at_once(tmp_path) -> None:
    # Optuna's own journal lock is a file its holder deletes: a kill -9 while it was held
    # (about a tenth of an engine's time) made every later write wait 30 s for it.
    journal = tmp_path / "studies.journal"
    lock = FileLock(journal.with_name("studies.journal.flock"))
    code = ("import sys, time\nfrom pathlib import Path\nfrom automl.local.lock import FileLock\n"
            "held = FileLock(Path(sys.argv[1]))\nheld.acquire()\nprint('held', flush=True)\n"
            "time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(lock.path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        assert not lock.acquire(blocking=False)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)

    start_time = time.monotonic()
    optuna.create_study(study_name="s", storage=open_storage(str(journal)))
    assert time.monotonic() - start_time < 5


def test_a_journal_record_cut_short_by_a_kill_is_dropped_not_glued_to_the_next(tmp_path):
    journal = tmp_path / "studies.journal"
    optuna.create_study(study_name="s", storage=open_storage(str(journal)))
    with open(journal, "ab") as file:  # what a process killed mid-write leaves
        file.write(b'{"op_code":0,"worker_id":"x","study_na')
    study = optuna.load_study(study_name="s", storage=open_storage(str(journal)))
    study.set_user_attr("after", 1)
    study.set_user_attr("and", 2)
    again = optuna.load_study(study_name="s", storage=open_storage(str(journal)))
    assert again.user_attrs == {"after": 1, "and": 2}
