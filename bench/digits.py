"""b. Time to a target accuracy on scikit-learn's digits, 2 trials at a time on 2 cores.

    python bench/digits.py [--quick]

The trial: a one-hidden-layer MLP (scikit-learn) trained for 20 epochs on a fixed split of
digits, reporting validation accuracy after each epoch; its objective is the best of them.
Three searches, each for several seeds, measured in the same run:
  * automl local: Katib's tpe, 2 parallel trials, medianstop early stopping, the target as
    the experiment's goal (trials as Python functions, forked, as ``automl.tune`` runs them);
  * plain Optuna: TPESampler + MedianPruner, ``study.optimize(n_jobs=2)`` (threads), a
    callback that stops at the target;
  * random search: automl local with Katib's random, 2 parallel trials, no early stopping.
Time to target = wall time from the search's start to the end of the first trial whose
accuracy reached the target. Not part of the test suite.
"""

from __future__ import annotations

import logging
import math
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import optuna

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import Section, seconds

from automl.local import LocalEngine
from automl.local.function import FunctionRunner
from automl.results import load_results
from automl.spec import ExperimentSpec

__all__ = ["measure"]

TARGET = 0.98
EPOCHS = 20
MAX_TRIALS = 60
SEEDS = 8
_DATA: dict[str, Any] = {}


def _data() -> tuple[Any, Any, Any, Any]:
    """Digits split once (70/30, stratified), shared by every trial and search."""
    if not _DATA:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        x, y = load_digits(return_X_y=True)
        _DATA["split"] = train_test_split(x / 16.0, y, test_size=0.3, random_state=0,
                                          stratify=y)
    return _DATA["split"]


def train(lr: float, alpha: float, hidden: int) -> Iterator[float]:
    """Yield the validation accuracy after each of EPOCHS epochs."""
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    x_train, x_val, y_train, y_val = _data()
    model = MLPClassifier(hidden_layer_sizes=(hidden,), alpha=alpha, learning_rate_init=lr,
                          random_state=0)
    # One BLAS thread: two trials share two cores, and OpenBLAS's threads on these small
    # matrices make an epoch several times slower.
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(EPOCHS):
            model.partial_fit(x_train, y_train, classes=np.arange(10))
            yield float(model.score(x_val, y_val))


def _automl_trial(params: dict[str, Any]) -> None:
    for accuracy in train(float(params["lr"]), float(params["alpha"]), int(params["hidden"])):
        print(f"accuracy={accuracy!r}", flush=True)  # flushed: medianstop reads it live


PARAMETERS = [
    {"name": "lr", "type": "double", "min": 1e-4, "max": 1.0, "distribution": "logUniform"},
    {"name": "alpha", "type": "double", "min": 1e-6, "max": 1.0, "distribution": "logUniform"},
    {"name": "hidden", "type": "int", "min": 16, "max": 256},
]


def automl_search(algorithm: str, seed: int, early_stopping: bool, root: Path) -> float:
    """Seconds until an automl local search (2 parallel) finished a trial at the target."""
    name = f"digits-{algorithm}-{seed}"
    spec = ExperimentSpec.model_validate({
        "name": name, "objective": {"metric": "accuracy", "type": "maximize", "goal": TARGET},
        "algorithm": {"name": algorithm, "settings": {"random_state": seed}},
        "early_stopping": ({"name": "medianstop",
                            "settings": {"min_trials_required": 3, "start_step": 5}}
                           if early_stopping else None),
        "budget": {"max_trials": MAX_TRIALS, "parallel_trials": 2},
        "parameters": PARAMETERS,
        "trial": {"command": ["python", "train.py",
                              *[f"--{p['name']}=${{trialParameters.{p['name']}}}"
                                for p in PARAMETERS]]},
    })
    start = time.time()
    LocalEngine(spec, root=root, runner=FunctionRunner(_automl_trial), progress=False).run()
    trials = load_results(name, root=root).trials
    hit = trials[trials["objective"] >= TARGET]
    if hit.empty:
        return math.inf
    return float(hit["completion_time"].min().timestamp()) - start


def optuna_search(seed: int) -> float:
    """Seconds until a plain Optuna TPE + MedianPruner study (n_jobs=2) reached the target."""
    def objective(trial: optuna.Trial) -> float:
        best = 0.0
        for step, accuracy in enumerate(train(
                trial.suggest_float("lr", 1e-4, 1.0, log=True),
                trial.suggest_float("alpha", 1e-6, 1.0, log=True),
                trial.suggest_int("hidden", 16, 256))):
            best = max(best, accuracy)
            trial.report(accuracy, step)
            if trial.should_prune():
                raise optuna.TrialPruned
        return best

    def stop_at_target(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if max(trial.intermediate_values.values(), default=0.0) >= TARGET:
            study.stop()

    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3,
                                                                   n_warmup_steps=4))
    start = time.time()
    study.optimize(objective, n_trials=MAX_TRIALS, n_jobs=2, callbacks=[stop_at_target])
    # datetime_complete is naive local time, which .timestamp() reads as such.
    done = [t.datetime_complete.timestamp() for t in study.trials
            if t.datetime_complete is not None
            and max(t.intermediate_values.values(), default=0.0) >= TARGET]
    return min(done) - start if done else math.inf


def measure(quick: bool = False) -> Section:
    """Each search for each seed; median time to target and ratios.

    Args:
        quick: 1 seed.
    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("automl").setLevel(logging.ERROR)
    _data()  # loaded before the searches: forked trials inherit it
    seeds = range(1 if quick else SEEDS)
    times: dict[str, list[float]] = {"automl local (tpe + medianstop)": [],
                                     "plain Optuna (TPE + MedianPruner, n_jobs=2)": [],
                                     "random search (automl local, random)": []}
    labels = list(times)
    with tempfile.TemporaryDirectory(prefix="automl-bench-") as tmp:
        for seed in seeds:
            times[labels[0]].append(automl_search("tpe", seed, True, Path(tmp)))
            times[labels[1]].append(optuna_search(seed))
            times[labels[2]].append(automl_search("random", seed, False, Path(tmp)))
    medians = {k: statistics.median(v) for k, v in times.items()}
    base = medians[labels[2]]
    rows = []
    for label, values in times.items():
        reached = sum(math.isfinite(v) for v in values)
        rows.append([label, seconds(medians[label]) if math.isfinite(medians[label]) else
                     "not reached", f"{reached}/{len(values)}",
                     " ".join(f"{v:.1f}" if math.isfinite(v) else "∞" for v in values),
                     _ratio(medians[label], base),
                     _ratio(medians[label], medians[labels[1]])])
    ours, theirs = medians[labels[0]], medians[labels[1]]
    finite = [v for values in times.values() for v in values if math.isfinite(v)]
    reading = (f"Median time to {TARGET:.0%} accuracy: automl local {_plain(ours)}, plain "
               f"Optuna {_plain(theirs)}, random search {_plain(base)}; automl local takes "
               f"{_ratio(ours, theirs)} the plain Optuna script's time and "
               f"{_ratio(ours, base)} random search's. Single searches range from "
               f"{min(finite, default=math.nan):.1f} s to {max(finite, default=math.nan):.1f} s"
               f", so with {len(seeds)} seed{'s' * (len(seeds) > 1)} per search, differences "
               "between the medians "
               "smaller than that spread say little.")
    return Section(
        title="b. Time to a target accuracy (digits)",
        intro=(f"A one-hidden-layer MLP on scikit-learn's digits (learning rate, L2 alpha, "
               f"hidden units), {EPOCHS} epochs, validation accuracy after each; target "
               f"{TARGET}, at most {MAX_TRIALS} trials, 2 trials at a time, "
               f"{len(seeds)} seed(s). Time to target: from the search's start to the end of "
               "the first trial whose best epoch reached the target."),
        headers=["search", "median time to target", "reached", "per seed (s)",
                 "ratio vs random", "ratio vs plain Optuna"],
        rows=rows, reading=reading,
        notes=["automl local: Katib tpe (`random_state` = seed), medianstop "
               "(min_trials_required 3, start_step 5), goal = target; each trial a forked "
               "Python function (`FunctionRunner`, as `automl.tune`). Plain Optuna: "
               "`TPESampler(seed)`, `MedianPruner(n_startup_trials=3, n_warmup_steps=4)`, "
               "threads. Random search: automl local, Katib random, no early stopping.",
               "BLAS is limited to one thread per trial in all three (two trials on two "
               "cores).", "∞: the target was not reached within the trial budget."],
        figures={"times": times, "medians": medians})


def _ratio(a: float, b: float) -> str:
    if not (math.isfinite(a) and math.isfinite(b)) or b == 0:
        return "—"
    return f"{a / b:.2f}x"


def _plain(value: float) -> str:
    return f"{value:.1f} s" if math.isfinite(value) else "not reached"


if __name__ == "__main__":
    print(measure("--quick" in sys.argv).markdown())
