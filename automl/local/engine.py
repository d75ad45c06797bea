"""The local engine: one process owns the study (ask/tell) and runs trials as processes."""

from __future__ import annotations

import fcntl
import functools
import json
import logging
import os
import signal
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import optuna
import yaml
from optuna.storages import JournalStorage
from optuna.trial import TrialState

from automl.errors import AutomlError, Terminated
from automl.local import conditions
from automl.local.conditions import COMPLETED, FAILED
from automl.local.devices import DevicePool
from automl.local.job import build_job
from automl.local.journal import one_write
from automl.local.lock import Check
from automl.local.medianstop import MedianStop
from automl.local.metrics import reduce_observations
from automl.local.paths import RUN_LOCK, runs_folder
from automl.local.runner import SubprocessRunner, TrialOutcome, TrialRunner
from automl.local.samplers import make_sampler
from automl.local.schedule import TAG, Step, make_schedule
from automl.local.snapshot import SnapshotWriter
from automl.local.space import assignments, search_space, trial_value
from automl.local.status import resume_command, running_row, status_view
from automl.local.store import (
    ATTR,
    DEFAULT_ROOT,
    dashboard_attrs,
    open_storage,
    open_study,
    storage_file,
)
from automl.spec import ExperimentSpec, SpecError, check
from automl.spec.algorithms import service_of
from automl.spec.errors import render_path
from automl.spec.source import Location, locate
from automl.state import RunSummary, Tally, unavailable_reason
from automl.state.cut import INTERRUPTED
from automl.state.progress import STATUS_TOP, Progress, best_text, objective_text

__all__ = ["LocalEngine"]

logger = logging.getLogger(__name__)

_TICK_SECONDS = 0.2
_SNAPSHOT_SECONDS = 0.25
"""Trials that end faster than this share one status snapshot (a save is a file written and
renamed); the last change is saved on the next tick, and the run's end at once."""


class LocalEngine:
    """Runs an ExperimentSpec on this machine with Katib's semantics.

    Args:
        spec: The experiment.
        storage: An Optuna storage URL or journal path (default ``.automl/studies.journal``).
        root: The folder of the default storage (trial folders: :func:`runs_folder`).
        runner: How trials run (default: subprocesses).
        progress: Show progress on stderr.
        seed: Seeds the sampler unless the algorithm's ``random_state`` setting does.
        katib_shell: Run each trial's command under ``sh -c`` as Katib does
            (:func:`automl.local.job.build_job`).
        experiment_file: The file the experiment was loaded from, if any (recorded with the
            study: the command that resumes the run, :func:`resume_command`).
    """

    def __init__(self, spec: ExperimentSpec, storage: str | None = None,
                 root: Path = DEFAULT_ROOT, runner: TrialRunner | None = None,
                 progress: bool = True, seed: int | None = None,
                 katib_shell: bool = False, experiment_file: Path | None = None) -> None:
        findings = check(spec)
        if findings:  # e.g. a name like "../x" would otherwise reach the runs folder's path
            raise SpecError(locate(findings, lambda p: (render_path(p), Location())))
        self.spec = spec
        self.root = root
        self.runner = runner or SubprocessRunner()
        self.show_progress = progress
        self.seed = seed
        self.katib_shell = katib_shell
        self.storage = open_storage(storage, root)
        # how to resume, shown by list/status once the run is interrupted: without the
        # function's identity, which run() computes (a function's digest costs a walk)
        self._resume = functools.partial(resume_command, experiment_file, storage, root,
                                         katib_shell=katib_shell)
        self.runs = runs_folder(spec.name, storage, root)
        self.cancel = threading.Event()
        self.schedule = make_schedule(spec, self.runs, seed)
        self.median = MedianStop(spec)  # rebuilt from the stored trials by each run()
        self.devices = DevicePool.for_spec(spec)
        self._gpus: dict[Future, list[str] | None] = {}  # the GPUs each running trial holds
        # automl status reads what the engine saves there (automl.local.snapshot)
        journal = storage_file(self.storage) if isinstance(self.storage, JournalStorage) else None
        self.snapshots = SnapshotWriter(journal) if journal is not None else None
        self._saved_at, self._unsaved = 0.0, False
        self._shown: dict[str, Any] = {}  # the study's record and its trials not in the tally
        # raises LockLost once this engine no longer holds its experiment (set by run())
        self._held: Check = lambda: None

    def run(self) -> RunSummary:
        """Run (or resume) the experiment until Katib would call it finished.

        Raises:
            AutomlError: When another engine runs the same experiment, or the stored
                experiment of that name differs in more than its budget.
            LockLost: When this engine lost its lock while it ran (it wrote nothing after).
            StorageError: When the storage fails (a full disk, a server gone).
        """
        spec = self.spec
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = make_sampler(spec, self.seed)
        self.runs.mkdir(parents=True, exist_ok=True)
        # Locked first: an engine refused changes nothing in the study (not even its budget).
        with _exclusive(self.storage, self.runs, spec.name, self.cancel) as held:
            self._held = held
            held()
            identity = self.runner.identity()
            study = open_study(spec, self.storage, sampler, _katib_yaml(spec), identity,
                               options={"katib_shell": self.katib_shell}, runs=self.runs,
                               resume=self._resume(function="function" in identity))
            if self.schedule is not None:
                self.schedule.begin(fresh=self.storage.get_n_trials(study._study_id) == 0)
            self._recover(study)
            try:
                return self._loop(study)
            finally:
                if self.snapshots is not None:
                    self.snapshots.close()

    # ---- the loop ----------------------------------------------------------------------

    def _loop(self, study: optuna.Study) -> RunSummary:
        spec = self.spec
        space = search_space(spec)
        tally = Tally(maximize=spec.objective.type == "maximize", algorithm=spec.algorithm.name,
                      leaders=STATUS_TOP)
        self.median = MedianStop(spec)
        unrecorded: Counter[str] = Counter()  # finished without automl's record: only counted
        waiting = False
        for t in study.get_trials(deepcopy=False):
            record = _record(t)
            if record is not None:
                self._add(tally, record, t.number)
            elif t.state.is_finished():
                unrecorded[t.state.name.capitalize()] += 1
            else:
                waiting = True
        # A trial enqueued and never asked (an engine killed in between) is taken by the next
        # ask: a snapshot would count it twice, so this run leaves status to the journal.
        self._shown = {"record": dict(study.user_attrs[ATTR]), "others": unrecorded,
                       "study_id": study._study_id, "off": waiting}
        running: dict[Future, tuple[optuna.trial.Trial, str, dict[str, Any] | None]] = {}
        budget = spec.budget
        verdict = None
        with ThreadPoolExecutor(max_workers=budget.parallel_trials) as pool, \
                Progress(spec.name, budget.max_trials, enabled=self.show_progress) as bar, \
                _interrupt_sets(self.cancel) as caught, _cancel_on_error(self.cancel):
            bar.update(tally.total, 0, tally.count(*FAILED), best_text(spec, tally.best_summary()))
            changed = True
            while not self.cancel.is_set():
                verdict = conditions.verdict(spec, tally)
                if verdict is not None:
                    break
                steps = self._steps(tally, running)
                if steps is None:  # the schedule ran every trial it has
                    verdict, steps = ("Succeeded", self.schedule.ending(tally.records)), []
                for step in steps:
                    future, trial, name = self._create(study, space, pool, step)
                    running[future] = (trial, name, None if step is None else step.tag)
                    changed = True
                if changed or self._unsaved:  # trials that ended and started: one save
                    self._snapshot(tally, running)
                if verdict is not None:
                    break
                changed = self._collect(study, running, tally, bar)
            # Katib keeps reconciling the trials that run when the experiment completes: they
            # finish and are recorded as usual, and one of them may still become the best.
            while running and verdict is not None and not self.cancel.is_set():
                if self._collect(study, running, tally, bar):
                    self._snapshot(tally, running)
            # Ctrl-C (or an error): stop what still runs; each trial is recorded as Killed.
            self.cancel.set()
            for future, (trial, name, tag) in running.items():
                self._add(tally, self._tell(study, trial, name, future.result(), tag),
                          trial.number)
        if verdict is None:
            terminated = caught[:1] == [signal.SIGTERM]
            signal_name = "SIGTERM" if terminated else "Ctrl-C"
            self._finish(study, tally, "Running",
                         f"interrupted ({signal_name}); run again to resume")
            if terminated:
                raise Terminated(f"experiment {spec.name!r} stopped by SIGTERM: its running "
                                 "trials were killed, finished trials are kept; run the same "
                                 "command to resume")
            raise KeyboardInterrupt
        status, reason = conditions.concluded(verdict, self.schedule, tally)
        self._finish(study, tally, status, reason)
        return RunSummary(spec.name, status, reason, dict(tally.counts), tally.best_summary())

    def _collect(self, study: optuna.Study, running: dict[Future, Any], tally: Tally,
                 bar: Progress) -> bool:
        """Wait a tick for trials to end, and record each that did; whether any did."""
        spec = self.spec
        done, _ = wait(running, timeout=_TICK_SECONDS, return_when=FIRST_COMPLETED)
        for future in done:
            trial, name, tag = running.pop(future)
            self.devices.give(self._gpus.pop(future, None))
            record = self._tell(study, trial, name, future.result(), tag)
            self._add(tally, record, trial.number)
            bar.update(tally.total, len(running), tally.count(*FAILED),
                       best_text(spec, tally.best_summary()),
                       _trial_line(record, spec.objective.metric))
        if not done:
            bar.update(tally.total, len(running), tally.count(*FAILED),
                       best_text(spec, tally.best_summary()))
        return bool(done)

    def _add(self, tally: Tally, record: dict[str, Any], number: int) -> None:
        """A finished trial joins the counts, the best and the early-stopping rule."""
        tally.add(record, number)
        self.median.add(record)

    def _steps(self, tally: Tally, running: dict[Future, Any]) -> list[Step | None] | None:
        """The trials to create now, None for one the sampler alone chooses; None when the
        schedule has run every trial it has and none still runs."""
        free = self.devices.limit(conditions.free_slots(self.spec, tally, len(running)))
        if self.schedule is None or not free:
            return [None] * free
        steps = self.schedule.take(free, tally.records, [t for _, _, t in running.values()])
        if steps is None:
            return None if not running else []
        return list(steps)

    def _create(self, study: optuna.Study, space: dict[str, Any], pool: ThreadPoolExecutor,
                step: Step | None) -> tuple[Future, optuna.trial.Trial, str]:
        """One trial asked of the study (with a step's fixed values and tag) and started."""
        self._held()
        if step is not None:
            study.enqueue_trial(_typed(space, step.params), skip_if_exists=False)
        with warnings.catch_warnings():
            # a schedule sets values off the declared range or grid, as Katib's services do
            warnings.filterwarnings("ignore", "Fixed parameter .* out of range")
            with one_write(self.storage):  # the trial, its values and its tag: one fsync
                trial = study.ask(space)
                if step is not None:
                    trial.set_user_attr(TAG, step.tag)
        name = f"{self.spec.name}-{trial.number:04d}"
        mounts = {}
        if step is not None and self.schedule is not None:
            mounts = self.schedule.start(step, name, self.runs / name)
        job = build_job(self.spec, name, assignments(self.spec, trial.params), self.runs / name,
                        rule=self.median.rule(), katib_shell=self.katib_shell, mounts=mounts)
        devices = self.devices.take()
        job.env.update(self.devices.environment(devices))
        future = pool.submit(self.runner.run, job, self.cancel)
        self._gpus[future] = devices
        return future, trial, name

    def _tell(self, study: optuna.Study, trial: optuna.trial.Trial, name: str,
              outcome: TrialOutcome, tag: dict[str, Any] | None = None) -> dict[str, Any]:
        spec = self.spec
        values = reduce_observations(outcome.observations, spec.objective.metrics)
        objective = values[spec.objective.metric].value(spec.objective.strategy(
            spec.objective.metric))
        status, reason = outcome.status, outcome.reason
        unavailable = unavailable_reason(spec.objective.metric, objective,
                                         maximize=spec.objective.type == "maximize",
                                         algorithm=spec.algorithm.name)
        if status == "Succeeded" and unavailable is not None:
            status, reason = "MetricsUnavailable", "; ".join(r for r in (unavailable, reason) if r)
        history = [o.number for o in outcome.observations
                   if o.metric == spec.objective.metric and o.number is not None]
        record = {
            "name": name, "status": status, "reason": reason,
            "exit_code": outcome.exit_code, "log_dir": str(self.runs / name),
            "start": outcome.start_time, "end": outcome.end_time,
            # a number, or a text such as DARTS's genotype (Katib's value when not a number)
            "objective": objective,
            "metrics": {m: {"min": v.min, "max": v.max, "latest": v.latest}
                        for m, v in values.items()},
            "history": history[:_history_length(spec)],
            "params": assignments(spec, trial.params),
        }
        if tag is not None and self.schedule is not None:
            record[self.schedule.key] = tag
            note = self.schedule.note(tag, outcome.status)
            if note is not None:
                record["reason"] = f"{record['reason']}; {note}" if record["reason"] else note
        try:
            _write_observations(self.runs / name, outcome)
        except OSError as exc:  # e.g. a full disk: the result is in the record all the same
            note = f"observations.jsonl not written ({exc.strerror or exc})"
            record["reason"] = f"{record['reason']}; {note}" if record["reason"] else note
        self._held()
        with one_write(self.storage):  # the record and the trial's end, one fsync
            trial.set_user_attr(ATTR, record)
            for key, value in dashboard_attrs(record, spec).items():
                trial.set_user_attr(key, value)
            _tell_optuna(study, trial, record, self.spec)
        return record

    def _recover(self, study: optuna.Study) -> None:
        """Trials left running by an engine that died are recorded as Failed.

        Only while this engine holds the experiment's lock: an engine that lost it may still
        run them (until it notices), and their owner is then whoever holds it.
        """
        study_id = self.storage.get_study_id_from_name(study.study_name)
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            self._held()
            name = f"{self.spec.name}-{t.number:04d}"
            stored = t.user_attrs.get(ATTR)
            if stored is not None and stored.get("status") in COMPLETED:
                # killed between recording the trial and telling Optuna: the record stands
                _tell_optuna(study, t.number, stored, self.spec)
                continue
            record = {"name": name, "status": "Failed", "log_dir": str(self.runs / name),
                      "reason": INTERRUPTED,
                      "exit_code": None, "start": None, "end": None, "objective": None,
                      "metrics": {}, "history": [],
                      "params": assignments(self.spec, t.params)}
            if self.schedule is not None and TAG in t.user_attrs:
                record[self.schedule.key] = t.user_attrs[TAG]
            trial_id = self.storage.get_trial_id_from_study_id_trial_number(study_id, t.number)
            with one_write(self.storage):
                for key, value in {ATTR: record, **dashboard_attrs(record, self.spec)}.items():
                    self.storage.set_trial_user_attr(trial_id, key, value)
                study.tell(t.number, state=TrialState.FAIL)
            logger.info("trial %s was interrupted; recorded as Failed", name)

    def _finish(self, study: optuna.Study, tally: Tally, status: str, reason: str) -> None:
        self._held()
        record = dict(study.user_attrs[ATTR])
        record.update(status=status, reason=reason)
        study.set_user_attr(ATTR, record)
        self._shown["record"] = record
        self._snapshot(tally, {}, now=True)

    def _snapshot(self, tally: Tally, running: dict[Future, Any], now: bool = False) -> None:
        """Save what ``automl status`` shows, after the journal writes it reflects.

        At most every ``_SNAPSHOT_SECONDS`` unless ``now``: a status taken in between finds
        the snapshot behind the journal and replays the journal, as it would without one.
        """
        spec, shown = self.spec, self._shown
        if self.snapshots is None or shown["off"]:
            return
        clock = time.monotonic()
        if not now and clock - self._saved_at < _SNAPSHOT_SECONDS:
            self._unsaved = True
            return
        self._saved_at, self._unsaved = clock, False
        self._held()
        rows = [running_row(name, assignments(spec, trial.params))
                for trial, name, _ in running.values()]
        counts = tally.counts + shown["others"] + Counter({"Running": len(rows)})
        view = status_view(spec, record=shown["record"], total=sum(counts.values()),
                           counts=counts, leaders=list(tally.leaders()), running=rows,
                           ended=tally.records)
        self.snapshots.save(self.runs, view, shown["study_id"],
                            [trial._trial_id for trial, _, _ in running.values()])


def _trial_line(record: dict[str, Any], metric: str) -> str:
    value = record["objective"]
    shown = "" if value is None else f" {metric}={objective_text(value)}"
    reason = f" ({record['reason']})" if record["reason"] else ""
    return f"{record['name']} {record['status']}{shown}{reason}"


def _typed(space: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Recorded parameter strings back to the values Optuna's distributions hold."""
    typed = {}
    for name, value in params.items():
        dist = space.get(name)
        if isinstance(dist, optuna.distributions.CategoricalDistribution):
            typed[name] = next((c for c in dist.choices if trial_value(c) == str(value)), value)
        elif isinstance(dist, optuna.distributions.IntDistribution):
            typed[name] = int(float(value))
        else:
            typed[name] = float(value)
    return typed


def _record(t: optuna.trial.FrozenTrial) -> dict[str, Any] | None:
    return t.user_attrs.get(ATTR) if t.state.is_finished() else None


def _tell_optuna(study: optuna.Study, trial: optuna.trial.Trial | int,
                 record: dict[str, Any], spec: ExperimentSpec) -> None:
    """Optuna's state for a recorded trial; a DARTS genotype (no number) counts as FAIL.

    An early-stopped trial reaches the sampler as Katib gives it to the algorithm's service:
    hyperopt, optuna and skopt take it with its value (pkg/suggestion/v1beta1/internal/
    trial.py, Trial.convert), goptuna as pruned (pkg/suggestion/v1beta1/goptuna/converter.go).
    """
    numeric = isinstance(record.get("objective"), float)
    with_value = service_of(spec.algorithm.name) in ("hyperopt", "optuna", "skopt")
    if numeric and (record["status"] == "Succeeded" or (
            record["status"] == "EarlyStopped" and with_value)):
        study.tell(trial, record["objective"])
    elif record["status"] == "EarlyStopped":
        study.tell(trial, state=TrialState.PRUNED)
    else:
        study.tell(trial, state=TrialState.FAIL)


def _history_length(spec: ExperimentSpec) -> int:
    es = spec.early_stopping
    return int(es.settings.get("start_step", 4)) if es is not None else 0


def _write_observations(run_dir: Path, outcome: TrialOutcome) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    # O_NONBLOCK: a FIFO the trial left at this path fails the open (ENXIO) instead of
    # waiting for a reader for ever; a folder fails it too (EISDIR).
    fd = os.open(run_dir / "observations.jsonl",
                 os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    with open(fd, "w", encoding="utf-8") as file:
        for step, obs in enumerate(outcome.observations):
            file.write(json.dumps({"metric": obs.metric, "value": obs.value,
                                   "timestamp": obs.timestamp, "index": step}) + "\n")


def _katib_yaml(spec: ExperimentSpec) -> str | None:
    """The Katib manifest this experiment compiles to, or None when it cannot (no image).

    Written from ``katib_dict`` (what ``to_katib`` builds its model from) so that a local run
    does not pay for importing the Katib models.
    """
    from automl.katib import katib_dict
    from automl.spec.rules.trial import cluster_findings

    if list(cluster_findings(spec)):
        return None
    return yaml.safe_dump(katib_dict(spec), sort_keys=False)


@contextmanager
def _cancel_on_error(cancel: threading.Event) -> Iterator[None]:
    """An error in the loop stops the running trials, instead of waiting for them to end."""
    try:
        yield
    except BaseException:
        cancel.set()
        raise


@contextmanager
def _interrupt_sets(cancel: threading.Event) -> Iterator[list[int]]:
    """Ctrl-C (SIGINT) and SIGTERM set ``cancel`` instead of ending the run mid-write.

    SIGTERM is how ``timeout``, systemd, ``docker stop`` and Kubernetes stop a process: a
    stop, not a crash. The loop then stops every trial, records each as Killed and raises
    itself: KeyboardInterrupt for Ctrl-C, :class:`~automl.errors.Terminated` (exit status
    143) for SIGTERM. Yields the signals caught, in order. A signal ignored when the run
    starts stays ignored, as Python leaves it; only the main thread can take signals, so
    elsewhere they behave as usual.
    """
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return

    def stop(number: int, _frame: object) -> None:
        caught.append(number)
        cancel.set()

    previous = {number: signal.signal(number, stop) for number in (signal.SIGINT, signal.SIGTERM)
                if signal.getsignal(number) is not signal.SIG_IGN}
    try:
        yield caught
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def _exclusive(storage: optuna.storages.BaseStorage, runs: Path, name: str,
               cancel: threading.Event) -> Iterator[Check]:
    """One engine per experiment, refused rather than interleaved; a full disk ends it cleanly.

    Two locks: the storage's (its study: a lock on the journal or SQLite file itself, an
    advisory lock in a PostgreSQL database, see automl.local.lock), so that engines in two
    folders sharing one storage are refused too; then the runs folder's, which tells
    ``logs -f`` and ``status --watch`` in any folder that the run goes on.
    Yields the storage lock's check, which the engine calls before each write; watched every
    second, a lost lock sets ``cancel`` so that the engine stops at once, writing nothing.
    A refusal, a lost lock, or a write that fails (disk full, server gone) ends the run with
    a one-line error and exit status 1 (not bad input); the study keeps what it recorded and
    the same command resumes.
    """
    from automl.local.lock import ExperimentBusy, database_lock, storage_lock, watch
    from automl.local.storage_faults import storage_errors
    from automl.local.store import server_url, storage_file

    with storage_lock(storage_file(storage), name) as on_file, \
            database_lock(server_url(storage), name) as on_server, \
            open(runs / RUN_LOCK, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ExperimentBusy(f"experiment {name!r} is already running here (another "
                                 "'automl run' holds it)") from None

        def held() -> None:
            on_file()
            on_server()

        with storage_errors(f"experiment {name!r} stopped: {{cause}}; the study keeps "
                            "every trial recorded so far: {remedy}, then run the same "
                            "command to resume"), watch(held, cancel.set):
            try:
                yield held
            except AutomlError:
                raise
            except Exception:
                # A write refused because another engine took over (Optuna's "trial has
                # already finished"): what happened is the lock lost, if it was.
                held()
                raise
