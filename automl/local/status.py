"""``automl status`` and ``automl list``: what a storage holds, as tables."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import optuna
from rich.console import Console
from rich.table import Column, Table

from automl._terminal import plain
from automl.errors import AutomlError
from automl.local.space import trial_value
from automl.local.store import ATTR, DEFAULT_ROOT, open_storage, stored_spec
from automl.spec.algorithms import service_of
from automl.spec.nas_assignments import shown_params
from automl.state import ranking
from automl.state.progress import (
    STATUS_TOP,
    best_line,
    counts_line,
    more_line,
    objective_text,
    short_value,
)

if TYPE_CHECKING:
    from automl.spec import ExperimentSpec

__all__ = ["print_status"]


def print_status(name: str | None, storage: str | None, root: Path = DEFAULT_ROOT, *,
                 every: bool = False) -> None:
    """Print one experiment's state, or a line per experiment when ``name`` is None.

    One experiment: its counts, its best trials and those running, or with ``every`` all of
    its trials (a table of 10,000 rows takes seconds to draw and is not read on a terminal).

    Raises:
        AutomlError: When the experiment is not in the storage (the message lists those that are).
    """
    store = open_storage(storage, root, existing=True)
    # The storage's own view, not optuna.get_all_study_summaries: that deep-copies every
    # trial of every study (5 of the 7 seconds of a 10,000-trial status).
    studies = store.get_all_studies()
    console = Console()
    if name is None:
        table = Table("experiment", "status", "trials", "reason", "started")
        for s in studies:
            record = s.user_attrs.get(ATTR, {})
            trials = store.get_all_trials(store.get_study_id_from_name(s.study_name),
                                          deepcopy=False)
            started = min((t.datetime_start for t in trials if t.datetime_start), default=None)
            table.add_row(*map(plain, (s.study_name, record.get("status", "?"), len(trials),
                                       record.get("reason", ""),
                                       f"{started:%Y-%m-%d %H:%M}" if started else "")))
        console.print(table)
        return
    names = [s.study_name for s in studies]
    if name not in names:
        raise AutomlError(f"no experiment {name!r} in this storage; it holds: "
                          + (", ".join(names) or "none"))
    study = optuna.load_study(study_name=name, storage=store)
    record = study.user_attrs.get(ATTR, {})
    console.print(plain(name, "bold"),
                  plain(f"{record.get('status', '?')} {record.get('reason', '')}"), sep=": ")
    spec = stored_spec(study)
    trials = study.get_trials(deepcopy=False)
    recorded = [t.user_attrs.get(ATTR) for t in trials]
    counts = Counter(r["status"] if r else t.state.name.capitalize()
                     for t, r in zip(trials, recorded, strict=True))
    console.print(plain(counts_line(len(trials), spec.budget.max_trials, counts.most_common())),
                  highlight=False)
    done = [(i, r) for i, r in enumerate(recorded) if r]
    order = ranking(((r["status"], r.get("objective")) for _, r in done),
                    maximize=spec.objective.type == "maximize", algorithm=spec.algorithm.name)
    best = done[order[0]][1] if order else None
    console.print(plain(best_line(spec, best)), highlight=False)
    if every:
        console.print(_table(spec, trials))
        return
    top = [trials[done[k][0]] for k in order[:STATUS_TOP]]
    if top:
        console.print(_table(spec, top, f"best {len(top)}"))
    running = [t for t, r in zip(trials, recorded, strict=True)
               if r is None and t.state.name == "RUNNING"]
    if running:
        console.print(_table(spec, running, "running"))
    rest = len(trials) - len(top) - len(running)
    if rest > 0:
        console.print(plain(more_line(rest, name)), highlight=False)


def _table(spec: ExperimentSpec, trials: list[optuna.trial.FrozenTrial],
           title: str | None = None) -> Table:
    """One row per trial: status, objective, what it received (for NAS: in words), reason."""
    algorithm = spec.algorithm.name
    service = service_of(algorithm)
    records = [t.user_attrs.get(ATTR, {}) for t in trials]
    shown = [shown_params(algorithm, r.get("params")
                          or {k: trial_value(v, service) for k, v in t.params.items()})
             for t, r in zip(trials, records, strict=True)]
    params = list(dict.fromkeys(k for p in shown for k in p))
    table = Table(*(Column(c, no_wrap=True) for c in ("trial", "status", "objective")),
                  *(Column(plain(p)) for p in params), Column("reason", overflow="fold"),
                  title=title, title_justify="left")
    for t, r, values in zip(trials, records, shown, strict=True):
        objective = r.get("objective")
        table.add_row(*map(plain, (r.get("name", str(t.number)), r.get("status", t.state.name),
                                   "" if objective is None else objective_text(objective),
                                   *(short_value(values[p]) if p in values else ""
                                     for p in params),
                                   r.get("reason", ""))))
    return table
