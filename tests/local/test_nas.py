"""Local NAS: enas proposes architectures in Katib's format, darts passes its three arguments.

Trials here are Python functions (FunctionRunner, a fork each), so the NAS-Bench-201 search
runs hundreds of trials in seconds.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest

import automl
from automl.local import LocalEngine
from automl.local.function import FunctionRunner
from automl.results.tensorboard import write_tensorboard
from automl.spec.nas_assignments import describe_architecture, enas_operations
from tests.conftest import REPO
from tests.local.helpers import darts
from tests.results.test_tensorboard import _dashboard

BENCH201 = REPO / "examples" / "nas-bench201"
GENOTYPE = ("Genotype(normal=[[('max_pooling_3x3',0),('skip_connection',1)]],"
            "normal_concat=range(2,3),reduce=[],reduce_concat=range(2,3))")


def _bench201() -> Any:
    loaded = importlib.util.spec_from_file_location("nasbench201_trial", BENCH201 / "trial.py")
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return module


def _enas(name: str = "enas-t", trials: int = 6, parallel: int = 2) -> automl.ExperimentSpec:
    return automl.load({
        "name": name, "objective": {"metric": "Validation-Accuracy", "type": "maximize"},
        "algorithm": {"name": "enas"},
        "budget": {"max_trials": trials, "parallel_trials": parallel},
        "search_space": "nas/enas_cnn",
        "trial": {"command": ["python", "t.py", "--architecture=${trialParameters.architecture}",
                              "--nn_config=${trialParameters.nn_config}"]}})


def _run(spec: automl.ExperimentSpec, function: Any, root: Path, seed: int = 0) -> Any:
    summary = LocalEngine(spec, root=root, runner=FunctionRunner(function), progress=False,
                          seed=seed).run()
    return summary, automl.load_results(spec.name, root=root)


def _layers_score(params: dict[str, str]) -> dict[str, float]:
    """A made-up accuracy that the trial computes from Katib's ENAS arguments only."""
    layers = json.loads(params["architecture"].replace("'", '"'))
    config = json.loads(params["nn_config"].replace("'", '"'))
    assert len(layers) == config["num_layers"]
    assert sorted(config["embedding"], key=int) == sorted({str(x[0]) for x in layers}, key=int)
    assert [len(x) for x in layers] == list(range(1, len(layers) + 1))
    return {"Validation-Accuracy": 0.5 + sum(x[0] for x in layers) / 1000}


def test_enas_trials_get_katibs_arguments_and_the_table_says_the_architecture(tmp_path):
    spec = _enas()
    summary, results = _run(spec, _layers_score, tmp_path)

    trials = results.trials
    assert summary.counts == {"Succeeded": 6}
    assert trials["status"].eq("Succeeded").all()
    assert trials["params.architecture"].str.startswith("[[").all()
    for row in trials.to_dict("records"):
        assert row["architecture"] == describe_architecture(row["params.architecture"],
                                                            row["params.nn_config"])
        layers = json.loads(row["params.architecture"])
        assert row["objective"] == pytest.approx(0.5 + sum(x[0] for x in layers) / 1000)
    ops = {op["opt_type"] for op in enas_operations(spec.nas.operations)}
    assert all(cell.split("(")[0] in ops for cell in trials["architecture"][0].split(" | "))


def test_enas_with_the_same_seed_proposes_the_same_architectures(tmp_path) -> None:
    _, first = _run(_enas(parallel=1), _layers_score, tmp_path / "a", seed=3)
    _, again = _run(_enas(parallel=1), _layers_score, tmp_path / "b", seed=3)
    assert first.trials["params.architecture"].tolist() == \
        again.trials["params.architecture"].tolist()


def test_the_hparams_dashboard_shows_each_architecture_in_words(tmp_path) -> None:
    _, results = _run(_enas(trials=2), _layers_score, tmp_path)
    write_tensorboard(results, tmp_path / "tb")
    experiment, groups = _dashboard(tmp_path / "tb")
    assert [h.name for h in experiment.hparam_infos] == ["architecture"]
    for row in results.trials.to_dict("records"):
        assert groups[row["trial"]].hparams["architecture"].string_value == row["architecture"]


def _darts_trial(params: dict[str, str]) -> None:
    settings = json.loads(params["algorithm-settings"].replace("'", '"'))
    assert settings["num_epochs"] == "1" and settings["w_lr"] == 0.025
    assert params["num-layers"] == "2"
    assert "skip_connection" in json.loads(params["search-space"].replace("'", '"'))
    print("Validation-Accuracy=0.9")
    print(f"Best-Genotype={GENOTYPE}")


def test_darts_passes_katibs_arguments_and_its_genotype_becomes_the_best(tmp_path) -> None:
    spec = darts("darts-t", ["python", "t.py"], num_epochs=1)
    summary, results = _run(spec, _darts_trial, tmp_path)

    assert summary.status == "Succeeded"
    assert summary.best["objective"] == GENOTYPE  # Katib: a non-numeric value wins
    row = results.trials.iloc[0]
    assert row["status"] == "Succeeded"
    assert row["architecture"] == GENOTYPE
    assert row["metrics.Validation-Accuracy"] == pytest.approx(0.9)
    assert results.best()["trial"].tolist() == [row["trial"]]


def test_enas_beats_random_search_on_nas_bench_201(tmp_path) -> None:
    """Best accuracy after 100 trials, over 3 seeds: enas (Optuna's TPE) against random cells."""
    bench = _bench201()
    data = automl.load(BENCH201 / "experiment.yaml").model_dump(exclude_defaults=True)
    data["budget"] = {"max_trials": 100, "parallel_trials": 1}
    ops = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
    bench.accuracy({f"Op{i}": "none" for i in range(6)})  # load the table once, before forks
    enas, random = [], []
    for seed in range(3):
        spec = automl.load({**data, "name": f"nb201-{seed}"})
        # in memory: the journal file's fsync per choice (21 per trial) would dominate here
        summary = LocalEngine(spec, storage=":memory:", root=tmp_path,
                              runner=FunctionRunner(bench.evaluate), progress=False,
                              seed=seed).run()
        assert summary.counts == {"Succeeded": 100}
        enas.append(summary.best["objective"])
        rng = np.random.default_rng(seed)
        cells = [{f"Op{i}": ops[k] for i, k in enumerate(rng.integers(5, size=6))}
                 for _ in range(100)]
        random.append(max(bench.accuracy(cell) for cell in cells))
    # regret against the table's best cell: enas's mean is smaller than random search's
    assert np.mean(enas) > np.mean(random), (enas, random)
    assert max(enas) <= bench.OPTIMUM + 1e-9
    assert bench.OPTIMUM - np.mean(enas) < 0.006


def test_the_nas_bench_201_example_runs_its_trial_program(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(REPO)  # the example's command is relative to the repository root
    data = automl.load(BENCH201 / "experiment.yaml").model_dump(exclude_defaults=True)
    data["budget"] = {"max_trials": 2, "parallel_trials": 2}
    spec = automl.load(data)
    summary = LocalEngine(spec, root=tmp_path, progress=False, seed=0).run()
    assert summary.counts == {"Succeeded": 2}
    trials = automl.load_results(spec.name, root=tmp_path).trials
    bench = _bench201()
    for row in trials.to_dict("records"):
        expected = bench.evaluate({"architecture": row["params.architecture"],
                                   "nn_config": row["params.nn_config"]})
        assert row["objective"] == pytest.approx(expected["Validation-Accuracy"])
        assert row["architecture"].count("edge(") == 6


def test_plots_and_importance_see_each_layer_and_skip_as_a_parameter(tmp_path) -> None:
    from automl.results.study import importance_evaluator, to_study

    _, results = _run(_enas(trials=6), _layers_score, tmp_path)
    study = to_study(results)
    trial = study.trials[0]
    assert set(trial.params) == {"layer_0", "layer_1", "layer_2", "layer_3", "skip_1_0",
                                 "skip_2_0", "skip_2_1", "skip_3_0", "skip_3_1", "skip_3_2"}
    row = results.trials.iloc[0]
    assert trial.params["layer_0"] == row["architecture"].split(" | ")[0].split(" +")[0]
    importances = optuna.importance.get_param_importances(study,
                                                          evaluator=importance_evaluator())
    assert set(importances) <= set(trial.params)
