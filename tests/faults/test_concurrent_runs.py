"""Two ``automl run`` of one experiment on one storage: one runs, the other is refused.

The runs folder's lock sees two engines in one folder; the storage's lock (a lock on the
SQLite or journal file itself, an advisory lock in a PostgreSQL database) sees them from any
folder and through any path to the file, which is what these tests start them in.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from automl.local.paths import runs_folder
from tests.faults.helpers import (
    automl_each,
    automl_run,
    finished,
    mounted,
    start,
    trials,
    wait_until,
    waiting_experiment,
    write_experiment,
)

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
        held = f"{database} (another 'automl run' holds its lock on that file)"
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


@pytest.fixture
def other_path(tmp_path, request) -> Iterator[Path]:
    """Another folder ``q`` through which ``p``'s storage file is reached (``p`` made here):
    its file is a hard link to ``p``'s, or ``q`` is ``p`` bind-mounted (unmounted after)."""
    p, q = tmp_path / "p", tmp_path / "q"
    p.mkdir()
    q.mkdir()
    if request.param == "hard link":
        yield q
        return
    with mounted(q, "--bind", str(p)):
        yield q


@pytest.mark.parametrize(("kind", "other_path"), [("journal", "hard link"),
                                                   ("sqlite", "hard link"),
                                                   ("journal", "bind mount")],
                         indirect=["other_path"])
def test_a_second_run_reaching_the_storage_file_by_another_path_is_refused(
        tmp_path, kind, other_path) -> None:
    """One journal or SQLite file named by two paths is one storage: one engine runs it."""
    file = "exp.journal" if kind == "journal" else "exp.db"
    original = tmp_path / "p" / file
    if kind == "journal":
        original.touch()
    else:
        sqlite3.connect(original).close()
    alias = other_path / file
    if not alias.exists():  # the hard link (a bind mount shows the file already)
        alias = other_path / f"alias-{file}"
        os.link(original, alias)
    url = {"journal": str, "sqlite": lambda path: f"sqlite:///{path}"}[kind]
    folders = [tmp_path / "a", tmp_path / "b"]
    for folder in folders:
        waiting_experiment(folder, max_trials=1)
    first = start(folders[0], "--storage", url(original))
    try:
        assert wait_until(lambda: [t.state.name for t in trials(
            tmp_path, storage=url(original))] == ["RUNNING"], timeout=60)
        second = automl_run(folders[1], "--storage", url(alias))
        # Through the other path, a reader sees the run going on (not "Interrupted"), and
        # delete is refused as it is through the first.
        status, deleted = automl_each(folders[1], [["status", "t", "--storage", url(alias)],
                                                   ["delete", "t", "--storage", url(alias),
                                                    "--yes"]])
        (folders[0] / "go").touch()
        assert first.wait(timeout=60) == 0, first.communicate()
    finally:
        first.kill()
        first.wait()
    assert second.returncode == 1
    assert second.stderr.splitlines() == [
        f"error: experiment 't' is already running with the storage {alias} (another "
        "'automl run' holds its lock on that file)"]
    assert status[0] == 0 and status[1].startswith("t: Running"), status
    assert deleted == (1, "", f"error: cannot delete: experiment 't' is already running with "
                              f"the storage {alias} (another 'automl run' holds its lock on "
                              "that file); stop it first\n")
    rows = trials(tmp_path, storage=url(original))
    assert [(t.number, t.state.name) for t in rows] == [(0, "COMPLETE")]
    # The refused run launched nothing: the one trial folder is the first engine's.
    assert [f.name for f in (tmp_path / "p").rglob("t-*")] == ["t-0000"]
    assert not list(folders[1].rglob("t-*"))
    if alias.name != file:  # a hard link: its runs folder would be beside it
        assert not list(other_path.rglob("t-*"))
