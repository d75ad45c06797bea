"""Orchestration overhead per trial, against raw Optuna doing the same work in the same run.

    python bench/overhead.py [--trials 40]

Prints, for no-op trials:
  * bookkeeping: ask + tell + automl's trial record in each storage (no process started);
  * subprocess trials: automl's local engine vs a hand-written Optuna + SQLite + subprocess
    loop vs just starting the same process;
  * parallel efficiency: 2 workers on CPU-bound trials vs 1.
Ratios are against baselines measured in this run. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from automl.local import LocalEngine
from automl.local.store import ATTR, open_storage
from automl.spec import ExperimentSpec

NOOP = "import sys; print('loss=' + sys.argv[1])"
BUSY = ("import sys, time\nt = time.process_time()\n"
        "while time.process_time() - t < 0.5: pass\nprint('loss=' + sys.argv[1])")


def _spec(name: str, script: Path, trials: int, parallel: int) -> ExperimentSpec:
    return ExperimentSpec.model_validate({
        "name": name, "objective": {"metric": "loss", "type": "minimize"},
        "algorithm": {"name": "random", "settings": {"random_state": 0}},
        "budget": {"max_trials": trials, "parallel_trials": parallel},
        "parameters": [{"name": "x", "type": "double", "min": 0, "max": 1}],
        "trial": {"command": [sys.executable, str(script), "${trialParameters.x}"]},
    })


def bookkeeping(n: int, workdir: Path) -> dict[str, float]:
    """Seconds per trial for ask + a record attribute + tell, per storage."""
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    out = {}
    for label, storage in (("in-memory", None),
                           ("journal file (automl default)",
                            open_storage(str(workdir / "bk.journal"))),
                           ("SQLite file", f"sqlite:///{workdir / 'bk.db'}")):
        study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(0))
        start = time.perf_counter()
        for _ in range(n):
            trial = study.ask(dist)
            trial.set_user_attr(ATTR, {"status": "Succeeded", "objective": 0.5})
            study.tell(trial, 0.5)
        out[label] = (time.perf_counter() - start) / n
    return out


def engine(n: int, parallel: int, script: Path, workdir: Path, name: str) -> float:
    spec = _spec(name, script, n, parallel)
    start = time.perf_counter()
    LocalEngine(spec, root=workdir / ".automl", progress=False).run()
    return time.perf_counter() - start


def raw_optuna_sqlite(n: int, script: Path, workdir: Path) -> float:
    """What an Optuna user writes by hand: SQLite storage, a subprocess per trial."""
    storage = f"sqlite:///{workdir / 'raw.db'}"
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(0))

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        out = subprocess.run([sys.executable, str(script), str(x)], capture_output=True,
                             text=True, check=True).stdout
        return float(out.strip().split("=")[1])

    start = time.perf_counter()
    study.optimize(objective, n_trials=n)
    return time.perf_counter() - start


def _noop_function(params: dict) -> float:
    return float(params["x"])


def function_trials(n: int, storage: str | None, workdir: Path, name: str) -> float:
    import automl

    start = time.perf_counter()
    automl.tune(name, _noop_function, {"x": {"type": "double", "min": 0, "max": 1}},
                objective_metric_name="loss", objective_type="minimize", max_trial_count=n,
                algorithm_name="random", algorithm_settings={"random_state": 0},
                storage=storage, root=workdir / ".automl", progress=False)
    return time.perf_counter() - start


def raw_in_memory(n: int) -> float:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(0))
    start = time.perf_counter()
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=n)
    return time.perf_counter() - start


def bare_processes(n: int, script: Path) -> float:
    start = time.perf_counter()
    for _ in range(n):
        subprocess.run([sys.executable, str(script), "0.5"], capture_output=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40)
    args = parser.parse_args()
    n = args.trials
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        noop, busy = work / "noop.py", work / "busy.py"
        noop.write_text(NOOP)
        busy.write_text(BUSY)
        os.chdir(work)

        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
              f"Optuna {optuna.__version__}\n")
        print(f"bookkeeping per trial (ask + record + tell, {n * 5} trials, no process):")
        books = bookkeeping(n * 5, work)
        memory = books["in-memory"]
        for label, seconds in books.items():
            print(f"  {label:32s} {seconds * 1e3:7.2f} ms   {seconds / memory:6.1f}x in-memory")

        print(f"\nno-op subprocess trials ({n} trials, 1 at a time):")
        bare = bare_processes(n, noop)
        raw = raw_optuna_sqlite(n, noop, work)
        ours = engine(n, 1, noop, work, "noop")
        for label, seconds in (("start the process only", bare),
                               ("raw Optuna + SQLite + subprocess", raw),
                               ("automl local engine", ours)):
            print(f"  {label:34s} {seconds / n * 1e3:7.1f} ms/trial   "
                  f"{seconds / raw:5.2f}x raw Optuna loop")
        extra = (ours - bare) / n * 1e3
        print(f"  automl overhead over starting the process: {extra:.1f} ms/trial")

        print(f"\nno-op Python-function trials ({n} trials, 1 at a time):")
        raw_fn = raw_in_memory(n)
        for label, seconds in (("raw Optuna, in memory, in-process", raw_fn),
                               ("automl.tune, in memory (fork each)",
                                function_trials(n, ":memory:", work, "fn-memory")),
                               ("automl.tune, journal file (fork each)",
                                function_trials(n, None, work, "fn-journal"))):
            print(f"  {label:38s} {seconds / n * 1e3:7.2f} ms/trial   "
                  f"{seconds / raw_fn:7.1f}x raw")

        m = max(6, n // 3)
        print(f"\nparallel efficiency ({m} CPU-bound trials of 0.5 s CPU each):")
        one = engine(m, 1, busy, work, "busy-1")
        two = engine(m, 2, busy, work, "busy-2")
        print(f"  1 worker {one:6.2f} s   2 workers {two:6.2f} s   speed-up {one / two:4.2f}x "
              f"(efficiency {one / two / 2:.0%})")


if __name__ == "__main__":
    main()
