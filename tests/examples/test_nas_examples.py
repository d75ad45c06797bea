"""Run the NAS examples (examples/nas-enas, examples/nas-darts) with their budget shrunk.

They train PyTorch networks, so the module is skipped where torch is not installed (the
``nas`` extra). One epoch per trial keeps both tests to seconds on 2 cores; the full examples'
times and accuracies are in their READMEs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import automl
from automl.local import LocalEngine, RunSummary
from tests.conftest import REPO
from tests.examples.test_examples import assert_accuracies, shrunk

pytest.importorskip("torch")
pytest.importorskip("sklearn")

# One ('operation', input) pair: DARTS's genotype as Katib's trial prints it, spaces removed.
EDGE = r"\('[a-z_0-9x]+',\d\)"
NODE = rf"\[{EDGE},{EDGE}\]"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # the trial commands are relative to the repository root


def run(data: dict[str, Any], root: Path
        ) -> tuple[automl.ExperimentSpec, RunSummary, automl.Results]:
    """Validate, run to the end with a seeded sampler; the spec, summary and results."""
    spec = automl.load(data)
    summary = LocalEngine(spec, root=root / ".automl", progress=False, seed=0).run()
    return spec, summary, automl.load_results(spec.name, root=root / ".automl")


def test_enas_trains_the_proposed_networks(tmp_path: Path) -> None:
    data = shrunk("nas-enas/experiment.yaml", max_trials=2, parallel_trials=2)
    data["trial"]["command"].append("--epochs=1")  # argparse: the last --epochs wins

    spec, summary, results = run(data, tmp_path)

    trials = results.trials
    assert summary.status == "Succeeded"
    assert len(trials) == 2
    assert_accuracies(trials)
    for _, row in trials.iterrows():
        layers = json.loads(row["params.architecture"].replace("'", '"'))
        embedding = json.loads(row["params.nn_config"].replace("'", '"'))["embedding"]
        words = row["architecture"].split(" | ")
        assert len(words) == len(layers) == 4
        for i, (word, layer) in enumerate(zip(words, layers, strict=True)):
            assert len(layer) == i + 1  # [op_id, skip_0, ..., skip_{i-1}]
            assert word.startswith(embedding[str(layer[0])]["opt_type"] + "(")
            skips = [f"L{j}" for j, flag in enumerate(layer[1:]) if flag]
            assert word.endswith(f" +{','.join(skips)}" if skips else ")")

    experiment = automl.to_katib(spec)
    assert experiment.spec.algorithm.algorithm_name == "enas"
    graph = experiment.spec.nas_config.graph_config
    assert (graph.num_layers, graph.input_sizes, graph.output_sizes) == (4, [8, 8, 1], [10])
    assert {p.reference for p in experiment.spec.trial_template.trial_parameters} == \
        {"architecture", "nn_config"}
    assert "nasConfig:" in automl.to_yaml(spec)


def test_darts_prints_a_genotype(tmp_path: Path) -> None:
    data = shrunk("nas-darts/experiment.yaml")
    data["algorithm"]["settings"]["num_epochs"] = 1

    spec, summary, results = run(data, tmp_path)

    trials = results.trials
    assert summary.status == "Succeeded"
    assert trials["status"].tolist() == ["Succeeded"]
    assert trials["metrics.Validation-Accuracy"].between(0.05, 1.0).all()
    genotype = trials["architecture"].iloc[0]
    # 2 nodes per cell, each with its 2 strongest inputs; the second layer is a reduction cell.
    cell = rf"\[{NODE},{NODE}\]"
    assert re.fullmatch(rf"Genotype\(normal={cell},normal_concat=range\(2,4\),"
                        rf"reduce={cell},reduce_concat=range\(2,4\)\)", genotype), genotype
    assert summary.best is not None and summary.best["objective"] == genotype

    experiment = automl.to_katib(spec)
    assert experiment.spec.algorithm.algorithm_name == "darts"
    assert experiment.spec.nas_config.graph_config.num_layers == 2
    assert experiment.spec.objective.objective_metric_name == "Best-Genotype"
    assert "([\\w-]+)=(Genotype.*)" in experiment.spec.metrics_collector_spec.source.filter\
        .metrics_format
    assert {p.reference for p in experiment.spec.trial_template.trial_parameters} == \
        {"algorithm-settings", "search-space", "num-layers"}
    assert "algorithmName: darts" in automl.to_yaml(spec)
