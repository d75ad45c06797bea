"""``automl run --backend katib`` through the real Katib: its webhook, controller, goptuna
suggestion service, DB manager and metrics collector (trials run by the stand-in kubelet)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cluster.control_plane import ControlPlane

pytestmark = pytest.mark.cluster

TRIAL = """import sys
x = float(sys.argv[1].split("=", 1)[1])
print(f"loss={(x - 0.3) ** 2:.6f}")
"""


def _automl(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automl", *args], capture_output=True,
                          text=True, timeout=timeout, env=os.environ.copy())


def _experiment(tmp_path: Path, algorithm: str) -> Path:
    trial = tmp_path / "trial.py"
    trial.write_text(TRIAL)
    trial.chmod(0o644)
    path = tmp_path / "experiment.yaml"
    path.write_text(f"""name: cluster-{algorithm}
objective: {{metric: loss, type: minimize}}
algorithm: {{name: {algorithm}}}
budget: {{max_trials: 3, parallel_trials: 3}}
parameters:
  - {{name: x, type: double, min: -1, max: 1}}
trial:
  image: python:3.11-slim
  command: [python3, {trial}, "--x=${{trialParameters.x}}"]
  metrics_collector: {{kind: StdOut}}
""")
    return path


def test_run_random_succeeds_and_trials_show_the_printed_losses(
        cluster: ControlPlane, katib_namespace: str, tmp_path: Path) -> None:
    ran = _automl("run", str(_experiment(tmp_path, "random")), "--backend", "katib",
                  "--poll", "0.5", "--quiet")
    assert ran.returncode == 0, ran.stderr + ran.stdout
    assert "cluster-random: Succeeded" in ran.stdout

    shown = _automl("trials", "cluster-random", "--backend", "katib", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    assert len(rows) == 3
    for row in rows:
        assert row["status"] == "Succeeded"
        assert row["objective"] == float(f"{(row['params.x'] - 0.3) ** 2:.6f}")
