"""``automl status`` and ``automl list``: what a storage holds, as tables."""

from __future__ import annotations

from pathlib import Path

import optuna
from rich.console import Console
from rich.table import Column, Table

from automl._terminal import plain
from automl.errors import AutomlError
from automl.local.space import trial_value
from automl.local.store import ATTR, DEFAULT_ROOT, open_storage, stored_spec
from automl.spec.algorithms import service_of
from automl.spec.nas_assignments import shown_params
from automl.state import best_trial
from automl.state.progress import best_line, objective_text, short_value

__all__ = ["print_status"]


def print_status(name: str | None, storage: str | None, root: Path = DEFAULT_ROOT) -> None:
    """Print one experiment's trials, or a line per experiment when ``name`` is None.

    Raises:
        AutomlError: When the experiment is not in the storage (the message lists those that are).
    """
    store = open_storage(storage, root, existing=True)
    summaries = optuna.get_all_study_summaries(store, include_best_trial=False)
    console = Console()
    if name is None:
        table = Table("experiment", "status", "trials", "reason", "started")
        for s in summaries:
            record = s.user_attrs.get(ATTR, {})
            table.add_row(*map(plain, (s.study_name, record.get("status", "?"), s.n_trials,
                                       record.get("reason", ""),
                                       f"{s.datetime_start:%Y-%m-%d %H:%M}"
                                       if s.datetime_start else "")))
        console.print(table)
        return
    names = [s.study_name for s in summaries]
    if name not in names:
        raise AutomlError(f"no experiment {name!r} in this storage; it holds: "
                          + (", ".join(names) or "none"))
    study = optuna.load_study(study_name=name, storage=store)
    record = study.user_attrs.get(ATTR, {})
    console.print(plain(name, "bold"),
                  plain(f"{record.get('status', '?')} {record.get('reason', '')}"), sep=": ")
    spec = stored_spec(study)
    algorithm = spec.algorithm.name
    trials = study.get_trials(deepcopy=False)
    recorded = [t.user_attrs[ATTR] for t in trials if ATTR in t.user_attrs]
    best = best_trial(spec, recorded)
    console.print(plain(best_line(spec, best)), highlight=False)
    # What each trial received (for NAS: the architecture in words), from its record
    service = service_of(algorithm)
    shown = [shown_params(algorithm, t.user_attrs.get(ATTR, {}).get("params")
                          or {k: trial_value(v, service) for k, v in t.params.items()})
             for t in trials]
    params = list(dict.fromkeys(k for p in shown for k in p))
    table = Table(*(Column(c, no_wrap=True) for c in ("trial", "status", "objective")),
                  *(Column(plain(p)) for p in params), Column("reason", overflow="fold"))
    for t, values in zip(trials, shown, strict=True):
        r = t.user_attrs.get(ATTR, {})
        objective = r.get("objective")
        table.add_row(*map(plain, (r.get("name", str(t.number)), r.get("status", t.state.name),
                                   "" if objective is None else objective_text(objective),
                                   *(short_value(values[p]) if p in values else ""
                                     for p in params),
                                   r.get("reason", ""))))
    console.print(table)
