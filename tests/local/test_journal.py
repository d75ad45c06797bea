"""A damaged journal never loses finished trials: every reader skips the damage and goes on."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
import yaml

from automl.local.lock import FileLock, StorageFileLock
from automl.local.store import ATTR, open_storage
from tests.faults.helpers import automl_each, automl_run, finished, trials, write_experiment

MAX_TRIALS = 4


def _lines(journal: Path) -> list[bytes]:
    return journal.read_bytes().splitlines(keepends=True)


def _nth(lines: list[bytes], op_code: int, n: int, holding: bytes = b"") -> int:
    """The index of the ``n``-th line recording operation ``op_code`` (with ``holding``)."""
    return [i for i, line in enumerate(lines)
            if line.startswith(b'{"op_code":%d,' % op_code) and holding in line][n]


def _cut_creation(lines: list[bytes]) -> None:
    """A trial's creation loses its end (a disk error): what follows needs it."""
    i = _nth(lines, 4, 1)
    lines[i] = lines[i][:len(lines[i]) // 2] + b"\n"


def _garbage_line(lines: list[bytes]) -> None:
    lines.insert(len(lines) // 2, b"\x00\r not a record \xff\n")


def _bad_utf8_in_a_record(lines: list[bytes]) -> None:
    """A trial's automl record (free text) gets a byte that is no UTF-8."""
    i = _nth(lines, 8, 1, holding=b"/runs/t/")  # the record, not a dashboard attribute
    lines[i] = lines[i].replace(b"/runs/t/", b"/r\xffns/t/", 1)


def _bad_utf8_in_a_state(lines: list[bytes]) -> None:
    """A trial's end (its state) becomes unreadable."""
    i = _nth(lines, 6, 0)
    lines[i] = lines[i].replace(b'"state"', b'"st\xffte"')


def _glued(lines: list[bytes]) -> None:
    """A record cut short by a kill, with the next record appended on its line."""
    i = _nth(lines, 5, 2)
    lines.insert(i, lines[i][:25])


def _torn_end(lines: list[bytes]) -> None:
    lines.append(lines[_nth(lines, 8, 0)][:40])


DAMAGE: dict[str, Callable[[list[bytes]], None]] = {
    "bad JSON mid-file, in a trial's creation": _cut_creation,
    "a line of garbage mid-file": _garbage_line,
    "invalid UTF-8 in a trial's record": _bad_utf8_in_a_record,
    "invalid UTF-8 in a trial's state": _bad_utf8_in_a_state,
    "a torn record glued to the next": _glued,
    "a torn write at the end": _torn_end,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_journal_keeps_every_intact_trial_and_the_run_resumes(tmp_path,
                                                                       damage) -> None:
    write_experiment(tmp_path, max_trials=MAX_TRIALS, parallel_trials=2,
                     resume_policy="LongRunning")  # the budget grows below
    assert automl_run(tmp_path).returncode == 0
    journal = tmp_path / ".automl" / "studies.journal"
    before = finished(trials(tmp_path))
    lines = _lines(journal)
    DAMAGE[damage](lines)
    journal.write_bytes(b"".join(lines))
    damaged = journal.read_bytes()

    commands = [["status", "t"], ["list"], ["trials", "t", "--format", "csv"]]
    results = automl_each(tmp_path, commands)
    for command, (code, _, err) in zip(commands, results, strict=True):
        assert code == 0, (command, err)
        assert re.search(r"^\.automl/studies\.journal:\d+: ", err, re.M), err  # file:line
    rows = results[-1][1].splitlines()[1:]
    assert [r.split(",")[1:3] for r in rows] == [[f"t-{n:04d}", "Succeeded"]
                                                 for n in range(MAX_TRIALS)]
    assert journal.read_bytes() == damaged  # reading repairs nothing behind one's back

    # automl's record of every trial (one whose end was damaged is running in Optuna's eyes)
    now = {t.number: t.user_attrs.get(ATTR) for t in trials(tmp_path)}
    if damage == "invalid UTF-8 in a trial's record":  # the record is kept, its text mended
        [mended] = [n for n, r in now.items() if "\ufffd" in r["log_dir"]]
        assert now[mended].pop("log_dir") == before[mended].pop("log_dir").replace(
            "/runs/", "/r\ufffdns/")
    assert now == before

    spec = yaml.safe_load((tmp_path / "exp.yaml").read_text())
    spec["budget"]["max_trials"] = MAX_TRIALS + 2
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump(spec))
    result = automl_run(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        f"t: Succeeded (ExperimentMaxTrialsReached: {MAX_TRIALS + 2} trials completed)")
    after = finished(trials(tmp_path))  # what the resumed run appended reads back
    assert [r["name"] for r in after.values()] == [f"t-{n:04d}"
                                                   for n in range(MAX_TRIALS + 2)]
    assert all(r["status"] == "Succeeded" for r in after.values())
    for number in range(MAX_TRIALS):
        assert after[number]["params"] == before[number]["params"]
        assert after[number]["objective"] == before[number]["objective"]


def test_a_run_refused_by_the_lock_changes_nothing_in_the_storage(tmp_path) -> None:
    write_experiment(tmp_path, max_trials=2, parallel_trials=1)
    assert automl_run(tmp_path).returncode == 0
    journal = tmp_path / ".automl" / "studies.journal"
    before = journal.read_bytes()
    spec = yaml.safe_load((tmp_path / "exp.yaml").read_text())
    spec["budget"]["max_trials"] = 3  # a budget change, which a run that goes ahead stores
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump(spec))
    held = StorageFileLock(journal, "t")  # as another engine holds it
    assert held.acquire()
    try:
        result = automl_run(tmp_path)
    finally:
        held.release()
    assert result.returncode == 1
    assert "is already running" in result.stderr
    assert journal.read_bytes() == before


def test_a_damaged_study_creation_keeps_the_studies_after_it_apart(tmp_path, caplog) -> None:
    journal = tmp_path / "s.journal"
    storage = open_storage(str(journal))
    for name in ("a", "b", "c"):
        optuna.create_study(study_name=name, storage=storage).optimize(
            lambda trial: trial.suggest_float("x", 0, 1), n_trials=2)
    lines = _lines(journal)
    i = _nth(lines, 0, 1)  # study b's creation, cut before its name
    lines[i] = lines[i][:20] + b"\n"
    journal.write_bytes(b"".join(lines))

    storage = open_storage(str(journal), existing=True)
    names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
    assert names == ["a", f"damaged-record-line-{i + 1}", "c"]
    for name in names:  # each keeps its own two trials, none took another's
        study = optuna.load_study(study_name=name, storage=storage)
        assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    assert f"s.journal:{i + 1}: a damaged record that created a study" in caplog.text


def test_a_last_line_being_appended_is_not_reported_as_damage(tmp_path, caplog) -> None:
    journal = tmp_path / "s.journal"
    optuna.create_study(study_name="s", storage=open_storage(str(journal)))
    with open(journal, "ab") as file:
        file.write(b'{"op_code":2,"worker_id":"w","study_id":0,"user_a')
    writer = FileLock(journal.with_name("s.journal.flock"))
    assert writer.acquire(blocking=False)  # as an append in progress holds it
    try:
        optuna.load_study(study_name="s", storage=open_storage(str(journal), existing=True))
    finally:
        writer.release()
    assert "incomplete" not in caplog.text
    optuna.load_study(study_name="s", storage=open_storage(str(journal), existing=True))
    assert "s.journal:2: an incomplete last record, ignored" in caplog.text
