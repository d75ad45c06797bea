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
