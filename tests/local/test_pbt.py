"""pbt with real trial processes: checkpoints handed from parent to child, failures, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import automl
from automl.local.schedule import TAG
from automl.local.store import ATTR
from tests.conftest import needs_katib
from tests.local.helpers import records, run, spec, study_trials

PBT_TRIAL = str(Path(__file__).resolve().parents[1] / "data" / "pbt_trial.py")
KATIB_DIR = "/var/log/katib/checkpoints/"


def _pbt(max_trials: int = 16, parallel: int = 2, extra: list[str] | None = None,
         **settings) -> dict:
    return {
        "name": "pop",
        "objective": {"metric": "Validation-accuracy", "type": "maximize"},
        "algorithm": {"name": "pbt", "settings": {
            "suggestion_trial_dir": KATIB_DIR, "n_population": 5,
            "truncation_threshold": 0.2, **settings}},
        "budget": {"max_trials": max_trials, "parallel_trials": parallel},
        "resume_policy": "FromVolume",
        "parameters": [{"name": "lr", "type": "double", "min": 0.0001, "max": 0.02,
                        "step": 0.0001}],
        # Katib's simple-pbt arguments: the checkpoint path is the one Katib mounts
        "trial": {"command": [sys.executable, PBT_TRIAL, "--epochs=2",
                              "--lr=${trialParameters.lr}", f"--checkpoint={KATIB_DIR}",
                              *(extra or [])]},
    }


def _checkpoint(root: Path, trial: str) -> dict:
    path = root / ".automl" / "runs" / "pop" / trial / "checkpoint" / "training.ckpt"
    return json.loads(path.read_text())


def test_each_child_starts_from_a_copy_of_its_parents_checkpoint(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    summary = run(spec(**_pbt()), tmp_path, seed=0)
    assert summary.status == "Succeeded"
    rows = records(tmp_path, "pop")
    assert len(rows) == 16 and {r["status"] for r in rows} == {"Succeeded"}
    children = [r for r in rows if r["pbt"]["parent"] is not None]
    assert children, "a second generation should have run"
    for row in rows:
        lineage = _checkpoint(tmp_path, row["name"])["trials"]
        parent = row["pbt"]["parent"]
        if parent is None:
            assert row["pbt"]["generation"] == 0 and lineage == [row["name"]]
        else:  # the parent's checkpoint, then this trial's own training
            assert lineage == _checkpoint(tmp_path, parent)["trials"] + [row["name"]]
            assert row["pbt"]["generation"] >= 1
    # the parent's own checkpoint is untouched by its children
    for row in children:
        assert _checkpoint(tmp_path, row["pbt"]["parent"])["trials"][-1] == row["pbt"]["parent"]
    assert not Path(KATIB_DIR).exists() or not any(Path(KATIB_DIR).iterdir())


def test_the_trials_table_shows_generation_parent_and_curves_that_go_on(tmp_path,
                                                                          monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    run(spec(**_pbt()), tmp_path, seed=0)
    results = automl.load_results("pop", storage=str(tmp_path / ".automl" / "studies.journal"))
    trials = results.trials
    assert list(trials.columns[4:7]) == ["params.lr", "generation", "parent"]
    child = trials[trials["parent"].notna()].iloc[-1]
    parent = trials[trials["trial"] == child["parent"]].iloc[0]
    assert child["generation"] >= 1
    from automl.results.lineage import continued_steps

    steps = continued_steps(trials, results.observations)
    own = steps[steps["trial"] == child["trial"]]["step"].min()
    before = steps[steps["trial"] == parent["trial"]]["step"].max()
    assert own == before + 1  # the child's first report follows its parent's last


def test_a_failed_trial_is_queued_again_with_its_values_generation_and_parent(
        tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    # trials with lr below 0.004 exit 1: Katib's service queues each again, unchanged
    experiment = _pbt(max_trials=14, extra=["--fail-below=0.004"])
    run(spec(**experiment), tmp_path, seed=1)
    rows = records(tmp_path, "pop")
    failed = [r for r in rows if r["status"] == "Failed"]
    assert failed
    state = _state(tmp_path)
    for row in failed:
        # the last trials may end after the population's last request: not yet seen by it
        assert _queued_again(row, rows, state) or row["name"] in state["running"], row["name"]
    assert any(_queued_again(row, rows, state) for row in failed)


def test_a_fifo_and_a_dangling_link_in_a_parents_checkpoint_never_fail_its_children(
        tmp_path, monkeypatch, caplog) -> None:
    monkeypatch.chdir(tmp_path)
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / "big.bin").write_bytes(b"x" * 1000)
    # every trial leaves them in its checkpoint: each child finds its parent's
    summary = run(spec(**_pbt(max_trials=10, extra=[f"--leave={dataset}"])), tmp_path, seed=0)
    assert summary.status == "Succeeded"
    rows = records(tmp_path, "pop")
    assert {r["status"] for r in rows} == {"Succeeded"}
    children = [r for r in rows if r["pbt"]["parent"] is not None]
    assert children, "a second generation should have run"
    runs = tmp_path / ".automl" / "runs" / "pop"
    for row in children:
        folder = runs / row["name"] / "checkpoint"
        assert _checkpoint(tmp_path, row["name"])["trials"][-1] == row["name"]
        assert os.readlink(folder / "dangling") == "/nonexistent/automl-test"
        assert os.readlink(folder / "data") == str(dataset)  # a link, not a copy in full
        # the child's own trial made a FIFO again after it started without its parent's
        parent_pipe = runs / row["pbt"]["parent"] / "checkpoint" / "pipe"
        assert f"not copied: {parent_pipe}: a FIFO, not a file" in caplog.messages


def _queued_again(row: dict, rows: list[dict], state: dict) -> bool:
    """Whether ``row``'s job ran again later, or waits its turn in the saved queue."""
    origin = (row["params"], row["pbt"]["generation"], row["pbt"]["parent"])
    later = [r for r in rows if r["name"] > row["name"]
             and (r["params"], r["pbt"]["generation"], r["pbt"]["parent"]) == origin]
    waiting = [j for j in state["pending"]
               if (j["params"], j["generation"], j["parent"]) == origin]
    return bool(later or waiting)


# ---- kill -9 and resume, with the CLI in a process of its own ------------------------------

def test_kill_9_mid_generation_resumes_the_population_with_nothing_lost_or_run_twice(
        tmp_path) -> None:
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump(
        _pbt(max_trials=14, extra=["--sleep=0.3"])))
    command = [sys.executable, "-m", "automl", "run", "exp.yaml", "-q", "--seed", "2"]
    engine = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    # past the first generation: children run when the engine dies
    while time.time() < deadline and not any(
            t.user_attrs.get(TAG, {}).get("parent") for t in study_trials(tmp_path, "pop")):
        time.sleep(0.05)
    engine.send_signal(signal.SIGKILL)
    engine.wait(timeout=10)
    before = {t.number: t.user_attrs[ATTR] for t in study_trials(tmp_path, "pop")
              if t.state.is_finished()}
    cut = [t for t in study_trials(tmp_path, "pop") if not t.state.is_finished()]
    assert cut, "trials should have been running when the engine was killed"

    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = [t.user_attrs[ATTR] for t in study_trials(tmp_path, "pop")]
    for number, record in before.items():
        assert rows[number] == record  # finished trials kept as they were
    interrupted = [rows[t.number] for t in cut]
    assert all(r["status"] == "Failed" and r["reason"].startswith("interrupted")
               for r in interrupted)
    # each cut trial's job runs again (the same values, generation and parent) or waits
    state = _state(tmp_path)
    assert all(_queued_again(row, rows, state) for row in interrupted)
    # no job ran twice but those queued again, and every child's checkpoint is its parent's
    jobs = [r["pbt"]["job"] for r in rows if r["status"] != "Failed"]
    assert len(jobs) == len(set(jobs))
    for row in rows:
        if row["status"] == "Succeeded" and row["pbt"]["parent"] is not None:
            assert _checkpoint(tmp_path, row["name"])["trials"] == _checkpoint(
                tmp_path, row["pbt"]["parent"])["trials"] + [row["name"]]
    # the saved population knows every trial it started: done, or ended after its last
    # request (a trial cut between its creation and its start never joined it)
    known = set(state["done"]) | set(state["running"])
    assert known >= {r["name"] for r in rows if r not in interrupted}


def _state(root: Path) -> dict:
    return json.loads((root / ".automl" / "runs" / "pop" / "pbt.json").read_text())


@needs_katib
def test_katibs_simple_pbt_example_imports_and_runs_here(tmp_path, monkeypatch) -> None:
    from automl.spec.trial import LocalTrial
    from tests.conftest import KATIB

    # Katib's webhook refuses the example as published (maxFailedTrialCount 3 > maxTrialCount
    # 2): with its budget fixed it is accepted
    original = yaml.safe_load((KATIB / "examples/hp-tuning/simple-pbt.yaml").read_text())
    original["spec"]["maxFailedTrialCount"] = 2
    katib = automl.from_katib(original)
    # the stand-in takes the example's own arguments; only the program differs from the image's
    assert katib.trial.command[:2] == ["python3", "/opt/pbt/pbt_test.py"]
    args = [a.replace("--epochs=20", "--epochs=3") for a in katib.trial.command[2:]]
    local = LocalTrial(command=[sys.executable, PBT_TRIAL, *args])
    experiment = automl.load(katib.model_copy(update={
        "trial": katib.trial.model_copy(update={"local": local})}))
    monkeypatch.chdir(tmp_path)
    summary = run(experiment, tmp_path, seed=0)
    assert (summary.status, summary.counts) == ("Succeeded", {"Succeeded": 2})
    for row in records(tmp_path, "simple-pbt"):
        assert row["pbt"] == {"generation": 0, "parent": None, "job": row["pbt"]["job"]}
        assert float(row["params"]["lr"]) * 10000 == pytest.approx(
            round(float(row["params"]["lr"]) * 10000))  # on the 0.0001 grid
        saved = (tmp_path / ".automl" / "runs" / "simple-pbt" / row["name"] / "checkpoint"
                 / "training.ckpt")
        assert json.loads(saved.read_text())["step"] == 4  # 3 epochs from step 1


def test_a_new_study_of_the_same_name_starts_a_new_population(tmp_path, monkeypatch) -> None:
    # the runs folder outlives a deleted study: its saved population belongs to the old one
    monkeypatch.chdir(tmp_path)
    run(spec(**_pbt(max_trials=8)), tmp_path, seed=0)
    (tmp_path / ".automl" / "studies.journal").unlink()
    summary = run(spec(**_pbt(max_trials=5)), tmp_path, seed=0)
    assert summary.counts == {"Succeeded": 5}
    rows = records(tmp_path, "pop")
    assert [r["pbt"]["generation"] for r in rows] == [0] * 5
    assert all(_checkpoint(tmp_path, r["name"])["trials"] == [r["name"]] for r in rows)
