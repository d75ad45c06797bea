"""``automl status --backend katib``: a Katib namespace's experiments, or one's trials."""

from __future__ import annotations

from rich.console import Console
from rich.table import Column, Table

from automl._terminal import plain
from automl.katib.backend import collect, experiment_state
from automl.katib.cluster import KatibCluster

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
    state, reason, _ = experiment_state(cluster.get(name))
    console.print(plain(name, "bold"), plain(f"{state} {reason}"), sep=": ")
    results = collect(name, cluster)
    trials = results.trials
    params = [c for c in trials.columns if c.startswith("params.")]
    table = Table("trial", "status", "objective",
                  *(Column(plain(p.removeprefix("params."))) for p in params))
    for _, row in trials.iterrows():
        table.add_row(*map(plain, (row["trial"], row["status"],
                                   "" if row["objective"] != row["objective"]
                                   else f"{row['objective']:.6g}",
                                   *(row[p] for p in params))))
    console.print(table)
