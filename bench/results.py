"""d. Results tables and TensorBoard export at scale, against Optuna's trials_dataframe().

    python bench/results.py [--quick]

Builds one local experiment of N trials (5 parameters, 20 observations each) directly in a
journal storage, then times, in the same run and on the same storage:
  * Optuna's own ``study.trials_dataframe()`` (the baseline),
  * automl's trials table (``load_results(...).trials``),
  * automl's observations table,
  * a TensorBoard export (scalars + HParams) of every trial.
Not part of the test suite.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import optuna

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import Section, seconds

from automl.local.space import distributions, trial_value
from automl.local.store import ATTR, open_storage
from automl.results import load_results
from automl.results.tensorboard import write_tensorboard
from automl.spec import ExperimentSpec

SPEC = {
    "name": "bench", "objective": {"metric": "loss", "type": "minimize",
                                   "additional_metrics": ["accuracy"]},
    "budget": {"max_trials": 100000, "parallel_trials": 1},
    "parameters": [{"name": "lr", "type": "double", "min": 1e-4, "max": 1,
                    "distribution": "logUniform"},
                   {"name": "momentum", "type": "double", "min": 0, "max": 1},
                   {"name": "layers", "type": "int", "min": 1, "max": 8},
                   {"name": "width", "type": "discrete", "list": [32, 64, 128]},
                   {"name": "optimizer", "type": "categorical", "list": ["sgd", "adam"]}],
    "trial": {"command": ["python", "train.py", "${trialParameters.lr}",
                          "${trialParameters.momentum}", "${trialParameters.layers}",
                          "${trialParameters.width}", "${trialParameters.optimizer}"]},
}


def build(root: Path, n: int) -> None:
    """Write an n-trial experiment into the journal under ``root``, as the engine records it."""
    spec = ExperimentSpec.model_validate(SPEC)
    storage = open_storage(None, root)
    study = optuna.create_study(study_name="bench", storage=storage, direction="minimize")
    study.set_user_attr(ATTR, {"spec": json.loads(spec.model_dump_json(by_alias=True)),
                               "katib": None, "status": "Succeeded", "reason": ""})
    space = distributions(spec.parameters)
    rng = random.Random(0)
    trials = []
    for i in range(n):
        params = {"lr": 10 ** rng.uniform(-4, 0), "momentum": rng.random(),
                  "layers": rng.randint(1, 8), "width": rng.choice([32, 64, 128]),
                  "optimizer": rng.choice(["sgd", "adam"])}
        losses = [rng.random() / (s + 1) for s in range(10)]
        name = f"bench-{i:05d}"
        folder = root / "runs" / "bench" / name
        folder.mkdir(parents=True)
        with open(folder / "observations.jsonl", "w") as f:
            for s, loss in enumerate(losses):
                f.write(json.dumps({"metric": "loss", "value": str(loss), "timestamp": None,
                                    "index": 2 * s}) + "\n")
                f.write(json.dumps({"metric": "accuracy", "value": str(1 - loss),
                                    "timestamp": None, "index": 2 * s + 1}) + "\n")
        record = {"name": name, "status": "Succeeded", "reason": "", "exit_code": 0,
                  "log_dir": str(folder), "start": 1.7e9 + i, "end": 1.7e9 + i + 0.5,
                  "objective": min(losses),
                  "metrics": {"loss": {"min": min(losses), "max": max(losses),
                                       "latest": str(losses[-1])},
                              "accuracy": {"min": 1 - max(losses), "max": 1 - min(losses),
                                           "latest": str(1 - losses[-1])}},
                  "history": [], "params": {k: trial_value(v) for k, v in params.items()}}
        trials.append(optuna.trial.create_trial(params=params, distributions=space,
                                                value=min(losses),
                                                user_attrs={ATTR: record}))
    study.add_trials(trials)


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    """The best of ``repeat`` wall-clock times of ``fn()``, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def measure(quick: bool = False) -> Section:
    """Build the experiment, then time the tables and the TensorBoard export on it.

    Args:
        quick: 500 trials instead of 10,000.
    """
    n = 500 if quick else 10000
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="automl-bench-") as tmp:
        root = Path(tmp) / ".automl"
        start = time.perf_counter()
        build(root, n)
        built = time.perf_counter() - start

        def optuna_df() -> None:  # from the file, as load_results reads it
            storage = open_storage(None, root)
            optuna.load_study(study_name="bench", storage=storage).trials_dataframe()

        base = timed(optuna_df)
        trials = timed(lambda: load_results("bench", root=root).trials)
        obs = timed(lambda: load_results("bench", root=root).observations, repeat=1)
        results = load_results("bench", root=root)
        results.observations  # noqa: B018 - read once, so the export times only itself
        tb = timed(lambda: write_tensorboard(results, Path(tmp) / "tb"), repeat=1)
        files = sum(1 for _ in (Path(tmp) / "tb").rglob("events.out.tfevents.*"))

    rows = [["Optuna `trials_dataframe()` (baseline)", seconds(base), "1.00x",
             f"{base / n * 1e6:.0f} µs"],
            ["automl trials table (`load_results(...).trials`)", seconds(trials),
             f"{trials / base:.2f}x", f"{trials / n * 1e6:.0f} µs"],
            [f"automl observations table ({n * 20:,} rows)", seconds(obs),
             f"{obs / base:.2f}x", f"{obs / n * 1e6:.0f} µs"],
            [f"TensorBoard export (scalars + HParams, {files:,} event files)", seconds(tb),
             f"{tb / base:.2f}x", f"{tb / n * 1e3:.2f} ms"]]
    return Section(
        title=f"d. Results and TensorBoard export at {n:,} trials",
        intro=(f"One local experiment of {n:,} trials (5 parameters, 20 observations each) "
               f"written straight into a journal file ({built:.1f} s to build), then read "
               "back. Tables: best of 3 reads; observations and export: one run. *ratio* is "
               "against Optuna's own `trials_dataframe()` on the same file."),
        headers=["operation", "time", "ratio", "per trial"],
        rows=rows,
        reading=(f"automl's trials table takes {trials / base:.2f}x Optuna's "
                 f"trials_dataframe() on the same {n:,}-trial file; exporting all {n:,} "
                 f"trials to TensorBoard takes {tb:.1f} s ({tb / n * 1e3:.1f} ms a trial)."),
        figures={"n": n, "build": built, "optuna": base, "trials": trials,
                 "observations": obs, "tensorboard": tb})


if __name__ == "__main__":
    print(measure("--quick" in sys.argv).markdown())
