"""f. The same speed at trial 10,000 as at trial 10: per-trial cost as an experiment grows.

    python bench/scale.py [--quick]

For N trials (1,000 and 10,000; 1,000 with --quick), random search and TPE, 2 trials at a
time, a journal file as storage, measured in the same run:
  * automl.tune with a no-op Python function (a fork per trial);
  * automl run with a command trial (a Python process per trial);
  * the baselines: a plain Optuna loop (``study.optimize(n_jobs=2)``) on a journal file with
    the same trial, and the cost of one fork (or one process) per trial measured bare.
Per-trial cost over a window = wall time between the completions of its first and last
trial / trials in it, from Optuna's ``datetime_complete``: the first and the last 10%.
Then the reads of the 10,000-trial experiment (a command: the median of 3 runs): ``automl
status``, ``automl trials``, the
trials and observations tables against Optuna's ``load_study`` + ``trials_dataframe()``, and
the TensorBoard export per trial. Not part of the test suite.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import optuna

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import Section, seconds

import automl
from automl.local.store import open_storage

__all__ = ["measure"]

NOOP = "import sys; print('loss=' + sys.argv[1])"
OPTUNA_CSV = ("import sys, optuna; from optuna.storages import JournalStorage; "
              "from optuna.storages.journal import JournalFileBackend; "
              "optuna.load_study(study_name=sys.argv[1], storage=JournalStorage("
              "JournalFileBackend(sys.argv[2]))).trials_dataframe().to_csv(sys.stdout)")


def _noop(params: dict[str, str]) -> float:
    return float(params["x"])


def _windows(study: optuna.Study) -> tuple[float, float]:
    """Seconds per trial over the first and the last 10% of the trials, by completion."""
    done = sorted(t.datetime_complete.timestamp() for t in study.get_trials(deepcopy=False)
                  if t.datetime_complete is not None)
    tenth = max(2, len(done) // 10)
    first, last = done[:tenth], done[-tenth:]
    return ((first[-1] - first[0]) / (tenth - 1), (last[-1] - last[0]) / (tenth - 1))


def automl_function(n: int, algorithm: str, root: Path) -> tuple[float, float, float]:
    start = time.perf_counter()
    automl.tune("fn", _noop, {"x": {"type": "double", "min": 0, "max": 1}},
                objective_metric_name="loss", objective_type="minimize", max_trial_count=n,
                parallel_trial_count=2, algorithm_name=algorithm,
                algorithm_settings={"random_state": 0}, root=root, progress=False)
    total = time.perf_counter() - start
    study = optuna.load_study(study_name="fn", storage=open_storage(None, root))
    return (total, *_windows(study))


def automl_command(n: int, algorithm: str, root: Path) -> tuple[float, float, float]:
    spec = automl.load({
        "name": "cmd", "objective": {"metric": "loss", "type": "minimize"},
        "algorithm": {"name": algorithm, "settings": {"random_state": 0}},
        "budget": {"max_trials": n, "parallel_trials": 2},
        "parameters": [{"name": "x", "type": "double", "min": 0, "max": 1}],
        "trial": {"command": [sys.executable, "-c", NOOP, "${trialParameters.x}"]}})
    start = time.perf_counter()
    automl.run(spec, root=root, progress=False)
    total = time.perf_counter() - start
    study = optuna.load_study(study_name="cmd", storage=open_storage(None, root))
    return (total, *_windows(study))


def optuna_loop(n: int, algorithm: str, root: Path, command: bool) -> tuple[float, float, float]:
    """A plain Optuna loop on a journal file: the same trial, 2 threads, no automl."""
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(root / "optuna.journal")))
    sampler = (optuna.samplers.TPESampler(seed=0) if algorithm == "tpe"
               else optuna.samplers.RandomSampler(seed=0))
    study = optuna.create_study(study_name="raw", storage=storage, sampler=sampler)

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        if command:
            out = subprocess.run([sys.executable, "-c", NOOP, str(x)], capture_output=True,
                                 text=True, check=True).stdout
            return float(out.split("=")[1])
        return x

    start = time.perf_counter()
    study.optimize(objective, n_trials=n, n_jobs=2)
    return (time.perf_counter() - start, *_windows(study))


def fork_cost(n: int) -> float:
    """Seconds per bare fork + exit + wait, the floor of a function trial's process."""
    start = time.perf_counter()
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
    return (time.perf_counter() - start) / n


def _timed(argv: list[str], cwd: Path, runs: int = 3) -> float:
    """Seconds a command takes, the median of ``runs``: one run can meet a disk flush."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, check=True, capture_output=True,
                       env={**os.environ, "COLUMNS": "80"})
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def _automl(argv: list[str], cwd: Path) -> float:
    return _timed([sys.executable, "-m", "automl", *argv], cwd)


def reads(root: Path, name: str, n: int) -> list[list[str]]:
    """Reading an n-trial experiment: automl against Optuna's own read of the same file."""
    cwd = root.parent
    storage = str(root / "studies.journal")
    start = time.perf_counter()
    optuna.load_study(study_name=name, storage=open_storage(storage, root)).trials_dataframe()
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    results = automl.load_results(name, storage)
    trials = time.perf_counter() - start
    start = time.perf_counter()
    _ = results.observations
    observations = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as logdir:
        start = time.perf_counter()
        results.to_tensorboard(Path(logdir))
        board = time.perf_counter() - start
    status = _automl(["status", name, "--storage", storage], cwd)
    cli_trials = _automl(["trials", name, "--storage", storage, "-f", "csv"], cwd)
    python = _automl(["--version"], cwd)
    # The same read as a command of its own: Python started, Optuna and pandas imported.
    optuna_cli = _timed([sys.executable, "-c", OPTUNA_CSV, name, storage], cwd)
    rows = [
        ["Optuna load_study + trials_dataframe() (baseline)", seconds(baseline), "1.00"],
        ["load_results().trials", seconds(trials), f"{trials / baseline:.2f}"],
        ["… + observations table", seconds(trials + observations),
         f"{(trials + observations) / baseline:.2f}"],
        [f"TensorBoard export (per trial: {board / n * 1e3:.3f} ms)", seconds(board), ""],
        [f"automl status {name} (CLI; `automl --version` takes {seconds(python)})",
         seconds(status), ""],
        ["python -c: Optuna load_study + trials_dataframe().to_csv() (baseline)",
         seconds(optuna_cli), "1.00"],
        ["automl trials -f csv (CLI)", seconds(cli_trials), f"{cli_trials / optuna_cli:.2f}"],
    ]
    return rows


def _measure_one(n: int, algorithm: str, kind: str, with_reads: bool
                 ) -> tuple[tuple[tuple[float, float, float], tuple[float, float, float]],
                            list[list[str]]]:
    """automl and the Optuna loop on n trials in one folder; the reads of it when asked."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        run = automl_function if kind == "function" else automl_command
        ours = run(n, algorithm, work / ".automl")
        theirs = optuna_loop(n, algorithm, work, kind == "command")
        return (ours, theirs), (reads(work / ".automl", "fn", n) if with_reads else [])


def measure(quick: bool = False) -> Section:
    sizes = [1000] if quick else [1000, 10000]
    fork = fork_cost(500)
    rows: list[list[str]] = []
    read_rows: list[list[str]] = []
    for n in sizes:
        for algorithm in ("random", "tpe"):
            if algorithm == "tpe" and n > 1000:
                continue  # TPE's own cost at 10,000 trials dwarfs the engine's
            for kind in ("function", "command"):
                if kind == "command" and n > 1000:
                    continue  # 10,000 Python start-ups measure Python, not the engine
                # Each in a fresh interpreter: a process grown by the runs before it forks
                # more slowly, which would be charged to the later, larger runs.
                with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) \
                        as fresh:
                    times, read = fresh.submit(_measure_one, n, algorithm, kind,
                                               kind == "function" and algorithm == "random"
                                               and n == sizes[-1]).result()
                (total, first, last), (raw_total, raw_first, raw_last) = times
                read_rows = read or read_rows
                floor = raw_total + (fork * n if kind == "function" else 0)
                rows.append([f"{n:,}", algorithm, kind, seconds(first), seconds(last),
                             f"{last / first:.2f}", seconds(raw_first), seconds(raw_last),
                             f"{total:.1f} s", f"{raw_total:.1f} s", f"{total / floor:.2f}"])
                print(rows[-1], file=sys.stderr, flush=True)
    return Section(
        title="f. Per-trial cost as the experiment grows",
        intro=("2 trials at a time on a journal file; the no-op trial is a Python function "
               "(a fork per trial) or a command (a Python process per trial). Baseline: a "
               "plain Optuna loop (`study.optimize(n_jobs=2)`) on a journal file with the same "
               f"trial; one bare fork costs {fork * 1e3:.2f} ms here."),
        headers=["trials", "algorithm", "trial", "automl first 10%", "automl last 10%",
                 "last/first", "Optuna first 10%", "Optuna last 10%", "automl total",
                 "Optuna total", "automl / (Optuna + forks)"],
        rows=rows + [["", "", "", "", "", "", "", "", "", "", ""]]
        + [[r[0], "", "", r[1], "", r[2], "", "", "", "", ""] for r in read_rows],
        reading=("last 10% / first 10% per-trial cost: "
                 + ", ".join(f"{r[0]} {r[1]} {r[2]}: {r[5]}" for r in rows) + "."),
        figures={"rows": rows, "reads": read_rows})


if __name__ == "__main__":
    print(measure("--quick" in sys.argv).markdown())
