"""automl status and automl list show what a storage holds."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.local.helpers import records as finished_records
from tests.local.helpers import run, spec


def _automl(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automl", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60,
                          env={"COLUMNS": "200", "PATH": "",
                               "PYTHONPATH": os.environ.get("PYTHONPATH", "")})


def test_status_all_lists_each_trial_with_its_parameters(tmp_path) -> None:
    run(spec(args=["--exit=1"], budget={"max_trials": 2, "parallel_trials": 1}), tmp_path)
    result = _automl("status", "t", "--all", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "t: Succeeded ExperimentMaxTrialsReached: 2 trials completed" in result.stdout
    assert "trials: 2 of 2 (2 Failed)" in result.stdout
    lines = [line for line in result.stdout.splitlines() if "t-000" in line]
    assert len(lines) == 2
    assert all("Failed" in line and "exit status 1" in line for line in lines)


def test_status_shows_counts_and_the_five_best_and_says_how_to_see_the_rest(tmp_path) -> None:
    run(spec(budget={"max_trials": 8, "parallel_trials": 2}), tmp_path)
    records = finished_records(tmp_path)
    best_five = [r["name"] for r in sorted(records, key=lambda r: r["objective"])[:5]]
    result = _automl("status", "t", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "trials: 8 of 8 (8 Succeeded)" in result.stdout
    shown = [line.split()[0] for line in result.stdout.splitlines() if line.startswith("t-000")]
    assert shown == best_five
    assert "3 more trials: automl status t --all, or automl trials t" in result.stdout


def test_list_shows_every_experiment(tmp_path) -> None:
    run(spec(budget={"max_trials": 1, "parallel_trials": 1}), tmp_path)
    run(spec(name="other", budget={"max_trials": 1, "parallel_trials": 1}), tmp_path)
    result = _automl("list", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["experiment", "t",
                                                                       "other"]


def test_status_of_an_unknown_experiment_names_the_ones_there_are(tmp_path) -> None:
    run(spec(budget={"max_trials": 1, "parallel_trials": 1}), tmp_path)
    result = _automl("status", "nope", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: no experiment 'nope' in this storage; it holds: t"


def test_reading_commands_create_nothing_where_nothing_ran(tmp_path) -> None:
    for args in (["status", "t"], ["list"], ["trials", "t"], ["best", "t"]):
        result = _automl(*args, cwd=tmp_path)
        assert result.returncode == 2
        assert "no experiments here" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_delete_removes_a_local_experiment_so_it_can_start_again(tmp_path) -> None:
    run(spec(budget={"max_trials": 1, "parallel_trials": 1}), tmp_path)
    assert (tmp_path / ".automl/runs/t/t-0000").exists()
    result = _automl("delete", "t", "--yes", cwd=tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "deleted t")
    assert not (tmp_path / ".automl/runs/t").exists()
    assert "nope" not in _automl("list", cwd=tmp_path).stdout
    changed = spec(objective={"metric": "accuracy", "type": "maximize"},
                   budget={"max_trials": 1, "parallel_trials": 1})
    assert run(changed, tmp_path).status == "Succeeded"  # a new definition is welcome now


def test_watch_shows_a_finished_experiment_once_and_exits(tmp_path) -> None:
    run(spec(budget={"max_trials": 1, "parallel_trials": 1}), tmp_path)
    result = _automl("status", "t", "--watch", "--interval", "0.1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n--- ") + result.stdout.startswith("--- ") == 1
    assert "t: Succeeded" in result.stdout


def test_watch_follows_a_running_experiment_until_it_ends(tmp_path) -> None:
    from automl.local.lock import is_held
    from tests.conftest import REPO

    program = ("import sys; from pathlib import Path; from tests.local.helpers import run, spec; "
               "run(spec(args=['--sleep=0.4', '--epochs=3'], "
               "budget={'max_trials': 4, 'parallel_trials': 2}), Path(sys.argv[1]))")
    engine = subprocess.Popen([sys.executable, "-c", program, str(tmp_path)], cwd=REPO)
    try:
        lock = tmp_path / ".automl" / "runs" / "t" / ".lock"
        deadline = time.monotonic() + 60
        while not is_held(lock) and time.monotonic() < deadline:
            time.sleep(0.05)
        result = _automl("status", "t", "--watch", "--interval", "0.3", cwd=tmp_path)
    finally:
        engine.wait(timeout=60)
    assert result.returncode == 0, result.stderr
    views = result.stdout.split("--- ")[1:]
    assert len(views) >= 2
    assert "t: Running" in views[0] and "running" in views[0]
    assert "t: Succeeded" in views[-1] and "trials: 4 of 4" in views[-1]


def test_watch_needs_an_experiment(tmp_path) -> None:
    result = _automl("status", "--watch", cwd=tmp_path)
    assert result.returncode == 2 and "give the experiment to watch" in result.stderr
