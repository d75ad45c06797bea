"""Results tables and TensorBoard export at scale, against Optuna's trials_dataframe().

    python bench/results.py [--trials 10000] [--tensorboard-trials 1000]

Builds one local experiment of N trials (5 parameters, 20 observations each) directly in a
journal storage, then times, in the same run and on the same storage:
  * Optuna's own ``study.trials_dataframe()`` (the baseline),
  * automl's trials table (``load_results(...).trials``),
  * automl's observations table,
  * a TensorBoard export (scalars + HParams) of the first M trials.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import optuna

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from automl.local.space import distributions, trial_value
from automl.local.store import ATTR, open_storage
from automl.results import load_results
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


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10000)
    parser.add_argument("--tensorboard-trials", type=int, default=1000)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / ".automl"
        start = time.perf_counter()
        build(root, args.trials)
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
              f"Optuna {optuna.__version__}")
        print(f"built {args.trials} trials x 5 params x 20 observations in "
              f"{time.perf_counter() - start:.1f} s (journal storage)\n")

        def optuna_df() -> None:  # from the file, as load_results reads it
            storage = open_storage(None, root)
            optuna.load_study(study_name="bench", storage=storage).trials_dataframe()

        base = timed(optuna_df)
        trials = timed(lambda: load_results("bench", root=root).trials)
        obs = timed(lambda: load_results("bench", root=root).observations, repeat=1)
        print(f"  Optuna trials_dataframe()         {base:7.3f} s   1.00x")
        print(f"  automl trials table               {trials:7.3f} s   {trials / base:.2f}x")
        print(f"  automl observations table         {obs:7.3f} s   "
              f"({args.trials * 20} rows)")
        results = load_results("bench", root=root)
        try:
            from automl.results.tensorboard import write_tensorboard
        except ImportError:
            print("  TensorBoard export: not available")
            return
        m = args.tensorboard_trials
        subset = load_results("bench", root=root)
        subset.trials = results.trials.head(m)
        keep = set(subset.trials["trial"])
        subset._observations = results.observations[results.observations["trial"].isin(keep)]
        tb = timed(lambda: write_tensorboard(subset, Path(tmp) / "tb"), repeat=1)
        label = f"TensorBoard export, {m} trials"
        print(f"  {label:34s}{tb:7.3f} s   "
              f"({tb / m * 1e3:.2f} ms/trial)")


if __name__ == "__main__":
    main()
