"""A hyperband run stopped in a rung (SIGTERM, kill -9) runs that rung again when resumed,
within a max_trials sized for the schedule: the trials the stop cut count toward no budget."""

from __future__ import annotations

import signal
import sys
import textwrap
from pathlib import Path

import optuna
import pytest
import yaml

from automl.local.hyperband import Hyperband
from automl.local.schedule import TAG
from automl.local.store import ATTR
from automl.spec import ExperimentSpec
from automl.state.cut import INTERRUPTED, cut_short
from tests.faults.helpers import run_to_end, stopped_when, trial_processes, wait_until
from tests.local.helpers import study_trials

# Blocks while the file ``hold-<its resource>`` exists, so that the test signals the engine
# while a rung's trials run, and the resumed run is quick.
_TRIAL = textwrap.dedent("""
    import os, sys, time
    x, epochs, hold = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    deadline = time.monotonic() + 60
    while os.path.exists(f"{hold}-{epochs}") and time.monotonic() < deadline:
        time.sleep(0.02)
    print(f"loss={(x - 0.3) ** 2 / epochs}")
""")


def _experiment(folder: Path, r_l: int, parallel: int) -> dict[tuple[int, int], int]:
    """A hyperband experiment whose max_trials is its schedule's size; its plan's rung sizes."""
    data = {
        "name": "hb",
        "objective": {"metric": "loss", "type": "minimize"},
        "algorithm": {"name": "hyperband",
                      "settings": {"resource_name": "y", "eta": 2, "r_l": r_l}},
        "budget": {"max_trials": 1, "parallel_trials": parallel},
        "parameters": [{"name": "x", "type": "double", "min": 0.0, "max": 1.0},
                       {"name": "y", "type": "int", "min": 1, "max": 1}],
        "trial": {"command": [sys.executable, str(folder / "trial.py"),
                              "${trialParameters.x}", "${trialParameters.y}",
                              str(folder / "hold")]},
    }
    plan = Hyperband(ExperimentSpec.model_validate(data)).plan
    data["budget"]["max_trials"] = sum(r.size for r in plan)
    (folder / "trial.py").write_text(_TRIAL)
    (folder / "exp.yaml").write_text(yaml.safe_dump(data))
    return {(r.bracket, r.rung): r.size for r in plan}


def _running_rungs(folder: Path) -> list[tuple[int, int]]:
    """(bracket, rung) of each trial recorded as running."""
    return [(t.user_attrs[TAG]["bracket"], t.user_attrs[TAG]["rung"])
            for t in study_trials(folder, "hb")
            if t.state == optuna.trial.TrialState.RUNNING and TAG in t.user_attrs]


def _held(folder: Path, rungs: list[tuple[int, int]]) -> bool:
    """Whether exactly the trials of ``rungs`` run, each held in its process."""
    return (sorted(_running_rungs(folder)) == sorted(rungs)
            and len(_trial_pids(folder)) == len(rungs))


def _every_rung_ran(folder: Path, plan: dict[tuple[int, int], int]) -> list[dict]:
    """The records of the trials cut short, after checking that every planned trial of every
    rung Succeeded and each promoted rung ran the best configurations of the rung before."""
    rows = [t.user_attrs[ATTR] for t in study_trials(folder, "hb")]
    kept = [r for r in rows if not cut_short(r)]
    ran = {key: [r for r in kept if tuple(r["hyperband"].values()) == key] for key in plan}
    assert {key: len(found) for key, found in ran.items()} == plan
    assert all(r["status"] == "Succeeded" for r in kept)
    for (bracket, rung), found in ran.items():
        if rung:
            before = sorted(ran[(bracket, rung - 1)], key=lambda r: r["objective"])
            assert sorted(r["params"]["x"] for r in found) == sorted(
                r["params"]["x"] for r in before[:len(found)])
    return [r for r in rows if cut_short(r)]


# eta 2, r_l 2, 2 parallel: bracket 1 runs 2 configurations at resource 1, then the best one
# at 2; bracket 0 runs 2 new ones at 2. Held at resource 2, the promoted trial runs beside
# bracket 0's first (a free slot takes it). A SIGTERM records the cut trials Killed, a kill -9
# leaves them to the next run's Failed.
@pytest.mark.parametrize(("stop", "status", "held", "cut_rungs"), [
    (signal.SIGTERM, "Killed", 1, [(1, 0), (1, 0)]),
    (signal.SIGKILL, "Failed", 2, [(1, 1), (0, 0)])],
    ids=["sigterm-first-rung", "kill-9-promoted-rung"])
def test_a_resumed_hyperband_run_runs_every_rung_the_stop_cut(tmp_path, stop, status, held,
                                                             cut_rungs) -> None:
    plan = _experiment(tmp_path, r_l=2, parallel=2)
    assert plan == {(1, 0): 2, (1, 1): 1, (0, 0): 2}
    (tmp_path / f"hold-{held}").touch()
    # the rung's trials run (are recorded as running) and are held in it
    code = stopped_when(tmp_path, lambda: _held(tmp_path, cut_rungs), stop)
    assert code == (143 if stop == signal.SIGTERM else -9)
    assert wait_until(lambda: not _trial_pids(tmp_path), timeout=10)

    (tmp_path / f"hold-{held}").unlink()
    assert run_to_end(tmp_path) == (
        "hb: Succeeded (ExperimentMaxTrialsReached: 5 trials completed (2 more cut short by a "
        f"stopped engine, not counted)); trials: 2 {status}, 5 Succeeded")
    cut = _every_rung_ran(tmp_path, plan)
    # the trials the stop cut, kept as they were recorded
    assert [(r["hyperband"]["bracket"], r["hyperband"]["rung"]) for r in cut] == cut_rungs


def test_hyperband_killed_twice_mid_rung_still_runs_every_rung_within_its_budget(
        tmp_path) -> None:
    """The review's scenario: r_l 4, eta 2, 4 parallel, max_trials 17 (the schedule's size);
    kill -9 in bracket 2's second rung, kill -9 of the resumed run with four trials at the
    top resource, then the run to its end."""
    plan = _experiment(tmp_path, r_l=4, parallel=4)
    assert plan == {(2, 0): 4, (2, 1): 2, (2, 2): 1, (1, 0): 4, (1, 1): 2, (0, 0): 4}
    (tmp_path / "hold-2").touch()
    # bracket 2's first rung ran; its second (resource 2) runs, its third waits for it
    assert stopped_when(tmp_path, lambda: _held(tmp_path, [(2, 1), (2, 1)]),
                        signal.SIGKILL) == -9
    assert wait_until(lambda: not _trial_pids(tmp_path), timeout=10)

    (tmp_path / "hold-2").unlink()
    (tmp_path / "hold-4").touch()
    top = {(2, 2), (1, 1), (0, 0)}  # the rungs at resource 4
    assert stopped_when(tmp_path, lambda: len(_trial_pids(tmp_path)) == 4
                        and set(_running_rungs(tmp_path)) <= top
                        and len(_running_rungs(tmp_path)) == 4, signal.SIGKILL) == -9
    assert wait_until(lambda: not _trial_pids(tmp_path), timeout=10)

    (tmp_path / "hold-4").unlink()
    assert run_to_end(tmp_path) == (
        "hb: Succeeded (ExperimentMaxTrialsReached: 17 trials completed (6 more cut short by "
        "a stopped engine, not counted)); trials: 6 Failed, 17 Succeeded")
    cut = _every_rung_ran(tmp_path, plan)
    assert [(r["status"], r["reason"]) for r in cut] == [("Failed", INTERRUPTED)] * 6


def _trial_pids(folder: Path) -> list[int]:
    return trial_processes(folder, folder / "trial.py")
