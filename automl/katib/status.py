"""``automl status --backend katib``: a Katib namespace's experiments, or one's trials."""

from __future__ import annotations

from rich.console import Console
from rich.table import Column, Table

from automl._terminal import plain
from automl.katib.backend import cluster_best, experiment_spec, experiment_state
from automl.katib.cluster import KatibCluster
from automl.katib.results import katib_results
from automl.state.progress import best_line

__all__ = ["print_katib_status"]


def print_katib_status(name: str | None, cluster: KatibCluster) -> None:
    """Print every experiment of the namespace, or one experiment's trials."""
    console = Console()
    if name is None:
        table = Table("experiment", "status", "trials", "reason")
        for experiment in cluster.list():
            state, reason, counts = experiment_state(experiment)
            table.add_row(*map(plain, (experiment["metadata"]["name"], state,
                                       sum(counts.values()), reason)))
        console.print(table)
        return
    experiment = cluster.get(name)
    state, reason, _ = experiment_state(experiment)
    console.print(plain(name, "bold"), plain(f"{state} {reason}"), sep=": ")
    spec = experiment_spec(experiment)
    found = cluster.trials(name)
    best = cluster_best(spec, found)
    console.print(plain(best_line(spec, best)), highlight=False)
    trials = katib_results(spec, found).trials
    params = [c for c in trials.columns if c.startswith("params.")]
    table = Table("trial", "status", "objective",
                  *(Column(plain(p.removeprefix("params."))) for p in params))
    for _, row in trials.iterrows():
        table.add_row(*map(plain, (row["trial"], row["status"],
                                   "" if row["objective"] != row["objective"]
                                   else f"{row['objective']:.6g}",
                                   *(row[p] for p in params))))
    console.print(table)
