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
