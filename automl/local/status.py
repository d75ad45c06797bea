"""``automl status`` and ``automl list``: what a storage holds, as tables.

``automl status NAME`` reads the engine's snapshot (automl.local.snapshot) when it is current,
which needs neither Optuna nor a replay of the journal; otherwise, and for ``--all`` and the
list of experiments, the storage is read. Both give the same view, drawn by one function.
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from automl._table import print_line, print_table
from automl.errors import AutomlError
from automl.local.paths import DEFAULT_ROOT, JOURNAL, RUNS_KEY, runs_folder
from automl.local.snapshot import load_snapshot
from automl.local.storage_faults import storage_command
from automl.state import ranking
from automl.state.cut import INTERRUPTED as TRIAL_INTERRUPTED
from automl.state.failures import failures_text
from automl.state.progress import (
    STATUS_TOP,
    best_line,
    counts_line,
    more_line,
    objective_text,
    short_value,
)

if TYPE_CHECKING:
    import optuna

    from automl.spec import ExperimentSpec

__all__ = ["CUT_OFF", "INTERRUPTED", "RESUME_KEY", "cut_off", "interrupted_reason",
           "print_status", "resume_command", "run_is_active", "running_row", "shown_state",
           "status_view"]

RESUME_KEY = "resume"
"""The key of the study's automl record that holds how to resume it (:func:`resume_command`)."""


def interrupted_reason(resume: str | None) -> str:
    """The reason shown for an experiment recorded as Running that no engine runs.

    Args:
        resume: How to resume it, as its last start recorded it (None: a study from before
            automl recorded it).
    """
    return ("nothing runs it (stopped by Ctrl-C, SIGTERM or a crash); resume: "
            + (resume or "run it again as it was started"))


INTERRUPTED = interrupted_reason(None)
"""The reason shown for an interrupted study that recorded no way to resume it."""


def resume_command(file: Path | None, storage: str | None, root: Path, *,
                   katib_shell: bool = False, function: bool = False) -> str:
    """How to resume a run, whichever folder it is read from: the exact ``automl run``.

    Args:
        file: The experiment file the run was started from (None: an ExperimentSpec).
        storage: The storage as given (None: ``<root>/studies.journal``).
        root: The folder of the default storage.
        katib_shell: Whether the run was given ``--katib-shell``.
        function: Whether :func:`automl.tune` started it (a function has no command).
    """
    if function:
        return "call automl.tune(...) again with the same arguments"
    from automl.local.storage_faults import shown
    from automl.local.store import _sqlite_file

    if storage is None or "://" not in storage:
        where = str((root / JOURNAL if storage is None else Path(storage)).resolve())
    else:  # a URL: a SQLite file's absolute, a server's without its password
        database = _sqlite_file(storage)
        where = f"sqlite:///{database}" if database is not None else shown(storage)
    if file is None:
        return f"run the same experiment again with storage {where}"
    words = ["automl", "run", str(file.resolve()), "--storage", where]
    if katib_shell:
        words.append("--katib-shell")
    return shlex.join(words)
CUT_OFF = (f"{TRIAL_INTERRUPTED} (no automl run holds the experiment; the next run records "
           "it so)")
"""The reason shown for a trial recorded as Running that no engine runs."""


def run_is_active(name: str, storage: str | None, root: Path, *,
                  recorded: str | None = None) -> bool:
    """Whether an ``automl run`` of ``name`` in ``storage`` runs now: an engine holds the
    experiment's lock on the storage file (whatever path this reader names it by: a hard
    link, a bind mount), or the lock in the run's folder (``recorded``: that folder as the
    study records it, if known; the one lock a run on a database server leaves to see)."""
    from automl.local.lock import is_held, storage_locked
    from automl.local.paths import RUN_LOCK, storage_path

    database = storage_path(storage, root)
    if database is not None and storage_locked(database, name):
        return True
    return is_held(runs_folder(name, storage, root, recorded=recorded) / RUN_LOCK)


def shown_state(name: str, status: str, reason: str, storage: str | None, root: Path, *,
                recorded: str | None = None, resume: str | None = None) -> tuple[str, str]:
    """The status and reason to show: ``Interrupted`` for a Running record nothing runs.

    The record says Running from the start of a run until its end; Ctrl-C, SIGTERM or a
    ``kill -9`` leave it so, with no engine holding the experiment's run lock. ``resume``:
    how to resume it, as recorded (:data:`RESUME_KEY`).
    """
    if status == "Running" and not run_is_active(name, storage, root, recorded=recorded):
        return "Interrupted", interrupted_reason(resume)
    return status, reason


def cut_off(record: Mapping[str, Any]) -> dict[str, Any]:
    """A trial recorded as Running while no engine holds its experiment, as shown: Failed,
    the condition its process's end gives it (Katib's too: the pod is gone, so is its Job)
    and the one the next run records, with :data:`CUT_OFF` as its reason."""
    return {**record, "status": "Failed", "reason": CUT_OFF}


@storage_command
def print_status(name: str | None, storage: str | None, root: Path = DEFAULT_ROOT, *,
                 every: bool = False, wide: bool = False) -> None:
    """Print one experiment's state, or a line per experiment when ``name`` is None.

    One experiment: its counts, its best trials and those running, or with ``every`` all of
    its trials (a table of 10,000 rows takes seconds to draw and is not read on a terminal).
    Tables fit the terminal (automl._table); ``wide`` shows every column whole.

    Raises:
        AutomlError: When the experiment is not in the storage (the message lists those that are).
    """
    if name is not None and not every:
        view = _snapshot_view(name, storage, root)
        if view is not None:
            console = Console()
            try:
                with console.capture() as drawn:
                    _print_view(console, _with_state(view, storage, root), wide)
            except (KeyError, TypeError, AttributeError, ValueError):
                pass  # a snapshot of another shape (edited by hand?): read the journal instead
            else:
                console.file.write(drawn.get())
                return
    import optuna

    from automl.local.store import ATTR, open_storage

    store = open_storage(storage, root, existing=True)
    # The storage's own view, not optuna.get_all_study_summaries: that deep-copies every
    # trial of every study (5 of the 7 seconds of a 10,000-trial status).
    studies = store.get_all_studies()
    console = Console()
    if name is None:
        rows = []
        for s in studies:
            record = s.user_attrs.get(ATTR, {})
            trials = store.get_all_trials(store.get_study_id_from_name(s.study_name),
                                          deepcopy=False)
            started = min((t.datetime_start for t in trials if t.datetime_start), default=None)
            state, reason = shown_state(s.study_name, record.get("status", "?"),
                                        record.get("reason", ""), storage, root,
                                        recorded=record.get(RUNS_KEY),
                                        resume=record.get(RESUME_KEY))
            rows.append((s.study_name, state, len(trials),
                         f"{started:%Y-%m-%d %H:%M}" if started else "", reason))
        print_table(("experiment", "status", "trials", "started", "reason"), rows, wide=wide,
                    console=console)
        return
    names = [s.study_name for s in studies]
    if name not in names:
        raise AutomlError(f"no experiment {name!r} in this storage; it holds: "
                          + (", ".join(names) or "none"))
    _print_view(console, _with_state(_view(optuna.load_study(study_name=name, storage=store),
                                           every), storage, root), wide)


def _with_state(view: dict[str, Any], storage: str | None, root: Path) -> dict[str, Any]:
    """``view`` with the state to show (:func:`shown_state`), its running trials
    :func:`cut_off` while no engine holds the experiment (counted and drawn so)."""
    state, reason = shown_state(view["name"], view["status"], view["reason"], storage, root,
                                resume=view.get("resume"))
    view = {**view, "status": state, "reason": reason}
    counts = dict(view["counts"])
    running = counts.pop("Running", 0)
    if not running or run_is_active(view["name"], storage, root):
        return view
    counts["Failed"] = counts.get("Failed", 0) + running
    view.update(counts=counts, running=[],
                cut_off=[cut_off(r) for r in view["running"]])
    if "rows" in view:
        view["rows"] = [cut_off(r) if r["status"] == "Running" else r for r in view["rows"]]
    return view


def status_view(spec: ExperimentSpec, *, record: Mapping[str, Any], total: int,
                counts: Mapping[str, int], leaders: list[Mapping[str, Any]],
                running: list[Mapping[str, Any]],
                ended: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """What ``automl status NAME`` shows, ready to draw (the engine saves it as a snapshot).

    Args:
        spec: The experiment.
        record: The experiment's automl record (its ``status`` and ``reason``).
        total: How many trials it has.
        counts: Trials per condition.
        leaders: The records of the best trials, best first (at most ``STATUS_TOP``).
        running: A record-like mapping per running trial: ``name``, ``status``, ``params``.
        ended: The records of the finished trials: without a best trial, the best line
            says why they failed (automl.results.failures).
    """
    failures = "" if leaders else failures_text(
        ((r.get("status", ""), r.get("reason")) for r in ended), total)
    return {"name": spec.name, "status": record.get("status", "?"),
            "reason": record.get("reason", ""), "resume": record.get(RESUME_KEY),
            "max_trials": spec.budget.max_trials,
            "best": best_line(spec, leaders[0] if leaders else None, failures), "total": total,
            "counts": dict(counts), "leaders": [status_row(spec, r) for r in leaders],
            "running": [status_row(spec, r) for r in running]}


def status_row(spec: ExperimentSpec, record: Mapping[str, Any]) -> dict[str, Any]:
    """A trial's row in the status tables: its parameters as people read them (NAS: words)."""
    from automl.spec.nas_assignments import shown_params

    objective = record.get("objective")
    return {"name": record["name"], "status": record["status"],
            "objective": "" if objective is None else objective_text(objective),
            "params": shown_params(spec.algorithm.name, record.get("params") or {}),
            "reason": record.get("reason", "")}


def running_row(name: str, params: Mapping[str, str]) -> dict[str, Any]:
    """A running trial's record-like mapping (it has no record yet)."""
    return {"name": name, "status": "Running", "params": dict(params)}


def _snapshot_view(name: str, storage: str | None, root: Path) -> dict[str, Any] | None:
    """The view the engine last saved for ``name``, if it is still true (else None)."""
    if "/" in name or name in (".", "..") or (storage is not None and "://" in storage):
        return None  # no runs folder of its own (the slow path says what is wrong with the name)
    return load_snapshot(runs_folder(name, storage, root),
                         Path(storage) if storage else root / JOURNAL)


def _view(study: optuna.Study, every: bool) -> dict[str, Any]:
    """The status view of a study, from its trials (with ``every``: all trials as ``rows``)."""
    from automl.local.space import assignments
    from automl.local.store import ATTR, stored_spec

    spec = stored_spec(study)
    trials = study.get_trials(deepcopy=False)
    rows = [t.user_attrs.get(ATTR) or {
        **running_row(f"{spec.name}-{t.number:04d}", assignments(spec, t.params)),
        "status": t.state.name.capitalize()} for t in trials]
    done = [r for t, r in zip(trials, rows, strict=True) if ATTR in t.user_attrs]
    order = ranking(((r["status"], r.get("objective")) for r in done),
                    maximize=spec.objective.type == "maximize", algorithm=spec.algorithm.name)
    view = status_view(
        spec, record=study.user_attrs.get(ATTR, {}), total=len(trials),
        counts=Counter(r["status"] for r in rows),
        leaders=[done[k] for k in order[:STATUS_TOP]], ended=done,
        running=[r for t, r in zip(trials, rows, strict=True)
                 if ATTR not in t.user_attrs and t.state.name == "RUNNING"])
    if every:
        view["rows"] = [status_row(spec, r) for r in rows]
    return view


def _print_view(console: Console, view: Mapping[str, Any], wide: bool) -> None:
    name = view["name"]
    print_line(console, name, f"{view['status']} {view['reason']}", sep=": ")
    print_line(console, counts_line(view["total"], view["max_trials"], view["counts"].items()))
    print_line(console, view["best"])
    if "rows" in view:
        _table(console, view["rows"], wide)
        return
    leaders = view["leaders"]
    if leaders:
        _table(console, leaders, wide, f"best {len(leaders)}")
    if view["running"]:
        _table(console, view["running"], wide, "running")
    if view.get("cut_off"):
        _table(console, view["cut_off"], wide, "cut off")
    shown = len(leaders) + len(view["running"]) + len(view.get("cut_off", ()))
    if view["total"] > shown:
        print_line(console, more_line(view["total"] - shown, name, shown=shown))


def _table(console: Console, rows: list[Mapping[str, Any]], wide: bool,
           title: str | None = None) -> None:
    """One row per trial: status, objective, what it received (for NAS: in words), reason."""
    params = list(dict.fromkeys(k for r in rows for k in r["params"]))
    print_table(("trial", "status", "objective", *params, "reason"),
                [(r["name"], r["status"], r["objective"],
                  *(short_value(r["params"][p]) if p in r["params"] else "" for p in params),
                  r["reason"]) for r in rows],
                wide=wide, title=title, console=console)
