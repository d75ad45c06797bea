"""The tuning step's function on its own: a DARTS run, whose objective is a genotype text."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from automl.pipelines.step import run_tuning
from tests.local.helpers import darts

GENOTYPE = "Genotype(normal=[[('skip_connection',0)]],normal_concat=range(2,3))"
PRINT = f'print("Best-Genotype={GENOTYPE}"); print("Validation-Accuracy=0.75")'


def test_a_darts_step_hands_on_the_genotype_and_writes_it_in_the_summary(tmp_path: Path):
    spec = darts("darts-step", [sys.executable, "-c", PRINT])
    result = run_tuning(spec.model_dump_json(by_alias=True), trials_path=tmp_path / "t.csv",
                        tensorboard_dir=tmp_path / "tb", summary_path=tmp_path / "s.md",
                        root=tmp_path / "root")

    assert result.objective == GENOTYPE
    assert set(result.best_params) == {"algorithm-settings", "search-space", "num-layers"}
    assert f"Best-Genotype = `{GENOTYPE}`" in (tmp_path / "s.md").read_text()
    trials = pd.read_csv(tmp_path / "t.csv")
    assert trials["architecture"].tolist() == [GENOTYPE]
    assert trials["metrics.Validation-Accuracy"].tolist() == [0.75]


def test_a_trial_name_that_would_leave_the_logs_folder_is_refused(tmp_path: Path) -> None:
    """Trial names come from the study (a shared database may hold any): each trial's logs
    folder is joined under logs_dir, never outside it. The backend and results are stand-ins
    with the two attributes the step reads."""
    from types import SimpleNamespace

    import pytest

    from automl._fs import PathEscape
    from automl.pipelines.step import _keep_logs

    backend = SimpleNamespace(logs=lambda name, trial, stderr: iter(["loss=0.5"]))
    logs = tmp_path / "out" / "logs"
    kept = SimpleNamespace(name="t", trials=pd.DataFrame({"trial": ["t-0001"]}))
    _keep_logs(backend, kept, logs)
    assert (logs / "t-0001" / "stdout.log").read_text() == "loss=0.5\n"
    for name in ("../../escape", str(tmp_path / "elsewhere")):
        hostile = SimpleNamespace(name="t", trials=pd.DataFrame({"trial": [name]}))
        with pytest.raises(PathEscape, match="trial name"):
            _keep_logs(backend, hostile, logs)
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "logs", "out", "stderr.log", "stdout.log", "t-0001"]
