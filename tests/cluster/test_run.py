"""``automl run --backend katib`` through the real Katib: its webhook, controller, goptuna
suggestion service, DB manager and metrics collector (trials run by the stand-in kubelet)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cluster.control_plane import ControlPlane

pytestmark = pytest.mark.cluster

TRIAL = """import sys
x, y = (float(arg.split("=", 1)[1]) for arg in sys.argv[1:3])
print(f"loss={(x - 0.3) ** 2 + (y + 0.2) ** 2:.6f}")
"""


def _automl(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automl", *args], capture_output=True,
                          text=True, timeout=timeout, env=os.environ.copy())


def _experiment(tmp_path: Path, algorithm: str, program: str = TRIAL,
                budget: str = "{max_trials: 3, parallel_trials: 3}") -> tuple[Path, str]:
    """An experiment file over x and y whose trial runs ``program`` (a Python script), and
    its name.

    Every experiment of the session has a name of its own: Katib 0.19's suggestion
    controller lists an experiment's trials by its name label in every namespace, so a
    same-named experiment elsewhere feeds its trials to this one's suggestion service
    (which then fails: "Same parameter is not found for Trial").
    """
    name = f"{algorithm}-{secrets.token_hex(3)}"
    trial = tmp_path / "trial.py"
    trial.write_text(program)
    path = tmp_path / "experiment.yaml"
    path.write_text(f"""name: {name}
objective: {{metric: loss, type: minimize}}
algorithm: {{name: {algorithm}}}
budget: {budget}
parameters:
  - {{name: x, type: double, min: -1, max: 1}}
  - {{name: y, type: double, min: -1, max: 1}}
trial:
  image: python:3.11-slim
  command: [python3, {trial}, "--x=${{trialParameters.x}}", "--y=${{trialParameters.y}}"]
  metrics_collector: {{kind: StdOut}}
""")
    return path, name


@pytest.mark.parametrize("algorithm", ["random", "tpe", "cmaes", "sobol"])
def test_run_succeeds_and_trials_show_the_printed_losses(
        cluster: ControlPlane, katib_namespace: str, tmp_path: Path, algorithm: str) -> None:
    experiment, name = _experiment(tmp_path, algorithm)
    ran = _automl("run", str(experiment), "--backend", "katib", "--poll", "0.5", "--quiet")
    assert ran.returncode == 0, ran.stderr + ran.stdout
    assert f"{name}: Succeeded" in ran.stdout

    shown = _automl("trials", name, "--backend", "katib", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    assert len(rows) == 3
    for row in rows:
        assert row["status"] == "Succeeded"
        loss = (row["params.x"] - 0.3) ** 2 + (row["params.y"] + 0.2) ** 2
        assert row["objective"] == float(f"{loss:.6f}")


def test_a_trial_that_exits_1_fails_its_job_and_the_experiment(
        cluster: ControlPlane, katib_namespace: str, tmp_path: Path) -> None:
    """The Job fails after its backoff limit (7 runs of the pod), Katib marks the trial
    Failed, and with max_failed_trials 0 the experiment fails: automl run exits 1."""
    experiment, name = _experiment(
        tmp_path, "random", program="import sys\nsys.exit(1)\n",
        budget="{max_trials: 1, parallel_trials: 1, max_failed_trials: 0}")
    ran = _automl("run", str(experiment), "--backend", "katib", "--poll", "0.5", "--quiet")
    assert ran.returncode == 1, ran.stderr + ran.stdout
    assert f"{name}: Failed" in ran.stdout + ran.stderr
    shown = _automl("trials", name, "--backend", "katib", "--format", "json")
    assert [row["status"] for row in json.loads(shown.stdout)] == ["Failed"]
    pods = list((cluster.folder / "pods" / katib_namespace).iterdir())
    assert len(pods) == 7
