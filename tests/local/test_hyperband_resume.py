"""A hyperband run stopped in a rung (SIGTERM, kill -9) runs that rung again when resumed."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pytest
import yaml

from automl.local.conclusion import cut_short
from automl.local.schedule import TAG
from automl.local.store import ATTR
from tests.faults.helpers import alive, wait_until
from tests.local.helpers import study_trials

# Blocks while the file ``hold`` exists when its resource is the one held, so that the test
# signals the engine while that rung's trials run, and the resumed run is quick.
_TRIAL = textwrap.dedent("""
    import os, sys, time
    x, epochs, hold, held = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    deadline = time.monotonic() + 60
    while epochs == held and os.path.exists(hold) and time.monotonic() < deadline:
        time.sleep(0.02)
    print(f"loss={(x - 0.3) ** 2 / epochs}")
""")
# eta 2, r_l 2, 2 parallel: bracket 1 runs 2 configurations at resource 1, then the best one
# at 2; bracket 0 runs 2 new ones at 2.
PLAN = {(1, 0): 2, (1, 1): 1, (0, 0): 2}


def _experiment(folder: Path, held: int) -> None:
    (folder / "trial.py").write_text(_TRIAL)
    (folder / "hold").touch()
    (folder / "exp.yaml").write_text(yaml.safe_dump({
        "name": "hb",
        "objective": {"metric": "loss", "type": "minimize"},
        "algorithm": {"name": "hyperband",
                      "settings": {"resource_name": "y", "eta": 2, "r_l": 2}},
        "budget": {"max_trials": 20, "parallel_trials": 2},
        "parameters": [{"name": "x", "type": "double", "min": 0.0, "max": 1.0},
                       {"name": "y", "type": "int", "min": 1, "max": 1}],
        "trial": {"command": [sys.executable, str(folder / "trial.py"),
                              "${trialParameters.x}", "${trialParameters.y}",
                              str(folder / "hold"), str(held)]},
    }))


def _running_rungs(folder: Path) -> list[tuple[int, int]]:
    """(bracket, rung) of each trial recorded as running."""
    return [(t.user_attrs[TAG]["bracket"], t.user_attrs[TAG]["rung"])
            for t in study_trials(folder, "hb")
            if t.state == optuna.trial.TrialState.RUNNING and TAG in t.user_attrs]


# Held at resource 2, the promoted trial runs beside bracket 0's first (a free slot takes it).
# A SIGTERM records the cut trials Killed, a kill -9 leaves them to the next run's Failed.
@pytest.mark.parametrize(("stop", "held", "cut_rungs"), [
    (signal.SIGTERM, 1, [(1, 0), (1, 0)]), (signal.SIGKILL, 2, [(1, 1), (0, 0)])],
    ids=["sigterm-first-rung", "kill-9-promoted-rung"])
def test_a_resumed_hyperband_run_runs_every_rung_the_stop_cut(tmp_path, stop, held,
                                                             cut_rungs) -> None:
    _experiment(tmp_path, held)
    argv = [sys.executable, "-m", "automl", "run", "exp.yaml", "-q"]
    engine = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        # the rung's trials run (are recorded as running) and are held in it
        assert wait_until(lambda: _running_rungs(tmp_path) == cut_rungs, timeout=60)
        assert wait_until(lambda: len(_trial_pids(tmp_path)) == len(cut_rungs), timeout=10)
        engine.send_signal(stop)
        engine.communicate(timeout=30)
    finally:
        if engine.poll() is None:
            engine.kill()
            engine.wait()
    assert engine.returncode == (143 if stop == signal.SIGTERM else -9)
    assert wait_until(lambda: not any(alive(p) for p in _trial_pids(tmp_path)), timeout=10)

    (tmp_path / "hold").unlink()
    result = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "hb: Succeeded (ExperimentSuggestionEndReached: hyperband ran every bracket)")
    rows = [t.user_attrs[ATTR] for t in study_trials(tmp_path, "hb")]
    cut = [r for r in rows if cut_short(r)]
    # the trials the stop cut, kept as they were recorded
    assert [(r["hyperband"]["bracket"], r["hyperband"]["rung"]) for r in cut] == cut_rungs
    kept = [r for r in rows if not cut_short(r)]
    ran = {key: [r for r in kept if tuple(r["hyperband"].values()) == key] for key in PLAN}
    assert {key: len(found) for key, found in ran.items()} == PLAN
    assert all(r["status"] == "Succeeded" for r in kept)
    best = min(ran[(1, 0)], key=lambda r: r["objective"])
    assert ran[(1, 1)][0]["params"]["x"] == best["params"]["x"]
    assert [r["params"]["y"] for r in ran[(1, 1)] + ran[(0, 0)]] == ["2"] * 3


def _trial_pids(folder: Path) -> list[int]:
    script = str(folder / "trial.py").encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if script in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found
