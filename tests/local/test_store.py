"""``--storage``: only a journal or a database is used, and reading changes nothing."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import optuna
import pytest

from automl.local.lock import FileLock, is_held
from tests.faults.helpers import automl_each, automl_run, write_experiment

# Every command that takes --storage, with what it needs besides.
COMMANDS = [["run", "exp.yaml", "-q"], ["status", "t"], ["list"], ["trials", "t"], ["best", "t"],
            ["delete", "t", "--yes"], ["compare", "t"], ["report", "t", "--output", "r.html"],
            ["tensorboard", "t", "--logdir", "tb"], ["dashboard", "--port", "65535"]]
NOT_STORAGES = {"text": b"my notes\n", "json": b'{"a": 1}\n', "no newline": b"notes",
                "binary": b"\x00\x01\x02\xff" * 10}


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its content."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_a_storage_file_that_is_no_journal_nor_database_is_refused_and_left_as_it_was(
        tmp_path) -> None:
    write_experiment(tmp_path)
    storages = []
    for content, data in NOT_STORAGES.items():
        path = tmp_path / f"{content}.txt"
        path.write_bytes(data)
        storages += [str(path), f"sqlite:///{path}"]
    before = _snapshot(tmp_path)
    commands = [[*c, "--storage", s] for s in storages for c in COMMANDS]
    for command, (code, _, err) in zip(commands, automl_each(tmp_path, commands), strict=True):
        assert code == 2, (command, err)
        assert err.splitlines() == [f"error: storage {command[-1]!r} is neither an Optuna "
                                    f"journal nor a SQLite database (it starts with "
                                    f"{NOT_STORAGES[Path(command[-1]).stem][:12]!r}); automl "
                                    "leaves it as it is"], (command, err)
    assert _snapshot(tmp_path) == before


def test_a_storage_path_in_a_missing_folder_is_refused_in_one_line(tmp_path) -> None:
    write_experiment(tmp_path)
    storages = [str(tmp_path / "missing" / "s.journal"),
                f"sqlite:///{tmp_path / 'missing' / 's.db'}"]
    commands = [[*c, "--storage", s] for s in storages for c in COMMANDS]
    for command, (code, _, err) in zip(commands, automl_each(tmp_path, commands), strict=True):
        assert code == 2, (command, err)
        assert err.splitlines() == [f"error: storage {command[-1]!r}: the folder "
                                    f"{tmp_path / 'missing'} does not exist"], (command, err)
    assert not (tmp_path / "missing").exists()


KINDS = ["a folder", "a FIFO (named pipe)", "a socket", "a character device"]


def _special(tmp_path: Path, kind: str) -> tuple[Path, socket.socket | None]:
    """A file of ``kind`` that is no regular file (and the socket bound to it, if any)."""
    if kind == "a character device":
        return Path(os.devnull), None
    path = tmp_path / f"{kind.split()[1]}.journal"
    if kind == "a folder":
        path.mkdir()
    elif kind == "a FIFO (named pipe)":
        os.mkfifo(path)
    else:
        bound = socket.socket(socket.AF_UNIX)
        bound.bind(str(path))
        return path, bound
    return path, None


def test_a_storage_that_is_no_regular_file_is_refused_in_one_line_without_waiting(
        tmp_path) -> None:
    """Opening a FIFO to read (or append) waits for a writer forever: refused before it."""
    write_experiment(tmp_path)
    made = {kind: _special(tmp_path, kind) for kind in KINDS}
    before = sorted(tmp_path.iterdir())
    try:
        cases = [(kind, s) for kind, (path, _) in made.items()
                 for s in (str(path), f"sqlite:///{path}")]
        readers = [c for c in COMMANDS if c[0] in ("run", "list", "trials", "delete")]
        commands = [[*c, "--storage", s] for _, s in cases for c in readers]
        for command, kind, (code, _, err) in zip(
                commands, [k for k, _ in cases for _ in readers],
                automl_each(tmp_path, commands), strict=True):
            assert code == 2, (command, err)
            assert err.splitlines() == [f"error: storage {command[-1]!r}: {kind}, not a "
                                        "regular file; give a journal or SQLite file (or a "
                                        "path where automl may create one)"], (command, err)
    finally:
        for _, bound in made.values():
            if bound is not None:
                bound.close()
    assert sorted(tmp_path.iterdir()) == before


def test_a_fifo_at_the_default_storage_is_refused_in_one_line(tmp_path) -> None:
    write_experiment(tmp_path)
    (tmp_path / ".automl").mkdir()
    os.mkfifo(tmp_path / ".automl" / "studies.journal")
    commands = [c for c in COMMANDS if c[0] in ("run", "list", "trials", "status")]
    for command, (code, _, err) in zip(commands, automl_each(tmp_path, commands), strict=True):
        assert code == 2, (command, err)
        assert err.splitlines() == [f"error: storage '{Path('.automl/studies.journal')}': a "
                                    "FIFO (named pipe), not a regular file; give a journal "
                                    "or SQLite file (or a path where automl may create one)"]


def test_a_fifo_in_place_of_a_lock_file_fails_at_once_instead_of_waiting(tmp_path) -> None:
    lock = tmp_path / "x.lock"
    os.mkfifo(lock)
    with pytest.raises(OSError):
        FileLock(lock).acquire(blocking=False)
    assert not is_held(lock)


def test_a_storage_that_cannot_be_written_stops_run_with_an_io_error(tmp_path) -> None:
    write_experiment(tmp_path)
    storage = "/sys/kernel/automl-test.journal"  # sysfs refuses new files, even to root
    [(code, _, err)] = automl_each(tmp_path, [["run", "exp.yaml", "-q", "--storage", storage]])
    assert code == 1, err
    assert err.splitlines() == [f"error: cannot write storage {storage!r}: Permission denied; "
                                "make the storage and its folder writable"]


@pytest.mark.parametrize("kind", ["journal", "sqlite", "sqlite as a path"])
def test_reading_commands_change_nothing_in_a_storage_nor_beside_it(tmp_path, kind) -> None:
    write_experiment(tmp_path, max_trials=2)
    stored = tmp_path / "store" / ("s.journal" if kind == "journal" else "s.db")
    stored.parent.mkdir()
    url = f"sqlite:///{stored}" if kind == "sqlite" else str(stored)
    result = automl_run(tmp_path, "--storage", f"sqlite:///{stored}" if "sqlite" in kind
                        else str(stored))
    assert result.returncode == 0, result.stderr
    for extra in stored.parent.glob("*lock"):  # as if another program had written it
        extra.unlink()
    before = _snapshot(stored.parent)
    commands = [["status", "t"], ["list"], ["trials", "t"], ["best", "t"], ["compare", "t"]]
    results = automl_each(tmp_path, [[*c, "--storage", url] for c in commands])
    for command, (code, out, err) in zip(commands, results, strict=True):
        assert code == 0, (command, err)
        assert "t-0000" in out or command == ["list"], (command, out)
    assert _snapshot(stored.parent) == before


def test_reading_a_database_without_studies_creates_no_tables(tmp_path, postgres_url) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    for code, _, err in automl_each(tmp_path, [["list", "--storage", f"sqlite:///{empty}"],
                                         ["list", "--storage", postgres_url]]):
        assert code == 2, err
        assert "holds no Optuna tables" in err
    assert empty.read_bytes() == b""
    from sqlalchemy import create_engine, inspect

    engine = create_engine(postgres_url)
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def test_a_sqlite_database_given_as_a_path_is_used_as_one(tmp_path) -> None:
    database = tmp_path / "runs.db"
    optuna.create_study(study_name="other", storage=f"sqlite:///{database}")
    write_experiment(tmp_path, max_trials=1, parallel_trials=1)
    result = automl_run(tmp_path, "--storage", str(database))
    assert result.returncode == 0, result.stderr
    names = {s.study_name for s in optuna.get_all_study_summaries(f"sqlite:///{database}")}
    assert names == {"other", "t"}
