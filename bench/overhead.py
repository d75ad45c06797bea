"""a. Orchestration overhead per trial, against raw Optuna doing the same work in the same run.

    python bench/overhead.py [--quick]

Measures, for no-op trials:
  * bookkeeping: ask + tell + automl's trial record in each storage (no process started);
  * subprocess trials: automl's local engine vs a hand-written Optuna + SQLite + subprocess
    loop vs just starting the same process;
  * Python-function trials: automl.tune (a forked process per trial) vs raw in-process
    Optuna;
  * Ray Tune for both kinds, when ``ray[tune]`` is installed (bench/raytune.py);
  * parallel efficiency: 2 workers on CPU-bound trials vs 1.
Ratios are against baselines measured in this run. Not part of the test suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import raytune
from report import Section, seconds

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
    """Seconds for automl's local engine to run ``n`` trials of ``script``."""
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


def _noop_function(params: dict[str, str]) -> float:
    return float(params["x"])


def function_trials(n: int, storage: str | None, workdir: Path, name: str) -> float:
    """Seconds for ``automl.tune`` to run ``n`` no-op function trials in ``storage``."""
    import automl

    start = time.perf_counter()
    automl.tune(name, _noop_function, {"x": {"type": "double", "min": 0, "max": 1}},
                objective_metric_name="loss", objective_type="minimize", max_trial_count=n,
                algorithm_name="random", algorithm_settings={"random_state": 0},
                storage=storage, root=workdir / ".automl", progress=False)
    return time.perf_counter() - start


def raw_in_memory(n: int) -> float:
    """Seconds for raw Optuna to run ``n`` no-op trials in process, in memory."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(0))
    start = time.perf_counter()
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=n)
    return time.perf_counter() - start


def bare_processes(n: int, script: Path) -> float:
    """Seconds to start ``script`` ``n`` times and wait for it (no optimiser at all)."""
    start = time.perf_counter()
    for _ in range(n):
        subprocess.run([sys.executable, str(script), "0.5"], capture_output=True, check=True)
    return time.perf_counter() - start


def _ray(n: int, noop: Path, work: Path) -> tuple[dict[str, tuple[float, float]], str]:
    """Ray Tune's seconds for runs of n/2 and n function and subprocess trials, and a note."""
    version = raytune.available()
    if version is None:
        return {}, ("Ray Tune: not installed (`pip install 'ray[tune]'` to include it; it is "
                    "not an automl dependency), so it is left out.")
    init = raytune.start()
    try:
        raytune.warm_up(work)
        out = {"function": raytune.function_trials(n, work),
               "subprocess": raytune.subprocess_trials(n, noop, work)}
    finally:
        raytune.stop()
    runs = "; ".join(f"{kind}: {half:.1f} s for {n // 2} trials, {full:.1f} s for {n}"
                     for kind, (half, full) in out.items())
    return out, (f"Ray Tune {version}: `ray.init` took {init:.1f} s and a 1-trial warm-up run "
                 "is not counted; trials one at a time, `reuse_actors=True`. The table's "
                 f"figure is the run of {n} trials divided by {n}; each `Tuner.fit` has a "
                 f"fixed cost of several seconds, as two run sizes show ({runs}).")


def _row(kind: str, label: str, total: float, n: int, raw: float) -> list[str]:
    per, base = total / n, raw / n
    return [kind, label, seconds(per), f"{total / raw:.1f}x",
            "—" if total == raw else f"{(per - base) * 1e3:+.1f} ms"]


def measure(quick: bool = False) -> Section:
    """Per-trial cost of automl's trials against raw Optuna (and Ray Tune) in this run.

    Args:
        quick: 8 trials per setup instead of 40, and no parallel-efficiency runs of note.
    """
    n = 8 if quick else 40
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    here = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="automl-bench-") as tmp:
        work = Path(tmp)
        noop, busy = work / "noop.py", work / "busy.py"
        noop.write_text(NOOP)
        busy.write_text(BUSY)
        os.chdir(work)  # automl.tune and the engine write .automl/ here
        try:
            books = bookkeeping(n * 5, work)
            raw_fn = raw_in_memory(n)
            fn_memory = function_trials(n, ":memory:", work, "fn-memory")
            fn_journal = function_trials(n, None, work, "fn-journal")
            bare = bare_processes(n, noop)
            raw = raw_optuna_sqlite(n, noop, work)
            ours = engine(n, 1, noop, work, "noop")
            m = 4 if quick else max(6, n // 3)
            one = engine(m, 1, busy, work, "busy-1")
            two = engine(m, 2, busy, work, "busy-2")
            ray, ray_note = _ray(n, noop, work)  # Ray last: its daemons linger a while
        finally:
            os.chdir(here)

    memory = books["in-memory"]
    rows = [["bookkeeping", f"ask + record + tell, {label}", seconds(v), f"{v / memory:.1f}x",
             "—" if v == memory else f"{(v - memory) * 1e3:+.2f} ms"]
            for label, v in books.items()]
    rows += [_row("function", "raw Optuna, in memory, in process", raw_fn, n, raw_fn),
             _row("function", "automl.tune, in memory (a fork per trial)", fn_memory, n,
                  raw_fn),
             _row("function", "automl.tune, journal file (a fork per trial)", fn_journal, n,
                  raw_fn)]
    if "function" in ray:
        rows.append(_row("function", "Ray Tune, function trainable (actor reused)",
                         ray["function"][1], n, raw_fn))
    rows += [_row("subprocess", "start the process only", bare, n, raw),
             _row("subprocess", "raw Optuna + SQLite + subprocess.run", raw, n, raw),
             _row("subprocess", "automl local engine (journal file)", ours, n, raw)]
    if "subprocess" in ray:
        rows.append(_row("subprocess", "Ray Tune + subprocess.run in the trainable",
                         ray["subprocess"][1], n, raw))
    rows.append(["parallel", f"{m} CPU-bound trials (0.5 s CPU each), 2 workers vs 1",
                 f"{one:.2f} s → {two:.2f} s", f"{one / two:.2f}x speed-up",
                 f"efficiency {one / two / 2:.0%}"])
    extra = (ours - bare) / n * 1e3
    reading = (f"A subprocess trial costs automl {extra:.0f} ms over starting the process "
               f"({ours / raw:.2f}x a hand-written Optuna + SQLite loop); a function trial "
               f"costs {(fn_memory - raw_fn) / n * 1e3:.0f} ms more than raw in-process "
               "Optuna, the price of running each trial in its own killable process")
    if ray:
        reading += (f"; Ray Tune, over a run of {n} trials, costs "
                    f"{ray['function'][1] / n * 1e3:.0f} ms per function trial and "
                    f"{ray['subprocess'][1] / n * 1e3:.0f} ms per subprocess trial, most of "
                    "it a fixed cost per run")
    reading += "."
    return Section(
        title="a. Overhead per trial",
        intro=(f"No-op trials, one at a time ({n} per setup; bookkeeping {n * 5}). *ratio* "
               "is against the raw Optuna baseline of the same kind "
               "measured in this run (in-memory bookkeeping; in-process function; Optuna + "
               "SQLite + subprocess); *overhead* is the difference per trial."),
        headers=["kind", "setup", "per trial", "ratio", "overhead"],
        rows=rows, reading=reading, notes=[ray_note],
        figures={"bookkeeping": books, "raw_function": raw_fn, "tune_memory": fn_memory,
                 "tune_journal": fn_journal, "bare_process": bare, "raw_subprocess": raw,
                 "engine_subprocess": ours, "parallel": (one, two), "ray": ray, "n": n})


if __name__ == "__main__":
    print(measure("--quick" in sys.argv).markdown())
