"""``automl status --backend katib``: a Katib namespace's experiments, or one's trials."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console

from automl._table import print_line, print_table
from automl.katib.backend import cluster_best, experiment_spec, experiment_state
from automl.katib.cluster import KatibCluster
from automl.katib.results import katib_results
from automl.results.failures import failures_line
from automl.state.progress import STATUS_TOP, best_line, counts_line, more_line

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["print_katib_status"]


def print_katib_status(name: str | None, cluster: KatibCluster, *, every: bool = False,
                       wide: bool = False) -> None:
    """Print every experiment of the namespace, or one experiment's state.

    One experiment: its counts, its best trials and those running, or with ``every`` all of
    its trials. Tables fit the terminal; ``wide`` shows every column whole.
    """
    console = Console()
    if name is None:
        rows = []
        for experiment in cluster.list():
            state, reason, counts = experiment_state(experiment)
            rows.append((experiment["metadata"]["name"], state, sum(counts.values()), reason))
        print_table(("experiment", "status", "trials", "reason"), rows, wide=wide,
                    console=console)
        return
    experiment = cluster.get(name)
    state, reason, _ = experiment_state(experiment)
    print_line(console, name, f"{state} {reason}", sep=": ")
    spec = experiment_spec(experiment)
    found = cluster.trials(name)
    results = katib_results(spec, found)
    trials = results.trials
    counts = trials["status"].value_counts()
    counts = counts[counts > 0]  # a categorical column counts every category
    print_line(console, counts_line(len(trials), spec.budget.max_trials, counts.items()))
    best = cluster_best(spec, found)
    print_line(console, best_line(spec, best, "" if best else failures_line(trials)))
    if every:
        _table(console, trials, wide)
        return
    top = results.best(STATUS_TOP)
    if len(top):
        _table(console, top, wide, f"best {len(top)}")
    running = trials[trials["status"].isin(("Running", "Pending", "Created"))]
    if len(running):
        _table(console, running, wide, "running")
    shown = len(top) + len(running)
    if len(trials) > shown:
        print_line(console, more_line(len(trials) - shown, name, " --backend katib",
                                      shown=shown))


def _table(console: Console, trials: pd.DataFrame, wide: bool, title: str | None = None) -> None:
    params = [c for c in trials.columns if c.startswith("params.")]
    print_table(("trial", "status", "objective", *(p.removeprefix("params.") for p in params),
                 "reason"),
                [(row["trial"], row["status"],
                  "" if row["objective"] != row["objective"] else f"{row['objective']:.6g}",
                  *(row[p] for p in params),
                  row["reason"] if isinstance(row["reason"], str) else "")
                 for _, row in trials.iterrows()],
                wide=wide, title=title, console=console)
