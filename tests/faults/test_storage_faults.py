"""A storage that fails under a running engine: one line, nothing lost, no write without the lock.

Real parts throughout: a PostgreSQL server of its own (tests/conftest.py), a tmpfs mounted in
the test's folder for a full disk, real engines in their own processes stopped with real
signals.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

from automl.local.store import ATTR, open_storage
from tests.faults.helpers import (
    automl_each,
    automl_run,
    finished,
    mounted,
    run_argv,
    start,
    trials,
    wait_until,
    write_experiment,
)

# A trial that runs until the test lets it end (the file "go" appears where it runs).
_WAITS = ("import os, time\n"
          "while not os.path.exists('go'):\n"
          "    time.sleep(0.05)\n"
          "print('loss=0.5')\n")
_RESUME = "then run the same command to resume"


def _waiting_experiment(folder: Path, max_trials: int, parallel_trials: int = 2) -> None:
    write_experiment(folder, max_trials=max_trials, parallel_trials=parallel_trials, command=[
        sys.executable, "-c", _WAITS, "${trialParameters.x}", "${trialParameters.y}"])


def _sql(url: str, statement: str) -> list[tuple]:
    """Run ``statement`` on the database at ``url`` as an administrator would."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            result = connection.execute(text(statement))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _states(folder: Path, storage: str) -> list[str]:
    return [t.state.name for t in trials(folder, storage=storage)]


def _start_on_another_machine(folder: Path, hidden: Path, *options: str) -> subprocess.Popen:
    """``automl run`` in ``folder`` as on another machine: ``hidden`` (the first engine's
    folder, where the study records its runs folder) is an empty tmpfs in a mount namespace
    of its own, so the two engines share the database and nothing else (on one machine, the
    runs folder's lock would refuse the second engine while the first lives)."""
    mount = 'mount -t tmpfs -o size=16m tmpfs "$1" && shift && exec "$@"'
    return subprocess.Popen(["unshare", "--mount", "--propagation", "private", "--",
                             "sh", "-c", mount, "sh", str(hidden), *run_argv(*options)],
                            cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _started(folder: Path, storage: str) -> int:
    """How many trials run with their parameters chosen (the engine no longer asks them)."""
    return sum(1 for t in trials(folder, storage=storage)
               if t.state.name == "RUNNING" and len(t.params) == 2)


def _ended(engine: subprocess.Popen) -> tuple[int, str, str]:
    out, err = engine.communicate(timeout=120)
    return engine.returncode, out, err


@pytest.fixture
def engines() -> Iterator[list[subprocess.Popen]]:
    """The engines a test starts: killed (by pid) and reaped if the test fails midway."""
    started: list[subprocess.Popen] = []
    yield started
    for engine in started:
        if engine.poll() is None:
            os.kill(engine.pid, signal.SIGCONT)
            engine.kill()
        engine.communicate()


def test_an_engine_that_lost_its_postgresql_lock_stops_and_never_writes_over_the_next_one(
        tmp_path, postgres_url, engines) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    _waiting_experiment(a, max_trials=6)
    _waiting_experiment(b, max_trials=6)
    (a / "go").touch()  # a's first trials end at once
    first = start(a, "--storage", postgres_url)
    engines.append(first)
    assert wait_until(lambda: _states(a, postgres_url).count("COMPLETE") >= 2, timeout=60)
    (a / "go").unlink()  # the trials a starts next wait
    # Both started (params chosen): a waits for them, in no write.
    assert wait_until(lambda: _started(a, postgres_url) == 2, timeout=60)
    # Frozen, it cannot notice; meanwhile its session (and lock) ends, and b starts.
    os.kill(first.pid, signal.SIGSTOP)
    kept = finished(trials(a, storage=postgres_url))
    cut = [t.number for t in trials(a, storage=postgres_url) if not t.state.is_finished()]
    assert _sql(postgres_url, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              "WHERE application_name = 'automl lock t'") == [(1,)]
    (b / "go").touch()
    second = _start_on_another_machine(b, a, "--storage", postgres_url)
    engines.append(second)
    # b took the lock and recorded a's cut-off trials as interrupted; a then wakes up.
    assert wait_until(lambda: set(cut) <= set(finished(trials(a, storage=postgres_url))),
                      timeout=60)
    (a / "go").touch()  # a's trials end now: an engine unaware would record them
    os.kill(first.pid, signal.SIGCONT)

    code, _, err = _ended(first)
    assert code == 1
    _assert_lost_connection(err, postgres_url)
    code, _, err = _ended(second)
    assert code == 0, err
    records = finished(trials(a, storage=postgres_url))
    assert len(records) == 6 + len(cut)  # cut trials are replaced (cut-trials-uncounted)
    assert all(records[number] == record for number, record in kept.items())
    assert cut and all((records[number]["status"], records[number]["reason"]) == (
        "Failed", "interrupted: the engine stopped while this trial ran") for number in cut)
    assert all(record["status"] == "Succeeded" for number, record in records.items()
               if number not in cut)  # b's, and a's from before


def _assert_lost_connection(stderr: str, url: str) -> None:
    """``stderr`` is the one line of an engine whose server session (and lock) ended."""
    [line] = stderr.splitlines()
    assert line.startswith(f"error: experiment 't' lost its lock in {url}: the database "
                           "server refused or closed the connection ("), line
    assert line.endswith("; another engine may run it now, so this one stopped and wrote "
                         "nothing more: run the same command to resume once none does"), line


def test_an_idle_session_timeout_on_the_database_does_not_end_a_run(
        tmp_path, postgres_url) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    # Each session the engine leaves idle longer than that (its lock's, Optuna's pooled
    # ones, while a trial runs) is ended by the server.
    _sql(postgres_url, f"ALTER DATABASE {database} SET idle_session_timeout = '1s'")
    write_experiment(tmp_path, max_trials=2, parallel_trials=1,
                     trial_args=("--epochs=2", "--sleep=1.2"))
    result = automl_run(tmp_path, "--storage", postgres_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("t: Succeeded (ExperimentMaxTrialsReached: 2 trials")
    assert _states(tmp_path, postgres_url) == ["COMPLETE"] * 2


def test_postgresql_connections_ended_mid_run_stop_the_engine_in_one_line(
        tmp_path, postgres_url, engines) -> None:
    _waiting_experiment(tmp_path, max_trials=4, parallel_trials=1)
    (tmp_path / "go").touch()
    engine = start(tmp_path, "--storage", postgres_url)
    engines.append(engine)
    assert wait_until(lambda: "COMPLETE" in _states(tmp_path, postgres_url), timeout=60)
    (tmp_path / "go").unlink()
    assert wait_until(lambda: "RUNNING" in _states(tmp_path, postgres_url), timeout=60)
    kept = finished(trials(tmp_path, storage=postgres_url))
    _sql(postgres_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                       "datname = current_database() AND pid <> pg_backend_pid()")
    code, _, err = _ended(engine)
    assert code == 1
    _assert_lost_connection(err, postgres_url)
    assert all(finished(trials(tmp_path, storage=postgres_url))[n] == r
               for n, r in kept.items())


@pytest.fixture
def tiny_disk(tmp_path) -> Iterator[Path]:
    """A 1 MB tmpfs mounted on a folder of the test's own, unmounted after it."""
    disk = tmp_path / "disk"
    disk.mkdir()
    with mounted(disk, "-t", "tmpfs", "-o", "size=1m", "tmpfs"):
        yield disk


def _fill(disk: Path) -> Path:
    """Fill ``disk`` to its last byte; the file that does it."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:  # ENOSPC: full
        pass
    finally:
        os.close(fd)
    return filler


@pytest.mark.parametrize(("kind", "full"), [("sqlite", "the disk is full (database or disk "
                                                       "is full)"),
                                            ("journal", "No space left on device")])
def test_a_storage_on_a_full_disk_stops_the_run_in_one_line_and_keeps_finished_trials(
        tmp_path, tiny_disk, kind, full) -> None:
    storage = (f"sqlite:///{tiny_disk / 'x.db'}" if kind == "sqlite"
               else str(tiny_disk / "x.journal"))
    write_experiment(tmp_path, max_trials=2, parallel_trials=1, resume_policy="LongRunning")
    assert automl_run(tmp_path, "--storage", storage).returncode == 0
    kept = finished(trials(tmp_path, storage=storage))
    filler = _fill(tiny_disk)
    write_experiment(tmp_path, max_trials=4, parallel_trials=1, resume_policy="LongRunning")

    result = automl_run(tmp_path, "--storage", storage)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: experiment 't' stopped: {full}; the study keeps every trial recorded so far: "
        f"make room, {_RESUME}"]
    filler.unlink()
    assert finished(trials(tmp_path, storage=storage)) == kept


_HOT = bytes.fromhex("d9d505f920a163d7")  # a rollback journal's header until it commits


def _killed_mid_write(folder: Path, database: Path) -> None:
    """Start an engine on ``database`` and kill -9 it while it writes (its journal is hot)."""
    journal = database.with_name(database.name + "-journal")

    def hot() -> bool:
        try:
            with open(journal, "rb") as file:
                return file.read(len(_HOT)) == _HOT
        except OSError:
            return False

    url = f"sqlite:///{database}"
    engine = start(folder, "--storage", url)
    try:
        assert wait_until(lambda: len(finished(trials(folder, storage=url))) >= 2, timeout=60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and engine.poll() is None:
            if hot():
                os.kill(engine.pid, signal.SIGSTOP)
                if hot():  # stopped in the middle of a transaction
                    os.kill(engine.pid, signal.SIGKILL)
                    break
                os.kill(engine.pid, signal.SIGCONT)
            time.sleep(0.001)
    finally:
        if engine.poll() is None:  # the deadline passed: end it
            os.kill(engine.pid, signal.SIGCONT)
            engine.kill()
        engine.communicate()
    assert engine.returncode == -signal.SIGKILL
    assert hot()


def test_read_commands_work_after_a_sqlite_engine_is_killed_mid_write(tmp_path) -> None:
    database = tmp_path / "x.db"
    write_experiment(tmp_path, max_trials=500, parallel_trials=2)
    _killed_mid_write(tmp_path, database)
    shown = automl_each(tmp_path, [["status", "t", "--storage", str(database)],
                                   ["list", "--storage", str(database)],
                                   ["trials", "t", "--storage", str(database)]])
    assert [(code, err) for code, _, err in shown] == [(0, "")] * 3
    assert shown[0][1].startswith("t: Interrupted")
    assert "t-0000" in shown[2][1]


@pytest.mark.parametrize("kind", ["journal", "sqlite", "postgresql"])
def test_delete_removes_the_experiment_and_its_trial_folders_from_every_storage(
        tmp_path, kind, request) -> None:
    storage = {"sqlite": lambda: f"sqlite:///{tmp_path / 'x.db'}",
               "journal": lambda: str(tmp_path / "x.journal"),
               "postgresql": lambda: request.getfixturevalue("postgres_url")}[kind]()
    write_experiment(tmp_path, max_trials=2, parallel_trials=1)
    assert automl_run(tmp_path, "--storage", storage).returncode == 0
    folders = [tmp_path / r["log_dir"]  # relative to where it ran, or absolute
               for r in finished(trials(tmp_path, storage=storage)).values()]
    assert len(folders) == 2 and all(f.is_dir() for f in folders)

    listed, deleted, after = automl_each(tmp_path, [["list", "--storage", storage],
                                                    ["delete", "t", "--storage", storage, "--yes"],
                                                    ["list", "--storage", storage]])
    listed_names = [line.split()[0] for line in listed[1].splitlines()[1:]]  # plain columns
    assert listed[0] == 0 and listed_names == ["t"]
    assert deleted == (0, "deleted t\n", "")
    assert after[0] == 0 and after[1].splitlines()[1:] == [], after
    assert trials(tmp_path, storage=storage) == []
    assert not any(f.exists() for f in folders)


@pytest.mark.parametrize("kind", ["journal", "sqlite"])
def test_an_engine_whose_storage_file_is_replaced_stops_and_records_nothing_more(
        tmp_path, kind, engines) -> None:
    database = tmp_path / ("x.journal" if kind == "journal" else "x.db")
    storage = str(database) if kind == "journal" else f"sqlite:///{database}"
    _waiting_experiment(tmp_path, max_trials=4)
    engine = start(tmp_path, "--storage", storage)
    engines.append(engine)
    assert wait_until(lambda: _started(tmp_path, storage) == 2, timeout=60)
    # A copy renamed over it: another engine could now lock the new file the path names.
    shutil.copyfile(database, tmp_path / "copy")
    os.replace(tmp_path / "copy", database)
    code, _, err = _ended(engine)
    assert code == 1
    assert err.splitlines() == [
        f"error: experiment 't' lost its lock: {database} was deleted or replaced while it ran; "
        "another engine may run it now, so this one stopped and wrote nothing more: run the "
        "same command to resume once none does"]
    # Its trials were stopped, and left as they were: not recorded as Killed.
    assert _states(tmp_path, storage) == ["RUNNING", "RUNNING"]
    (tmp_path / "go").touch()
    resumed = automl_run(tmp_path, "--storage", storage)
    assert resumed.returncode == 0, resumed.stderr
    # the two cut trials are recorded as interrupted and replaced (cut-trials-uncounted)
    assert [r["status"] for r in finished(trials(tmp_path, storage=storage)).values()] == [
        "Failed", "Failed", "Succeeded", "Succeeded", "Succeeded", "Succeeded"]


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_delete_on_a_read_only_storage_says_so_in_one_line_and_changes_nothing(
        tmp_path, tiny_disk, kind) -> None:
    database = tiny_disk / ("x.journal" if kind == "journal" else "x.db")
    storage = str(database) if kind == "journal" else f"sqlite:///{database}"
    write_experiment(tmp_path, max_trials=1, parallel_trials=1)
    assert automl_run(tmp_path, "--storage", storage).returncode == 0
    # Nothing of this process may hold a file there open for writing, or remount refuses.
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True, timeout=30)
    [(code, out, err)] = automl_each(
        tmp_path, [["delete", "t", "--storage", str(database), "--yes"]])
    assert (code, out, err) == (1, "", (
        f"error: cannot lock experiment 't': Read-only file system ({database}); make "
        "the storage and its folder writable\n"))
    study = optuna.load_study(study_name="t", storage=open_storage(str(database), existing=True))
    assert [t.user_attrs[ATTR]["status"] for t in study.trials] == ["Succeeded"]
