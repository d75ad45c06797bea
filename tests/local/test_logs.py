"""automl logs on this machine, and the reasons that say why a trial failed."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import optuna
import pytest

import automl
from automl.backends import get_backend
from automl.errors import AutomlError
from automl.local.store import ATTR, open_storage

SPACE = {"x": {"type": "double", "min": 0, "max": 1}}


def _chatty(params: dict[str, str]) -> float:
    for i in range(30):
        print(f"line {i}")
    print("warning: on stderr", file=sys.stderr)
    return float(params["x"])


def _failing(params: dict[str, str]) -> float:
    print("about to fail", file=sys.stderr)
    raise ValueError("the data has no column 'label'")


def _tune(root: Path, function, name: str = "fn", trials: int = 2) -> None:
    automl.tune(name, function, SPACE, objective_metric_name="loss", objective_type="minimize",
                max_trial_count=trials, parallel_trial_count=1, root=root, progress=False,
                max_failed_trial_count=trials)


def _reasons(root: Path, name: str) -> list[str]:
    study = optuna.load_study(study_name=name, storage=open_storage(None, root, existing=True))
    return [t.user_attrs[ATTR]["reason"] for t in study.trials]


def test_logs_give_a_trials_stdout_its_stderr_and_the_last_lines(tmp_path) -> None:
    root = tmp_path / ".automl"
    _tune(root, _chatty)
    backend = get_backend("local", root=root)
    assert list(backend.logs("fn", "fn-0000"))[:2] == ["line 0", "line 1"]
    assert list(backend.logs("fn", "fn-0000", tail=2)) == ["line 29", "loss=" + str(
        float(list(backend.logs("fn", "fn-0000"))[-1].split("=")[1]))]
    assert list(backend.logs("fn", "fn-0001", stderr=True)) == ["warning: on stderr"]
    assert list(backend.logs("fn", "fn-0000", tail=0)) == []
    log = root / "runs" / "fn" / "fn-0000" / "stdout.log"
    log.write_text("a\nb\nc")  # the last line without its newline
    assert list(backend.logs("fn", "fn-0000", tail=2)) == ["b", "c"]


def test_a_wrong_experiment_or_trial_is_one_error_naming_the_trials(tmp_path) -> None:
    root = tmp_path / ".automl"
    _tune(root, _chatty)
    backend = get_backend("local", root=root)
    with pytest.raises(AutomlError, match=r"no trial 'fn-0009' in experiment 'fn' "
                                          r"\(2 trials, fn-0000 to fn-0001\)"):
        list(backend.logs("fn", "fn-0009"))
    with pytest.raises(AutomlError, match="no experiment 'other'"):
        list(backend.logs("other", "fn-0000"))
    with pytest.raises(AutomlError, match="trial name"):
        list(backend.logs("fn", "../../etc"))
    done = subprocess.run([sys.executable, "-m", "automl", "logs", "fn", "fn-0009"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: no trial 'fn-0009' in experiment 'fn' (2 trials, fn-0000 to fn-0001)"]


def test_follow_prints_lines_as_the_trial_writes_them_and_ends_with_it(tmp_path) -> None:
    root = tmp_path / ".automl"
    script = tmp_path / "slow.py"
    script.write_text("import sys, time\nfor i in range(5):\n    print(f'tick {i}', flush=True)"
                      "\n    time.sleep(0.3)\nprint('loss=' + sys.argv[1])\n")
    spec = automl.load({
        "name": "slow", "objective": {"metric": "loss", "type": "minimize"},
        "algorithm": {"name": "random"}, "budget": {"max_trials": 1, "parallel_trials": 1},
        "parameters": [{"name": "x", "type": "double", "min": 0, "max": 1}],
        "trial": {"command": [sys.executable, str(script), "${trialParameters.x}"]}})
    run = threading.Thread(target=automl.run, args=(spec,), kwargs={"root": root,
                                                                   "progress": False})
    run.start()
    folder = root / "runs" / "slow" / "slow-0000"
    while not folder.is_dir():
        threading.Event().wait(0.05)
    lines = list(get_backend("local", root=root).logs("slow", "slow-0000", follow=True))
    run.join()
    assert lines[:5] == [f"tick {i}" for i in range(5)]
    assert lines[5].startswith("loss=")


def test_a_failed_trials_reason_ends_with_its_last_stderr_lines_and_its_log(tmp_path) -> None:
    root = tmp_path / ".automl"
    _tune(root, _failing, trials=1)
    [reason] = _reasons(root, "fn")
    assert "exit status 1; stderr: " in reason
    assert "ValueError: the data has no column 'label'" in reason
    assert reason.endswith(f"log: {root / 'runs' / 'fn' / 'fn-0000' / 'stderr.log'}")


def test_a_trial_that_never_reported_the_objective_says_what_it_reported(tmp_path) -> None:
    spec = automl.load({
        "name": "names", "objective": {"metric": "acc", "type": "maximize"},
        "algorithm": {"name": "random"}, "budget": {"max_trials": 1, "parallel_trials": 1,
                                                    "max_failed_trials": 1},
        "parameters": [{"name": "x", "type": "double", "min": 0, "max": 1}],
        "trial": {"command": [sys.executable, "-c",
                              "print('accuracy=0.9'); print('val-loss = 0.3')",
                              "${trialParameters.x}"]}})
    automl.run(spec, root=tmp_path / ".automl", progress=False)
    [reason] = _reasons(tmp_path / ".automl", "names")
    assert reason == ("the trial exited 0 but never reported acc (it reported accuracy, "
                      "val-loss)")
