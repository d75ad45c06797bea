"""`automl delete` deletes what automl made, and nothing while it runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from automl.local.store import open_storage
from tests.faults.helpers import (
    automl_run,
    finished_experiment,
    start,
    trials,
    wait_until,
    waiting_experiment,
    write_experiment,
)


def _delete(folder: Path, name: str, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automl", "delete", name, "--yes", *options],
                          cwd=folder, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def _studies(folder: Path) -> list[str]:
    store = open_storage(None, folder / ".automl")
    return sorted(s.study_name for s in optuna.get_all_study_summaries(store))


def _everything(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if not p.name.endswith((".flock", ".lock")))


def test_delete_removes_automls_study_and_its_trials_folder(tmp_path) -> None:
    write_experiment(tmp_path, max_trials=1, parallel_trials=1)
    assert automl_run(tmp_path).returncode == 0
    assert (tmp_path / ".automl/runs/t/t-0000/stdout.log").is_file()
    result = _delete(tmp_path, "t")
    assert (result.returncode, result.stdout, result.stderr) == (0, "deleted t\n", "")
    assert _studies(tmp_path) == []
    assert not (tmp_path / ".automl/runs/t").exists()


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_run_and_delete_with_a_studies_journal_leave_the_users_runs_folder_alone(
        tmp_path) -> None:
    """``runs/<experiment>`` is where PyTorch's SummaryWriter writes: not automl's."""
    write_experiment(tmp_path, max_trials=1, parallel_trials=1)
    (tmp_path / "runs/t/t-0000").mkdir(parents=True)
    (tmp_path / "runs/t/events.out.tfevents.1").write_text("my events")
    (tmp_path / "runs/t/t-0000/notes.txt").write_text("mine")
    mine = _files(tmp_path / "runs")
    assert automl_run(tmp_path, "--storage", "studies.journal").returncode == 0
    assert (tmp_path / "studies.journal.runs/t/t-0000/stdout.log").is_file()
    result = _delete(tmp_path, "t", "--storage", "studies.journal")
    assert (result.returncode, result.stdout, result.stderr) == (0, "deleted t\n", "")
    assert _files(tmp_path / "runs") == mine
    assert not (tmp_path / "studies.journal.runs").exists()


def test_delete_keeps_files_automl_did_not_write_and_says_so(tmp_path) -> None:
    write_experiment(tmp_path, max_trials=2, parallel_trials=1)
    assert automl_run(tmp_path).returncode == 0
    runs = tmp_path / ".automl/runs/t"
    (runs / "notes.txt").write_text("mine")
    (runs / "mine").mkdir()
    result = _delete(tmp_path, "t")
    assert (result.returncode, result.stdout) == (0, "deleted t\n")
    assert result.stderr == (f"kept {runs}: it holds files automl did not write (mine, "
                             "notes.txt); delete them yourself if you mean to\n")
    assert sorted(p.name for p in runs.iterdir()) == ["mine", "notes.txt"]
    assert (runs / "notes.txt").read_text() == "mine"


# Only names that, were they ever followed, stay inside the test's own folder: an absolute
# name such as "/" made the unchecked delete remove the whole file system.
@pytest.mark.parametrize("name", ["../..", "..", "runs/../..", "T", "a" * 41])
def test_a_study_whose_name_run_would_refuse_is_not_deleted_nor_anything_it_names(
        tmp_path, name) -> None:
    write_experiment(tmp_path, max_trials=1, parallel_trials=1)
    assert automl_run(tmp_path).returncode == 0
    # Any Optuna client can name a study so, in the same storage.
    optuna.create_study(study_name=name, storage=open_storage(None, tmp_path / ".automl"))
    before = _everything(tmp_path)
    result = _delete(tmp_path, name)
    assert result.returncode == 2
    assert result.stderr == (f"error: {name!r} is not a valid Katib experiment name: expected "
                             "lower-case letters, digits and '-', starting with a letter, "
                             "ending with a letter or digit, at most 40 characters (e.g. "
                             "'digits-svm')\n")
    assert _everything(tmp_path) == before
    assert name in _studies(tmp_path)


def test_a_study_automl_did_not_make_is_not_deleted(tmp_path) -> None:
    storage = open_storage(None, tmp_path / ".automl")
    study = optuna.create_study(study_name="theirs", storage=storage)
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=1)
    (tmp_path / ".automl/runs/theirs").mkdir(parents=True)
    (tmp_path / ".automl/runs/theirs/notes.txt").write_text("mine\n")
    result = _delete(tmp_path, "theirs")
    assert result.returncode == 2
    assert result.stderr == ("error: study 'theirs' was not made by automl (it has no automl "
                             "record); delete it with Optuna if you mean to\n")
    assert _studies(tmp_path) == ["theirs"]
    assert len(optuna.load_study(study_name="theirs", storage=storage).trials) == 1
    assert (tmp_path / ".automl/runs/theirs/notes.txt").read_text() == "mine\n"


def _delete_while_it_runs(run_in: Path, delete_in: Path, *options: str
                          ) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """``automl delete t`` while a trial of ``automl run`` waits; then the run's end."""
    storage = options[1] if options else None
    run = start(run_in, *options)
    try:
        assert wait_until(lambda: any(not t.state.is_finished()
                                      for t in trials(run_in, storage=storage)), timeout=60)
        deleted = _delete(delete_in, "t", *options)
        (run_in / "go").touch()
        stdout, stderr = run.communicate(timeout=120)
    finally:
        run.kill()
        run.wait()
    return deleted, subprocess.CompletedProcess(run.args, run.returncode, stdout, stderr)


def test_a_running_experiment_is_not_deleted_and_its_run_goes_on(tmp_path) -> None:
    waiting_experiment(tmp_path, max_trials=2)
    deleted, run = _delete_while_it_runs(tmp_path, tmp_path)
    assert deleted.returncode == 1
    journal = (tmp_path / ".automl/studies.journal").resolve()
    assert deleted.stderr == (f"error: cannot delete: experiment 't' is already running with "
                              f"the storage {journal} (another 'automl run' holds "
                              "its lock on that file); stop it first\n")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("t: Succeeded (ExperimentMaxTrialsReached: 2 trials "
                                 "completed)")
    assert [t.state.name for t in trials(tmp_path)] == ["COMPLETE"] * 2
    assert _delete(tmp_path, "t").returncode == 0  # once it has ended


def test_an_experiment_running_from_another_folder_on_the_same_storage_is_not_deleted(
        tmp_path) -> None:
    journal = str(tmp_path / "shared.journal")
    waiting_experiment(tmp_path / "a", max_trials=1)
    (tmp_path / "b").mkdir()
    deleted, run = _delete_while_it_runs(tmp_path / "a", tmp_path / "b", "--storage", journal)
    assert deleted.returncode == 1
    assert deleted.stderr == (f"error: cannot delete: experiment 't' is already running with "
                              f"the storage {journal} (another 'automl run' holds "
                              "its lock on that file); stop it first\n")
    assert run.returncode == 0, run.stderr
    assert [t.state.name for t in trials(tmp_path, storage=journal)] == ["COMPLETE"]


def _delete_asked(folder: Path, answer: str) -> subprocess.CompletedProcess:
    """``automl delete t`` with its stdin a real terminal (a pty) on which ``answer`` is typed."""
    import os
    import pty

    leader, follower = pty.openpty()
    try:
        os.write(leader, answer.encode() + b"\n")
        return subprocess.run([sys.executable, "-m", "automl", "delete", "t"], cwd=folder,
                              stdin=follower, capture_output=True, text=True, timeout=120)
    finally:
        os.close(follower)
        os.close(leader)


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished experiment t, for the tests that must leave it as it is."""
    return finished_experiment(tmp_path_factory.mktemp("kept"), max_trials=1,
                               parallel_trials=1)


@pytest.mark.parametrize("answer", ["n", ""])
def test_delete_on_a_terminal_asks_and_keeps_everything_unless_told_yes(finished,
                                                                         answer) -> None:
    before = _everything(finished)
    result = _delete_asked(finished, answer)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("Delete the local experiment 't' with its trials? [y/N]")
    assert result.stderr.endswith("kept t\n")
    assert _everything(finished) == before and _studies(finished) == ["t"]


def test_delete_on_a_terminal_deletes_on_yes(tmp_path) -> None:
    write_experiment(tmp_path, max_trials=1, parallel_trials=1)
    assert automl_run(tmp_path).returncode == 0
    result = _delete_asked(tmp_path, "y")
    assert (result.returncode, result.stdout) == (0, "deleted t\n"), result.stderr
    assert _studies(tmp_path) == [] and not (tmp_path / ".automl/runs/t").exists()


def test_delete_without_a_terminal_or_yes_refuses_in_one_line_and_keeps_everything(
        finished) -> None:
    before = _everything(finished)
    result = subprocess.run([sys.executable, "-m", "automl", "delete", "t"], cwd=finished,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=120)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("error: not deleting the local experiment 't': stdin is not a "
                             "terminal to ask on; give --yes to delete it\n")
    assert _everything(finished) == before and _studies(finished) == ["t"]
