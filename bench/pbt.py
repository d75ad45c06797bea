"""g. Population-based training against random search, with the same training budget.

    python bench/pbt.py [--quick]

The task is examples/pbt: a one-hidden-layer network (scikit-learn's MLP, SGD with momentum)
on digits, validation accuracy after every epoch. Two searches over the same space (learning
rate, batch size), each for several seeds, run by the local engine with the same trial program
in subprocesses, 2 at a time:
  * pbt: examples/pbt/experiment.yaml as it is (a population of 8, 3 epochs per trial, each
    child going on from its parent's checkpoint, 40 trials = 120 epochs);
  * random search: Katib's random, each trial training a fresh network for as many epochs as
    pbt's longest lineage, as many trials as make the same 120 epochs.
The figure is each search's best validation accuracy (a trial's objective is the best epoch it
reported), and its wall time. Not part of the test suite.
"""

from __future__ import annotations

import copy
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import Section

import automl
from automl.local import LocalEngine

__all__ = ["measure"]

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "pbt" / "experiment.yaml"


def _pbt_search(seed: int, root: Path, max_trials: int) -> tuple[float, float, int, int]:
    """Best accuracy, seconds, epochs trained and the longest lineage's epochs."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["name"] = f"pbt-{seed}"
    data["budget"]["max_trials"] = max_trials
    spec = automl.load(data)
    start = time.perf_counter()
    LocalEngine(spec, root=root, progress=False, seed=seed).run()
    took = time.perf_counter() - start
    trials = automl.load_results(spec.name, root=root).trials
    per_trial = _epochs(data)
    depth = int(trials["generation"].max()) + 1
    return float(trials["objective"].max()), took, per_trial * len(trials), per_trial * depth


def _random_search(seed: int, root: Path, epochs: int, trials: int) -> tuple[float, float]:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    random = copy.deepcopy(data)
    random.update(name=f"random-{seed}", resume_policy="Never")
    random["algorithm"] = {"name": "random", "settings": {"random_state": seed}}
    random["budget"]["max_trials"] = trials
    # a fresh network per trial, trained for a whole lineage's epochs
    random["trial"]["trial_parameters"] = [
        {"name": "lr", "reference": "lr"}, {"name": "batch_size", "reference": "batch_size"},
        {"name": "trialName", "reference": "${trialSpec.Name}"}]
    random["trial"]["command"] = [
        ("--epochs=" + str(epochs)) if word.startswith("--epochs=")
        else (f"--checkpoint={root}/fresh/${{trialParameters.trialName}}")
        if word.startswith("--checkpoint=") else word
        for word in data["trial"]["command"]]
    spec = automl.load(random)
    start = time.perf_counter()
    LocalEngine(spec, root=root, progress=False).run()
    took = time.perf_counter() - start
    return float(automl.load_results(spec.name, root=root).trials["objective"].max()), took


def _epochs(data: dict[str, Any]) -> int:
    return int(next(w for w in data["trial"]["command"] if w.startswith("--epochs="))
               .split("=", 1)[1])


def measure(quick: bool = False) -> Section:
    """Run both searches for each seed, from the repository root (the example's paths)."""
    import os

    seeds = [0] if quick else [0, 1, 2, 3, 4]
    max_trials = 16 if quick else 40
    here = Path.cwd()
    os.chdir(REPO)
    results: dict[str, list[tuple[float, float]]] = {"pbt": [], "random": []}
    budgets: list[tuple[int, int, int]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="automl-bench-pbt-") as tmp:
            for seed in seeds:
                root = Path(tmp) / str(seed)
                best, took, epochs, lineage = _pbt_search(seed, root, max_trials)
                results["pbt"].append((best, took))
                trials = math.ceil(epochs / lineage)
                results["random"].append(_random_search(seed, root, lineage, trials))
                budgets.append((epochs, lineage, trials))
    finally:
        os.chdir(here)
    rows, medians = [], {}
    for label, values in results.items():
        accuracy = statistics.median(v[0] for v in values)
        took = statistics.median(v[1] for v in values)
        medians[label] = (accuracy, took)
        rows.append([label, f"{accuracy:.4f}", " ".join(f"{v[0]:.4f}" for v in values),
                     f"{took:.1f} s", " ".join(f"{v[1]:.1f}" for v in values)])
    wins = sum(p[0] > r[0] for p, r in zip(results["pbt"], results["random"], strict=True))
    ties = sum(p[0] == r[0] for p, r in zip(results["pbt"], results["random"], strict=True))
    (pbt_acc, pbt_time), (random_acc, random_time) = medians["pbt"], medians["random"]
    reading = (f"Median best validation accuracy: pbt {pbt_acc:.4f}, random search "
               f"{random_acc:.4f} ({(1 - pbt_acc) / (1 - random_acc):.2f}x random's error) "
               f"with the same epochs; pbt is better on {wins} of {len(seeds)} seeds"
               f"{f', equal on {ties}' if ties else ''}. Wall time: pbt {pbt_time:.1f} s, "
               f"random {random_time:.1f} s ({pbt_time / random_time:.2f}x): pbt starts "
               f"{budgets[0][0] // _epochs(yaml.safe_load(EXAMPLE.read_text()))} processes to "
               f"random's {budgets[0][2]}, each loading scikit-learn and the data.")
    return Section(
        title="g. Population-based training against random search (digits)",
        intro=(f"examples/pbt (an MLP on digits, SGD; learning rate and batch size), "
               f"{len(seeds)} seed(s), 2 trials at a time. pbt: the example's population of 8, "
               f"{max_trials} trials of 3 epochs. Random search: Katib's random over the same "
               "space, each trial a fresh network trained for as many epochs as pbt's longest "
               "lineage, as many trials as give the same total epochs."),
        headers=["search", "median best accuracy", "per seed", "median wall time",
                 "per seed (s)"],
        rows=rows, reading=reading,
        notes=["Budget per seed (epochs in all, longest lineage, random trials): "
               + ", ".join(f"{e}/{lin}/{t}" for e, lin, t in budgets) + "."],
        figures={"results": results, "budgets": budgets})


if __name__ == "__main__":
    print(measure("--quick" in sys.argv).markdown())
