"""Run each example in examples/ with a shrunk budget and check what it produced.

Trial commands are relative to the repository root, so the tests run from there; the study
and trial logs go to tmp_path. Every shrunk experiment goes through automl.load, so Katib's
rules still hold for it.
"""

from __future__ import annotations

import math
import runpy
from pathlib import Path
from typing import Any

import pytest
import yaml

import automl
from automl.local import LocalEngine, RunSummary
from tests.conftest import REPO

EXAMPLES = REPO / "examples"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def shrunk(path: str, **budget: Any) -> dict[str, Any]:
    """The example's experiment as a mapping, with budget fields replaced."""
    data = yaml.safe_load((EXAMPLES / path).read_text(encoding="utf-8"))
    data["budget"].update(budget)
    return data


def run(data: dict[str, Any], root: Path) -> tuple[RunSummary, Any]:
    """Validate (Katib's rules), run to the end, and return the summary and the trials table."""
    spec = automl.load(data)
    summary = LocalEngine(spec, root=root / ".automl", progress=False).run()
    return summary, automl.load_results(spec.name, root=root / ".automl")


def assert_accuracies(trials: Any, statuses: tuple[str, ...] = ("Succeeded",)) -> None:
    assert trials["status"].isin(statuses).all(), trials[["trial", "status"]]
    assert trials["objective"].between(0.05, 1.0).all(), trials["objective"]


def test_examples_validate() -> None:
    files = sorted(EXAMPLES.glob("*/*.yaml"))
    names = {f.parent.name for f in files}
    assert {"hyperband", "early-stopping", "file-collector", "tfevent-collector",
            "multi-metric", "compare", "nas-enas", "nas-darts", "pbt"} <= names
    for file in files:
        if file.name != "broken.yaml":
            automl.load(file)


@pytest.mark.parametrize("folder", sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()))
def test_every_example_has_a_readme_saying_how_to_run_it(folder: str) -> None:
    readme = EXAMPLES / folder / "README.md"
    assert readme.is_file(), f"examples/{folder} has no README.md"
    assert "```" in readme.read_text(encoding="utf-8")  # the command that runs it


def test_hyperband_runs_its_whole_schedule(tmp_path: Path) -> None:
    # eta=2, r_l=2: s_max=1, so 2 parallel trials; n=2 gives bracket 1 (2 x 1 epoch, then the
    # best 1 x 2 epochs) and bracket 0 (2 x 2 epochs): 5 trials.
    data = shrunk("hyperband/experiment.yaml", max_trials=5, parallel_trials=2)
    data["algorithm"]["settings"].update(eta=2, r_l=2)
    eta, r_l = 2, 2
    s_max = int(math.log(r_l) / math.log(eta))
    assert data["budget"]["parallel_trials"] >= math.ceil(eta**s_max)

    summary, results = run(data, tmp_path)

    trials = results.trials
    assert summary.status == "Succeeded"
    # max_trials is the whole schedule, as in the example: the condition its README names
    condition = summary.reason.split(":")[0]
    assert condition == "ExperimentMaxTrialsReached"
    assert f"`{condition}`" in (EXAMPLES / "hyperband" / "README.md").read_text()
    assert len(trials) == 5
    assert_accuracies(trials)
    assert trials["params.epochs"].tolist() == [1, 1, 2, 2, 2]
    # the promoted trial re-runs the better first-rung configuration with more epochs
    first = trials.iloc[:2]
    better = first.loc[first["objective"].idxmax()]
    promoted = trials.iloc[2]
    assert promoted["params.alpha"] == pytest.approx(better["params.alpha"])
    assert promoted["params.eta0"] == pytest.approx(better["params.eta0"])


def test_pbt_children_train_on_from_their_parents_networks(tmp_path: Path) -> None:
    import pickle

    data = shrunk("pbt/experiment.yaml", max_trials=8, parallel_trials=2)
    data["algorithm"]["settings"]["n_population"] = 5
    data["trial"]["command"] = [w.replace("--epochs=3", "--epochs=1")
                                for w in data["trial"]["command"]]
    summary, results = run(data, tmp_path)
    trials = results.trials
    assert summary.status == "Succeeded"
    assert_accuracies(trials)
    children = trials[trials["parent"].notna()]
    # generation 0 ends once 6 trials completed; 2 at a time, a 7th may have started by then
    assert 1 <= len(children) <= 2
    runs = tmp_path / ".automl" / "runs" / "digits-pbt"

    def epochs(trial: str) -> int:
        with open(runs / trial / "checkpoint" / "model.pkl", "rb") as file:
            return pickle.load(file)["epoch"]

    for child in children.itertuples():
        assert epochs(child.trial) == epochs(child.parent) + 1
    # the child's curve goes on from its parent's in the report's learning curves
    figure = results.plot_curves()
    assert figure.layout.title.text.startswith("Learning curves by lineage")


def test_early_stopping_stops_a_bad_trial(tmp_path: Path) -> None:
    # One at a time: trials 0 and 1 succeed (min_trials_required=2), then trial 2 (random_state
    # 3 draws a large alpha, accuracy ~0.4) gets the median rule and is stopped at epoch 3.
    data = shrunk("early-stopping/experiment.yaml", max_trials=3, parallel_trials=1)
    data["trial"]["command"].append("--epoch-seconds=0.05")

    summary, results = run(data, tmp_path)

    trials = results.trials
    assert summary.status == "Succeeded"
    assert trials["status"].tolist() == ["Succeeded", "Succeeded", "EarlyStopped"]
    assert_accuracies(trials, ("Succeeded", "EarlyStopped"))
    reports = results.observations.groupby("trial")["metric"].count()
    # The stopped trial was checked at its start_step-th (3rd) report and killed; it may print
    # one more line while the signal travels, never the 8 of a finished trial.
    assert reports.tolist()[:2] == [8, 8] and 3 <= reports.tolist()[2] < 8


def test_file_collector_reads_the_trials_file(tmp_path: Path) -> None:
    data = shrunk("file-collector/experiment.yaml", max_trials=2, parallel_trials=2)

    summary, results = run(data, tmp_path)

    trials = results.trials
    assert summary.status == "Succeeded"
    assert len(trials) == 2
    assert_accuracies(trials)
    assert (trials["metrics.loss"] > 0).all()
    for trial in trials["trial"]:
        log = tmp_path / ".automl" / "runs" / data["name"] / trial / "metrics" / "metrics.log"
        assert "| accuracy: " in log.read_text(encoding="utf-8")
    counts = results.observations.groupby(["trial", "metric"]).size()
    assert (counts == 5).all() and len(counts) == 4  # 5 epochs x (accuracy, loss) x 2 trials


def test_tfevent_collector_reads_event_files(tmp_path: Path) -> None:
    data = shrunk("tfevent-collector/experiment.yaml", max_trials=2, parallel_trials=2)

    summary, results = run(data, tmp_path)

    trials = results.trials
    assert summary.status == "Succeeded"
    assert len(trials) == 2
    assert_accuracies(trials)
    for trial in trials["trial"]:
        folder = tmp_path / ".automl" / "runs" / data["name"] / trial / "tfevent"
        assert list(folder.glob("events.out.tfevents.*"))
    assert (results.observations.groupby("trial").size() == 5).all()


def test_multi_metric_strategies(tmp_path: Path) -> None:
    data = shrunk("multi-metric/experiment.yaml", max_trials=2, parallel_trials=2)

    summary, results = run(data, tmp_path)

    trials = results.trials.set_index("trial")
    objective = results.spec.objective
    assert summary.status == "Succeeded"
    assert [objective.strategy(m) for m in ("accuracy", "loss", "train_time")] == \
        ["max", "min", "latest"]
    assert {"metrics.accuracy", "metrics.loss", "metrics.train_time"} <= set(trials.columns)
    assert_accuracies(trials)
    obs = results.observations
    for trial, row in trials.iterrows():
        mine = obs[obs["trial"] == trial]
        values = {m: mine[mine["metric"] == m].sort_values("step")["value"].astype(float)
                  for m in ("accuracy", "loss", "train_time")}
        assert len(values["accuracy"]) == 6
        assert row["objective"] == pytest.approx(values["accuracy"].max())
        assert row["metrics.loss"] == pytest.approx(values["loss"].min())
        assert row["metrics.train_time"] == pytest.approx(values["train_time"].iloc[-1])


def test_compare_stacks_both_experiments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    names = []
    for file in ("compare/random.yaml", "compare/tpe.yaml"):
        data = shrunk(file, max_trials=2, parallel_trials=2)
        summary, results = run(data, tmp_path)
        assert summary.status == "Succeeded"
        assert_accuracies(results.trials)
        names.append(data["name"])
    assert names == ["digits-compare-random", "digits-compare-tpe"]

    table = automl.compare(names, root=tmp_path / ".automl")
    assert table.groupby("experiment", observed=True).size().to_dict() == dict.fromkeys(names, 2)
    assert {"params.C", "params.gamma"} <= set(table.columns)
    assert len(table.automl.best(3)) == 3

    monkeypatch.chdir(tmp_path)  # compare.py reads the default root, ./.automl
    runpy.run_path(str(EXAMPLES / "compare" / "compare.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert all(name in printed for name in names)
