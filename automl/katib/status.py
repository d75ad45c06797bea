"""``automl status --backend katib``: a Katib namespace's experiments, or one's trials."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from automl.katib.backend import cluster_best, experiment_spec, experiment_state
from automl.katib.cluster import KatibCluster
from automl.katib.results import katib_results
from automl.local.progress import best_line

__all__ = ["print_katib_status"]


def print_katib_status(name: str | None, cluster: KatibCluster) -> None:
    """Print every experiment of the namespace, or one experiment's trials."""
    console = Console()
    if name is None:
        table = Table("experiment", "status", "trials", "reason")
        for experiment in cluster.list():
            state, reason, counts = experiment_state(experiment)
            table.add_row(experiment["metadata"]["name"], state, str(sum(counts.values())),
                          reason)
        console.print(table)
        return
    experiment = cluster.get(name)
    state, reason, _ = experiment_state(experiment)
    console.print(f"[bold]{name}[/bold]: {state} {reason}")
    spec = experiment_spec(experiment)
    found = cluster.trials(name)
    best = cluster_best(spec, found)
    console.print(best_line(spec, best), highlight=False, markup=False)
    trials = katib_results(spec, found).trials
    params = [c for c in trials.columns if c.startswith("params.")]
    table = Table("trial", "status", "objective", *(p.removeprefix("params.") for p in params))
    for _, row in trials.iterrows():
        table.add_row(str(row["trial"]), str(row["status"]),
                      "" if row["objective"] != row["objective"] else f"{row['objective']:.6g}",
                      *(str(row[p]) for p in params))
    console.print(table)
