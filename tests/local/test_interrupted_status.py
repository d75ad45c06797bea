"""list and status say when a run was interrupted (recorded Running, but no engine holds its
run lock) and how to resume it; a run that goes on is Running."""

from __future__ import annotations

import signal
from pathlib import Path

from automl.local.status import INTERRUPTED
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
    listed = _state(stopped[0], "t ")
    assert listed.split()[1] == "Interrupted" and listed.endswith(INTERRUPTED)
    for shown in stopped[1:]:
        assert _state(shown, "t: ") == f"t: Interrupted {INTERRUPTED}"
    assert "resume: automl run EXPERIMENT_FILE" in INTERRUPTED


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
