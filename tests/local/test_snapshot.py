"""``automl status`` from the engine's snapshot: the same view as the journal's, or not used."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.storages import JournalStorage
from rich.console import Console

import automl
from automl.local import status as status_module
from automl.local.journal import JournalFile
from automl.local.snapshot import SNAPSHOT, SnapshotWriter, load_snapshot

SPACE = {"x": {"type": "double", "min": 0, "max": 1}}


def _objective(params: dict[str, str]) -> float:
    x = float(params["x"])
    if x > 0.6:
        raise ValueError("a failed trial")  # some trials fail: their status is counted too
    return x


def _tune(root: Path, name: str, trials: int = 8) -> None:
    automl.tune(name, _objective, SPACE, objective_metric_name="loss",
                objective_type="minimize", max_trial_count=trials, parallel_trial_count=2,
                algorithm_name="random", algorithm_settings={"random_state": 1}, root=root,
                progress=False)


def _shown(monkeypatch: pytest.MonkeyPatch, root: Path, name: str, *,
           snapshot: bool = True) -> str:
    """What ``automl status NAME`` prints at 100 columns, with or without the snapshot."""
    out = io.StringIO()
    monkeypatch.setattr(status_module, "Console",
                        lambda: Console(file=out, width=100, color_system=None))
    if not snapshot:
        monkeypatch.setattr(status_module, "load_snapshot", lambda *_: None)
    status_module.print_status(name, None, root)
    monkeypatch.undo()
    return out.getvalue()


def test_the_snapshot_shows_what_the_journal_shows(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / ".automl"
    _tune(root, "fn", trials=12)
    view = load_snapshot(root / "runs" / "fn", root / "studies.journal")
    assert view is not None and view["total"] == 12
    fast = _shown(monkeypatch, root, "fn")
    assert fast == _shown(monkeypatch, root, "fn", snapshot=False)
    assert "trials: 12 of 12 (" in fast and "Failed" in fast and "best 5" in fast
    assert "7 more trials" in fast


def test_another_experiment_in_the_journal_leaves_the_snapshot_current(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / ".automl"
    _tune(root, "first")
    _tune(root, "second")
    assert load_snapshot(root / "runs" / "first", root / "studies.journal") is not None
    assert _shown(monkeypatch, root, "first") == _shown(monkeypatch, root, "first",
                                                        snapshot=False)


def _elsewhere(root: Path, name: str) -> optuna.Study:
    """The study opened by another program, with Optuna's own journal storage."""
    return optuna.load_study(study_name=name,
                             storage=JournalStorage(JournalFile(root / "studies.journal")))


def test_a_trial_added_by_another_program_retires_the_snapshot(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / ".automl"
    _tune(root, "fn")
    study = _elsewhere(root, "fn")
    study.tell(study.ask(), 0.5)
    assert load_snapshot(root / "runs" / "fn", root / "studies.journal") is None
    assert "trials: 9 of 8" in _shown(monkeypatch, root, "fn")


def test_a_running_trial_ended_by_another_program_retires_the_snapshot(tmp_path: Path) -> None:
    root = tmp_path / ".automl"
    _tune(root, "fn")
    run_dir, journal = root / "runs" / "fn", root / "studies.journal"
    study = _elsewhere(root, "fn")
    trial = study.ask()  # one running trial, as an engine killed mid-trial leaves it
    data: dict[str, Any] = json.loads((run_dir / SNAPSHOT).read_text())
    SnapshotWriter(journal).save(run_dir, data["view"], data["study_id"], [trial._trial_id])
    assert load_snapshot(run_dir, journal) is not None
    study.tell(trial, 0.25)
    assert load_snapshot(run_dir, journal) is None


def test_a_new_journal_under_the_same_name_retires_the_snapshot(tmp_path: Path) -> None:
    root = tmp_path / ".automl"
    _tune(root, "fn")
    journal = root / "studies.journal"
    size = journal.stat().st_size
    content = journal.read_bytes()
    at = content.index(b'"worker_id":"') + len(b'"worker_id":"')
    flipped = b"0" if content[at:at + 1] != b"0" else b"1"
    other = content[:at] + flipped + content[at + 1:]  # another engine's records
    journal.unlink()
    journal.write_bytes(other)  # another history of the same size, under the same name
    assert journal.stat().st_size == size
    assert load_snapshot(root / "runs" / "fn", journal) is None


def test_a_fifo_put_in_place_of_the_journal_retires_the_snapshot_without_waiting(
        tmp_path: Path) -> None:
    root = tmp_path / ".automl"
    _tune(root, "fn")
    journal = root / "studies.journal"
    assert load_snapshot(root / "runs" / "fn", journal) is not None
    journal.unlink()
    os.mkfifo(journal)  # opened to read without O_NONBLOCK, it waits for a writer forever
    assert load_snapshot(root / "runs" / "fn", journal) is None


@pytest.mark.parametrize("damage", [
    lambda data: '{"version": 2, "view"',  # cut short
    lambda data: json.dumps({**data, "journal": {"path": data["journal"]["path"]}}),
    lambda data: json.dumps({**data, "view": {**data["view"], "leaders": [{"name": 3}]}}),
    lambda data: json.dumps({**data, "view": {"name": "fn"}}),
    lambda data: json.dumps([data]),
])
def test_a_damaged_or_foreign_snapshot_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  damage) -> None:
    root = tmp_path / ".automl"
    _tune(root, "fn")
    expected = _shown(monkeypatch, root, "fn", snapshot=False)
    path = root / "runs" / "fn" / SNAPSHOT
    path.write_text(damage(json.loads(path.read_text())))
    assert _shown(monkeypatch, root, "fn") == expected


def test_status_from_the_snapshot_does_not_load_optuna(tmp_path: Path) -> None:
    root = tmp_path / ".automl"
    _tune(root, "fn")
    code = ("import sys; from pathlib import Path; from automl.local.status import "
            f"print_status; print_status('fn', None, Path({str(root)!r})); "
            "print('optuna loaded:', 'optuna' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "COLUMNS": "80"}).stdout
    assert "trials: 8 of 8" in out
    assert out.rstrip().endswith("optuna loaded: False")


def test_a_trial_enqueued_and_never_asked_leaves_status_to_the_journal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / ".automl"
    _tune(root, "fn")
    _elsewhere(root, "fn").enqueue_trial({"x": 0.5})  # as an engine killed after enqueueing
    _tune(root, "fn")  # resumes: nothing left to run, the waiting trial stays
    saved = json.loads((root / "runs" / "fn" / SNAPSHOT).read_text())
    assert saved["view"]["total"] == 8  # not rewritten by the second run
    assert load_snapshot(root / "runs" / "fn", root / "studies.journal") is None
    shown = _shown(monkeypatch, root, "fn")
    assert "trials: 9 of 8" in shown and "1 Waiting" in shown


def test_trials_ending_close_together_share_a_save_and_the_end_is_saved(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saves = []
    original = SnapshotWriter.save
    monkeypatch.setattr(SnapshotWriter, "save",
                        lambda self, *args: (saves.append(args[1]["total"]),
                                             original(self, *args)))
    root = tmp_path / ".automl"
    _tune(root, "fn", trials=40)  # no-op trials: dozens end within a quarter second
    monkeypatch.undo()
    assert len(saves) < 40  # not one file write and rename per trial
    assert saves[-1] == 40  # the run's end is saved whatever the interval
    assert load_snapshot(root / "runs" / "fn", root / "studies.journal")["total"] == 40
