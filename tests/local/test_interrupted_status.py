"""list and status say when a run was interrupted (recorded Running, but no engine holds its
run lock) and how to resume it; a run that goes on is Running."""

from __future__ import annotations

import shlex
import signal
from pathlib import Path

import pytest

import automl
from automl.local.status import (
    RESUME_KEY,
    interrupted_reason,
    resume_command,
    shown_state,
)
from automl.local.store import ATTR, open_storage
from tests.faults.helpers import automl_each, start, trials, wait_until, waiting_experiment

_LOOKS = [["list"], ["status", "t"], ["status", "t", "--all"]]


def _state(shown: tuple[int, str, str], line_start: str) -> str:
    code, out, err = shown
    assert code == 0, err
    return next(line for line in out.splitlines() if line.startswith(line_start))


def test_a_run_stopped_by_ctrl_c_is_interrupted_with_how_to_resume_while_a_running_one_is_running(
        tmp_path: Path) -> None:
    waiting_experiment(tmp_path, max_trials=2)
    run = start(tmp_path)
    try:
        assert wait_until(lambda: any(not t.state.is_finished() for t in trials(tmp_path)),
                          timeout=60)
        running = automl_each(tmp_path, _LOOKS)
        run.send_signal(signal.SIGINT)
        run.communicate(timeout=120)
    finally:
        run.kill()
        run.wait()
    assert run.returncode == 130
    assert _state(running[0], "t ").split()[1] == "Running"
    assert all(_state(shown, "t: ").startswith("t: Running") for shown in running[1:])
    stopped = automl_each(tmp_path, _LOOKS)
    # the exact command, whichever folder list/status run in
    reason = interrupted_reason(shlex.join([
        "automl", "run", str((tmp_path / "exp.yaml").resolve()), "--storage",
        str((tmp_path / ".automl" / "studies.journal").resolve())]))
    listed = _state(stopped[0], "t ")
    assert listed.split()[1] == "Interrupted" and listed.endswith(reason)
    for shown in stopped[1:]:
        assert _state(shown, "t: ") == f"t: Interrupted {reason}"
    assert reason.endswith(f"resume: automl run {(tmp_path / 'exp.yaml').resolve()} --storage "
                           f"{(tmp_path / '.automl' / 'studies.journal').resolve()}")


@pytest.mark.parametrize(("given", "options", "expected"), [
    ("st.journal", {}, "automl run {d}/sub/e.yaml --storage {d}/st.journal"),
    (None, {}, "automl run {d}/sub/e.yaml --storage {d}/.automl/studies.journal"),
    ("sqlite:///db/s.db", {}, "automl run {d}/sub/e.yaml --storage sqlite:///{d}/db/s.db"),
    ("postgresql://u:secret@127.0.0.1:5432/db", {},
     "automl run {d}/sub/e.yaml --storage 'postgresql://u:***@127.0.0.1:5432/db'"),
    ("st.journal", {"katib_shell": True},
     "automl run {d}/sub/e.yaml --storage {d}/st.journal --katib-shell"),
    ("my runs/st.journal", {}, "automl run {d}/sub/e.yaml --storage '{d}/my runs/st.journal'"),
    ("st.journal", {"function": True}, "call automl.tune(...) again with the same arguments"),
], ids=["journal", "default", "sqlite-url", "server-url-password-hidden", "katib-shell",
        "space-quoted", "tune"])
def test_the_resume_command_names_the_absolute_file_and_storage_as_started(
        tmp_path, monkeypatch, given, options, expected):
    monkeypatch.chdir(tmp_path)
    assert resume_command(Path("sub/e.yaml"), given, Path(".automl"),
                          **options) == expected.format(d=tmp_path.resolve())


def _record(storage: str, name: str) -> dict:
    """The study's automl record, read from its storage."""
    store = open_storage(storage)
    return store.get_study_user_attrs(store.get_study_id_from_name(name))[ATTR]


def test_an_interrupted_tune_says_to_call_tune_again(tmp_path):
    automl.tune("fn", lambda p: float(p["x"]), {"x": {"type": "double", "min": 0, "max": 1}},
                max_trial_count=1, progress=False, root=tmp_path / ".automl")
    record = _record(str(tmp_path / ".automl" / "studies.journal"), "fn")
    assert shown_state("fn", "Running", "", None, tmp_path / ".automl",
                       resume=record[RESUME_KEY]) == (
        "Interrupted", interrupted_reason("call automl.tune(...) again with the same arguments"))


def test_after_kill_9_the_trials_no_process_runs_are_shown_failed_and_cut_off_everywhere(
        tmp_path: Path) -> None:
    import automl
    from automl.local.status import CUT_OFF

    waiting_experiment(tmp_path, max_trials=3)
    run = start(tmp_path)
    try:
        assert wait_until(lambda: any(not t.state.is_finished() for t in trials(tmp_path)),
                          timeout=60)
    finally:
        run.kill()  # kill -9: the trial is still recorded as running
        run.communicate(timeout=30)
    assert [t.state.name for t in trials(tmp_path)] == ["RUNNING"]
    status, every, table = automl_each(tmp_path, [["status", "t"], ["status", "t", "--all"],
                                                  ["trials", "t", "--format", "csv"]])
    out = status[1]
    assert _state(status, "trials: ") == "trials: 1 of 3 (1 Failed)"
    assert "running" not in out.split() and "cut off" in out and CUT_OFF in out
    assert "more trials" not in out  # the one trial is in the cut-off table
    row = _state(every, "t-0000")
    assert row.split()[1] == "Failed" and row.endswith(CUT_OFF)
    header, line = table[1].splitlines()
    shown = dict(zip(header.split(","), line.split(","), strict=False))
    assert shown["status"] == "Failed" and CUT_OFF.startswith(shown["reason"].strip('"'))
    results = automl.load_results("t", root=tmp_path / ".automl")
    assert results.trials[["status", "reason"]].values.tolist() == [["Failed", CUT_OFF]]
    assert "Running" not in str(results)
