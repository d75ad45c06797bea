"""Two ``automl run`` of one experiment on one storage: one runs, the other is refused.

The runs folder's lock sees two engines in one folder; the storage's lock (a file beside the
SQLite or journal file, an advisory lock in a PostgreSQL database) sees them from any folder,
which is what these tests start them in.
"""

from __future__ import annotations

import pytest

from automl.local.paths import runs_folder
from tests.faults.helpers import finished, start, trials, write_experiment

MAX_TRIALS = 4


@pytest.mark.parametrize("kind", ["sqlite", "journal", "postgresql"])
def test_two_runs_from_two_folders_on_one_storage_make_no_duplicate(tmp_path, kind,
                                                                     request) -> None:
    storage = {"sqlite": lambda: f"sqlite:///{tmp_path / 'shared.db'}",
               "journal": lambda: str(tmp_path / "shared.journal"),
               "postgresql": lambda: request.getfixturevalue("postgres_url")}[kind]()
    folders = [tmp_path / "a", tmp_path / "b"]
    for folder in folders:
        write_experiment(folder, max_trials=MAX_TRIALS, parallel_trials=1,
                         trial_args=("--epochs=2", "--sleep=0.3"))
    # Started together, they also open a new SQLite file together: each would create its
    # tables, and one failed ("table ... already exists") before open_storage took turns.
    engines = [start(folder, "--storage", storage) for folder in folders]
    results = [(engine.wait(timeout=120), *engine.communicate()) for engine in engines]

    codes = [code for code, _, _ in results]
    assert sorted(codes) == [0, 1]
    winner = codes.index(0)
    out, err = results[winner][1], results[1 - winner][2]
    assert out.startswith(f"t: Succeeded (ExperimentMaxTrialsReached: {MAX_TRIALS} trials")
    if kind == "postgresql":
        held = f"{storage} (another 'automl run' holds its lock there)"
    else:
        database = (tmp_path / ("shared.db" if kind == "sqlite" else "shared.journal")).resolve()
        held = f"{database} (another 'automl run' holds {database}.t.lock)"
    assert err.splitlines() == [f"error: experiment 't' is already running with the storage "
                                f"{held}"]
    rows = trials(tmp_path, storage=storage)
    records = finished(rows)
    assert len(rows) == len(records) == MAX_TRIALS
    assert [r["name"] for r in records.values()] == [f"t-{n:04d}" for n in range(MAX_TRIALS)]
    assert all(r["status"] == "Succeeded" for r in records.values())
    # one run folder, beside the storage or recorded in it, holds the winner's trials only
    runs = runs_folder("t", storage, folders[winner] / ".automl")
    assert sorted(p.name for p in runs.glob("t-*")) == [r["name"] for r in records.values()]
    assert not list(folders[1 - winner].rglob("t-*"))  # the refused run launched nothing
