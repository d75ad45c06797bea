"""Running an experiment on Katib: create (or reattach), follow, collect."""

from __future__ import annotations

import logging
import time
from typing import Any

from automl._katib_sdk import katib_sdk
from automl.errors import AutomlError
from automl.katib.cluster import KatibCluster, KatibError
from automl.katib.from_katib import from_katib
from automl.katib.results import katib_results, trial_rows
from automl.katib.to_katib import katib_dict, to_katib
from automl.results import Results
from automl.spec import ExperimentSpec
from automl.state import RunSummary, best_trial
from automl.state.progress import Progress, best_text

__all__ = ["FOLLOW_FAILURES", "cluster_best", "collect", "experiment_spec", "experiment_state",
           "run_on_katib"]

log = logging.getLogger(__name__)

FOLLOW_FAILURES = 5
"""Looks in a row that may fail (each after its own retries) while following a run: the
experiment runs on without us, so an API server restart need not end ``automl run``."""


def run_on_katib(spec: ExperimentSpec, cluster: KatibCluster, *, resume: bool = False,
                 poll_seconds: float = 5.0, progress: bool = True,
                 timeout: float | None = None) -> RunSummary:
    """Create the Experiment (or with ``resume`` reattach to it) and follow it to its end.

    Ctrl-C stops following; the experiment goes on running on the cluster. A look at it
    that fails in a way that may pass (5xx, a timeout) is logged and made again at the next
    poll, up to :data:`FOLLOW_FAILURES` in a row.

    Raises:
        KatibError: When the cluster refuses (exists already without ``resume``, forbidden,
            no Katib, ...), or stays unavailable.
        TimeoutError: When ``timeout`` seconds pass before the experiment ends (it goes on
            running on the cluster).
    """
    to_katib(spec)  # Katib's rules, and what a cluster needs, before anything is sent
    if resume:
        cluster.get(spec.name)
    else:
        cluster.create(katib_dict(spec))
    deadline = time.monotonic() + timeout if timeout else None
    failures = 0
    with Progress(spec.name, spec.budget.max_trials, enabled=progress) as bar:
        while True:
            try:
                experiment = cluster.get(spec.name)
                trials = cluster.trials(spec.name)
            except KatibError as exc:
                failures += 1
                if not exc.transient or failures > FOLLOW_FAILURES:
                    raise
                log.warning("%s; the experiment runs on: looking again in %g s", exc,
                            poll_seconds)
                time.sleep(poll_seconds)
                continue
            failures = 0
            state, reason, counts = experiment_state(experiment)
            best = cluster_best(spec, trials)
            done = sum(n for s, n in counts.items() if s not in ("Running", "Pending"))
            bar.update(done, counts.get("Running", 0),
                       counts.get("Failed", 0) + counts.get("MetricsUnavailable", 0),
                       best_text(spec, best))
            if state in ("Succeeded", "Failed"):
                break
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"experiment {spec.name!r} is still {state} after "
                                   f"{timeout:g} s")
            time.sleep(poll_seconds)
    return RunSummary(spec.name, state, reason, counts, best)


def experiment_state(experiment: dict[str, Any]) -> tuple[str, str, dict[str, int]]:
    """(Succeeded | Failed | Running | Created, reason, trial counts) of an Experiment."""
    status = experiment.get("status") or {}
    state, reason = "Created", ""
    for c in status.get("conditions") or []:
        if c.get("status") == "True":
            state, reason = c.get("type", state), f"{c.get('reason', '')}: {c.get('message', '')}"
    counts = {k: status.get(f) or 0 for k, f in (
        ("Succeeded", "trialsSucceeded"), ("Failed", "trialsFailed"),
        ("EarlyStopped", "trialsEarlyStopped"), ("Killed", "trialsKilled"),
        ("MetricsUnavailable", "trialMetricsUnavailable"), ("Running", "trialsRunning"),
        ("Pending", "trialsPending"))}
    return state, reason, {k: v for k, v in counts.items() if v}


def collect(name: str, cluster: KatibCluster, db_manager: str | None = None) -> Results:
    """The Results of the cluster's Experiment ``name``, from its Trials.

    Args:
        name: The experiment.
        cluster: Where it runs.
        db_manager: Katib's DB manager address (``host:port``, e.g. after ``kubectl
            port-forward svc/katib-db-manager -n kubeflow 6789``) for the full observation
            logs; without it the observations table is empty.

    Raises:
        KatibError: When the cluster refuses; AutomlError when the DB manager cannot answer
            or, with ``db_manager``, kubeflow-katib (``automl[katib-sdk]``) is not installed.
    """
    client = None
    if db_manager:  # a missing kubeflow-katib is said before any cluster call
        client = katib_sdk("--db-manager").KatibClient(
            config_file=cluster.config_file, context=cluster.context, namespace=cluster.namespace)
    spec = experiment_spec(cluster.get(name))
    trials = cluster.trials(name)
    logs = _logs(client, trials, db_manager) if client and db_manager else None
    return katib_results(spec, trials, logs)


def experiment_spec(experiment: dict[str, Any]) -> ExperimentSpec:
    """The ExperimentSpec of a cluster's Experiment object (its status and server fields left)."""
    return from_katib({k: v for k, v in experiment.items() if k != "status"}
                      | {"metadata": {k: v for k, v in experiment["metadata"].items()
                                      if k in ("name", "namespace", "annotations")}})


def _logs(client: Any, trials: list[dict[str, Any]], db_manager: str) -> dict[str, list[Any]]:
    logs = {}
    for trial in trials:
        name = trial["metadata"]["name"]
        try:
            logs[name] = list(client.get_trial_metrics(name, db_manager_address=db_manager,
                                                       timeout=30))
        except RuntimeError as exc:
            raise AutomlError(f"Katib DB manager at {db_manager} did not answer for trial "
                              f"{name}: {str(exc).splitlines()[0]}") from None
    return logs


def cluster_best(spec: ExperimentSpec, trials: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The best of a cluster's Trial objects by the local engine's rule (automl.state.best).

    Not Katib's currentOptimalTrial, which a trial that printed ``loss=-inf`` takes (Katib's
    default filter reads ``-``, a text, and any text wins there).
    """
    return best_trial(spec, [{**row, "name": row["trial"]} for row in trial_rows(spec, trials)])
