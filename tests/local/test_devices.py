"""GPUs per trial: each running trial its own devices, never more trials than they allow.

The machine has no GPU: the tests give the engine devices through ``CUDA_VISIBLE_DEVICES``,
the variable that says which devices a process may use, and check what each trial was given.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import automl
from automl.errors import AutomlError
from automl.local.devices import DevicePool, gpus_per_trial, visible_gpus
from automl.spec import SpecError
from tests.local.helpers import run, spec

PROGRAM = """\
import json, os, sys, time
start = time.monotonic()
time.sleep(0.4)
with open(sys.argv[1], "a") as log:
    log.write(json.dumps({"devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
                          "start": start, "end": time.monotonic()}) + "\\n")
print("loss=1")
"""


def _gpu_experiment(tmp_path: Path, gpus: str, parallel: int, trials: int = 6):
    program = tmp_path / "gpu_trial.py"
    program.write_text(PROGRAM)
    log = tmp_path / "seen.jsonl"
    experiment = spec(budget={"max_trials": trials, "parallel_trials": parallel},
                      trial={"command": [sys.executable, str(program), str(log),
                                         "--x=${trialParameters.x}", "--y=${trialParameters.y}"],
                             "resources": {"limits": {"nvidia.com/gpu": gpus}}})
    return experiment, log


def _seen(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def _overlapping(a: dict, b: dict) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def test_each_running_trial_holds_devices_no_other_running_trial_holds(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2")
    experiment, log = _gpu_experiment(tmp_path, "1", parallel=3)
    summary = run(experiment, tmp_path)
    assert summary.counts == {"Succeeded": 6}
    seen = _seen(log)
    assert {s["devices"] for s in seen} <= {"0", "1", "2"}
    for i, a in enumerate(seen):
        for b in seen[i + 1:]:
            if _overlapping(a, b):
                assert a["devices"] != b["devices"], (a, b)
    assert any(_overlapping(a, b) for i, a in enumerate(seen) for b in seen[i + 1:])


def test_trials_run_no_more_at_once_than_the_devices_allow(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,7,9")
    experiment, log = _gpu_experiment(tmp_path, "2", parallel=3, trials=3)
    summary = run(experiment, tmp_path)
    assert summary.counts == {"Succeeded": 3}
    seen = _seen(log)
    for s in seen:  # two of the three devices each: one slot, one device left over
        devices = s["devices"].split(",")
        assert len(set(devices)) == 2 and set(devices) <= {"4", "7", "9"}
    assert not any(_overlapping(a, b) for i, a in enumerate(seen) for b in seen[i + 1:])


def test_a_trial_asking_more_gpus_than_the_machine_shows_is_refused_before_it_runs(
        tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    experiment, log = _gpu_experiment(tmp_path, "2", parallel=1)
    with pytest.raises(AutomlError, match=r"asks for 2 nvidia.com/gpu .* shows 1 GPU"):
        run(experiment, tmp_path)
    assert not log.exists()


def test_a_trial_asking_no_gpu_keeps_the_environment_it_inherits(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    experiment, log = _gpu_experiment(tmp_path, "0", parallel=2, trials=2)
    run(experiment, tmp_path)
    assert [s["devices"] for s in _seen(log)] == ["3", "3"]


@pytest.mark.parametrize(("environ", "expected"), [
    ({"CUDA_VISIBLE_DEVICES": "0, 2"}, ["0", "2"]),
    ({"CUDA_VISIBLE_DEVICES": ""}, []),
    ({"CUDA_VISIBLE_DEVICES": "-1"}, []),
    ({"CUDA_VISIBLE_DEVICES": "GPU-5d2e,GPU-77aa"}, ["GPU-5d2e", "GPU-77aa"]),
])
def test_visible_gpus_reads_cuda_visible_devices_as_cuda_does(environ, expected):
    assert visible_gpus(environ) == expected


def test_gpus_per_trial_reads_the_primary_container_of_a_trial_spec():
    experiment = automl.load({
        "name": "g", "objective": {"metric": "loss", "type": "minimize"},
        "parameters": [{"name": "x", "type": "double", "min": 0, "max": 1}],
        "trial": {"trial_spec": {
            "apiVersion": "batch/v1", "kind": "Job",
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "sidecar", "image": "busybox",
                 "resources": {"limits": {"nvidia.com/gpu": "4"}}},
                {"name": "training-container", "image": "python:3.11-slim",
                 "command": ["python", "-c", "print(${trialParameters.x})"],
                 "resources": {"requests": {"nvidia.com/gpu": "2"}}}]}}}}}})
    assert gpus_per_trial(experiment) == 2


def _objective(parameters):
    return float(parameters["x"])


def test_tune_resources_per_trial_become_requests_and_limits_as_katib_client_writes_them():
    yaml_text = automl.tune("g", _objective, {"x": {"type": "double", "min": 0, "max": 1}},
                            resources_per_trial={"gpu": 1, "cpu": "2"}, dry_run=True)
    import yaml

    job = yaml.safe_load(yaml_text)["spec"]["trialTemplate"]["trialSpec"]
    resources = job["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources == {"limits": {"nvidia.com/gpu": "1", "cpu": "2"},
                         "requests": {"nvidia.com/gpu": "1", "cpu": "2"}}


def test_a_fractional_gpu_count_is_refused_with_its_field():
    fractional = spec(trial={"command": ["python", "t.py"],
                             "resources": {"limits": {"nvidia.com/gpu": "0.5"}}})
    with pytest.raises(SpecError, match=r"nvidia.com/gpu.*whole number of GPUs, got '0.5'"):
        automl.load(fractional)


def test_the_pool_gives_devices_back_when_a_trial_ends():
    pool = DevicePool(["0", "1"], 1)
    first, second = pool.take(), pool.take()
    assert (first, second, pool.limit(2)) == (["0"], ["1"], 0)
    pool.give(first)
    assert pool.limit(2) == 1
    assert pool.environment(pool.take()) == {"CUDA_VISIBLE_DEVICES": "0"}
