"""Where a run's files live: one folder per experiment and storage, found from any folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from typer.testing import CliRunner

from automl.cli import app
from automl.local import LocalEngine
from automl.local.paths import RUNS_KEY, runs_folder
from automl.local.store import ATTR, open_storage
from automl.results import load_results
from tests.faults.helpers import (
    start,
    trials,
    wait_until,
    write_experiment,
)
from tests.local.helpers import TRIAL, records, spec

KINDS = ["journal", "sqlite", "postgresql"]


def _storage(kind: str, folder: Path, request: pytest.FixtureRequest) -> str:
    """An absolute storage of ``kind`` (a PostgreSQL database of the session's server)."""
    return {"journal": lambda: str(folder / "shared.journal"),
            "sqlite": lambda: f"sqlite:///{folder / 'shared.db'}",
            "postgresql": lambda: request.getfixturevalue("postgres_url")}[kind]()


@pytest.mark.parametrize(("storage", "folder"), [
    (None, ".automl/runs/t"),
    (".automl/studies.journal", ".automl/runs/t"),
    ("data/studies.journal", "data/studies.journal.runs/t"),
    ("studies.journal", "studies.journal.runs/t"),
    ("data/.automl/studies.journal", "data/.automl/runs/t"),
    ("other.journal", "other.journal.runs/t"),
    ("data/x.db", "data/x.db.runs/t"),
    ("sqlite:///data/x.db", "data/x.db.runs/t"),
    (":memory:", ".automl/runs-memory/t"),
])
def test_a_storage_files_runs_folder_is_beside_it_and_absolute(tmp_path, monkeypatch, storage,
                                                               folder) -> None:
    monkeypatch.chdir(tmp_path)
    assert runs_folder("t", storage) == tmp_path.resolve() / folder


def test_a_runs_folder_of_a_run_made_before_keeps_being_used_beside_a_studies_journal(
        tmp_path, monkeypatch) -> None:
    """Before, every ``studies.journal`` had ``runs/`` beside it: a run's lock there says the
    folder is automl's; a user's ``runs/t`` without it is not."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs/t").mkdir(parents=True)
    assert runs_folder("t", "studies.journal") == tmp_path / "studies.journal.runs/t"
    (tmp_path / "runs/t/.lock").touch()
    assert runs_folder("t", "studies.journal") == tmp_path / "runs/t"
    assert runs_folder("u", "studies.journal") == tmp_path / "studies.journal.runs/u"
    (tmp_path / "studies.journal.runs/t").mkdir(parents=True)  # the new one wins once made
    assert runs_folder("t", "studies.journal") == tmp_path / "studies.journal.runs/t"


def test_a_database_servers_runs_folder_is_keyed_by_its_url_without_the_password(
        tmp_path) -> None:
    # Nothing listens on port 1: the lookup of a recorded folder fails, the key remains.
    url = "postgresql+psycopg://me:{}@127.0.0.1:1/{}"
    folder = runs_folder("t", url.format("secret", "db"), tmp_path)
    assert folder.parent.parent == tmp_path.resolve()
    assert folder.name == "t" and folder.parent.name.startswith("runs-postgresql-")
    assert runs_folder("t", url.format("changed", "db"), tmp_path) == folder
    assert runs_folder("t", url.format("secret", "other"), tmp_path) != folder
    assert runs_folder("t", url.format("secret", "db"), tmp_path,
                       recorded="/elsewhere/t") == Path("/elsewhere/t")


def _run(monkeypatch: pytest.MonkeyPatch, folder: Path, storage: str | None, max_trials: int,
         epochs: int) -> None:
    """Run experiment ``t`` in ``folder`` (default root ``.automl``, relative to it)."""
    monkeypatch.chdir(folder)
    experiment = spec(budget={"max_trials": max_trials, "parallel_trials": 2},
                      args=[f"--epochs={epochs}"])
    assert LocalEngine(experiment, storage=storage, progress=False).run().status == "Succeeded"


def _cli(*argv: str) -> str:
    """The output of one ``automl`` command in this process and folder (it must succeed)."""
    result = CliRunner().invoke(app, list(argv))
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_one_name_in_two_storages_keeps_two_folders_each_matching_its_own_trials(
        tmp_path, kind, request, monkeypatch) -> None:
    other = _storage(kind, tmp_path, request)
    _run(monkeypatch, tmp_path, None, max_trials=2, epochs=2)
    _run(monkeypatch, tmp_path, other, max_trials=3, epochs=3)
    for storage, count, epochs in ((None, 2, 2), (other, 3, 3)):
        results = load_results("t", storage)
        names = [f"t-{n:04d}" for n in range(count)]
        assert list(results.trials["trial"]) == names
        folder = runs_folder("t", storage)
        assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == names
        obs = results.observations
        assert list(obs.groupby("trial").size()) == [2 * epochs] * count  # loss, accuracy
        losses = obs[(obs["trial"] == "t-0000") & (obs["metric"] == "loss")]["value"]
        out = _cli("logs", "t", "t-0000", *(["--storage", storage] if storage else []))
        printed = [dict(word.split("=") for word in line.split()) for line in out.splitlines()]
        assert [float(p["loss"]) for p in printed] == list(losses)
    assert runs_folder("t") == tmp_path / ".automl/runs/t"  # the default: as before


def _tensorboard_curves(logdir: Path) -> dict[str, list[tuple[int, float]]]:
    """Each trial's ``loss`` curve in a logdir that ``automl tensorboard`` wrote."""
    curves = {}
    for run in sorted(p for p in logdir.iterdir() if p.is_dir()):
        accumulator = EventAccumulator(str(run))
        accumulator.Reload()
        curves[run.name] = [(e.step, e.value) for e in accumulator.Scalars("loss")]
    return curves


@pytest.mark.parametrize("kind", KINDS)
def test_results_read_from_another_folder_are_the_runs_own_not_that_folders(
        tmp_path, kind, request, monkeypatch) -> None:
    shared = _storage(kind, tmp_path, request)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    _run(monkeypatch, a, shared, max_trials=2, epochs=2)
    _run(monkeypatch, b, None, max_trials=2, epochs=3)  # the same name in b's own storage
    seen = []
    for folder in (a, b):
        monkeypatch.chdir(folder)
        seen.append(load_results("t", shared).observations)
        _cli("tensorboard", "t", "--logdir", "tb", "--storage", shared)
    assert len(seen[0]) == 2 * 2 * 2  # two trials, a loss and an accuracy per epoch
    assert seen[1].equals(seen[0])
    curves = _tensorboard_curves(a / "tb")
    assert [len(c) for c in curves.values()] == [2, 2]
    assert _tensorboard_curves(b / "tb") == curves


def test_pbt_continued_from_another_folder_goes_on_with_its_population(
        tmp_path, monkeypatch) -> None:
    from tests.local.test_pbt import _pbt

    journal = str(tmp_path / "pbt.journal")
    # six trials of generation 0 end the first pool (it must hold more than n_population=5)
    for folder, max_trials in ((tmp_path / "a", 6), (tmp_path / "b", 8)):
        folder.mkdir()
        monkeypatch.chdir(folder)
        summary = LocalEngine(spec(**_pbt(max_trials=max_trials)), storage=journal,
                              progress=False, seed=0).run()
        assert summary.status == "Succeeded"
    table = load_results("pop", journal).trials
    tags = list(table["generation"]), list(table["parent"])
    assert tags[0][:6] == [0] * 6  # the first run: the first generation
    assert tags[0][6:] == [1, 1]  # the second goes on with it, each child of a first-run trial
    assert set(tags[1][6:]) <= {f"pop-{n:04d}" for n in range(6)}
    assert not (tmp_path / "b/.automl").exists()


@pytest.mark.parametrize(("collector", "mode"), [
    ({"kind": "File", "path": "/var/log/katib/metrics.log"}, "file"),
    ({"kind": "File", "path": "/var/log/katib/metrics.json", "format": "JSON"}, "json"),
    ({"kind": "Push"}, "push"),
])
def test_a_trial_with_a_working_dir_reports_its_metrics(tmp_path, monkeypatch, collector,
                                                        mode) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(tmp_path)  # the default root, .automl, is relative to it
    path = collector.get("path", "")
    experiment = spec(budget={"max_trials": 1, "parallel_trials": 1}, trial={
        "command": [sys.executable, TRIAL, "--x=${trialParameters.x}", "--y=${trialParameters.y}",
                    f"--mode={mode}", f"--path={path}"],
        "working_dir": str(work), "metrics_collector": collector})
    assert LocalEngine(experiment, progress=False).run().status == "Succeeded"
    [record] = records(tmp_path)
    x, y = float(record["params"]["x"]), float(record["params"]["y"])
    assert record["status"] == "Succeeded", record["reason"]
    assert record["objective"] == pytest.approx((x - 0.3) ** 2 + (y - 2) ** 2 / 10)
    assert not list(work.iterdir())  # nothing of the run's files went into the trial's folder


# A trial that says it waits, then waits until the file "go" appears where it runs.
_WAITS = ("import os, time\n"
          "print('waiting', flush=True)\n"
          "while not os.path.exists('go'):\n"
          "    time.sleep(0.05)\n"
          "print('loss=0.5')\n")


def _first_line(process: subprocess.Popen, starting: str) -> str:
    """Read ``process``'s output up to its first line starting so ('' if it ends first)."""
    for line in process.stdout:
        if line.startswith(starting):
            return line
    return ""


@pytest.mark.parametrize("kind", ["journal", "postgresql"])
def test_logs_follow_and_status_watch_from_another_folder_follow_the_run_to_its_end(
        tmp_path, kind, request) -> None:
    shared = _storage(kind, tmp_path, request)
    a, b = tmp_path / "a", tmp_path / "b"
    write_experiment(a, max_trials=1, parallel_trials=1, command=[
        sys.executable, "-c", _WAITS, "${trialParameters.x}", "${trialParameters.y}"])
    b.mkdir()
    run = start(a, "--storage", shared)
    followers = []
    try:
        assert wait_until(lambda: any(not t.state.is_finished()
                                      for t in trials(a, storage=shared)), timeout=60)
        log = runs_folder("t", shared, a / ".automl") / "t-0000" / "stdout.log"
        assert wait_until(lambda: log.exists() and log.read_text() == "waiting\n", timeout=60)
        for command in (["logs", "t", "t-0000", "-f"], ["status", "t", "--watch",
                                                         "--interval", "0.1"]):
            followers.append(subprocess.Popen(
                [sys.executable, "-m", "automl", *command, "--storage", shared], cwd=b,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        # each has shown the run going on before the trial may end
        assert _first_line(followers[0], "waiting") == "waiting\n"
        assert _first_line(followers[1], "t: ").startswith("t: Running")
        (a / "go").touch()
        (logs_out, _), (status_out, _) = (f.communicate(timeout=120) for f in followers)
        assert run.wait(timeout=120) == 0
    finally:
        for process in (run, *followers):
            process.kill()
            process.wait()
    assert [f.returncode for f in followers] == [0, 0]
    assert logs_out == "loss=0.5\n"
    assert [line for line in status_out.splitlines() if line.startswith("t: ")][-1].startswith(
        "t: Succeeded")


def test_a_run_made_before_folders_were_keyed_is_still_read_from_any_folder(
        tmp_path, monkeypatch) -> None:
    (tmp_path / "elsewhere").mkdir()
    _run(monkeypatch, tmp_path, None, max_trials=2, epochs=2)
    # as runs made before: no folder in the study's record, each log_dir relative to the
    # folder the run was in (the journal's text edited: a finished trial cannot be changed)
    store = open_storage(None, tmp_path / ".automl")
    study = optuna.load_study(study_name="t", storage=store)
    record = dict(study.user_attrs[ATTR])
    del record[RUNS_KEY]
    study.set_user_attr(ATTR, record)
    journal = tmp_path / ".automl/studies.journal"
    text = journal.read_text()
    assert text.count(f'"log_dir":"{tmp_path}/.automl/runs/t/') == 2
    journal.write_text(text.replace(f"{tmp_path}/.automl/runs/", ".automl/runs/"))
    expected = load_results("t").observations
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert len(expected) == 2 * 2 * 2
    assert load_results("t", str(journal)).observations.equals(expected)
    assert _cli("logs", "t", "t-0001", "--storage", str(journal)).count("loss=") == 2


@pytest.mark.parametrize("kind", ["journal", "postgresql"])
def test_deleting_an_experiment_of_one_storage_leaves_the_same_names_folder_of_another(
        tmp_path, kind, request, monkeypatch) -> None:
    other = _storage(kind, tmp_path, request)
    _run(monkeypatch, tmp_path, None, max_trials=2, epochs=1)
    _run(monkeypatch, tmp_path, other, max_trials=2, epochs=1)
    mine, theirs = runs_folder("t", other), runs_folder("t")
    assert (mine / "t-0000/stdout.log").is_file()
    _cli("delete", "t", "--storage", other, "--yes")
    assert not mine.exists()
    assert (theirs / "t-0000/stdout.log").is_file()
    assert list(load_results("t").trials["trial"]) == ["t-0000", "t-0001"]
