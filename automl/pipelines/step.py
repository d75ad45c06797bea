"""What the pipeline's tuning step does, without kfp: run, wait with a timeout, write outputs.

The KFP component (``automl.pipelines.component``) is a thin wrapper around
:func:`run_tuning`: kfp ships only the component function's source to the container, so the
work lives here, in the automl the image installs, where it can be tested without kfp.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl.errors import AutomlError

if TYPE_CHECKING:
    from automl.local import LocalEngine
    from automl.spec import ExperimentSpec

__all__ = ["BACKENDS", "TuningFailed", "TuningResult", "TuningTimeout", "run_tuning"]

BACKENDS = ("local", "katib")
"""local: the trials run inside the step. katib: the step creates the Experiment on the
cluster it runs in and waits for it, as the old katib-launcher component did."""

_TOP_TRIALS = 10  # the Markdown summary lists this many trials; the CSV holds them all


class TuningFailed(AutomlError):
    """The experiment ended Failed, or finished without any trial reporting the objective."""


class TuningTimeout(AutomlError, TimeoutError):
    """The experiment did not finish within ``timeout_minutes``; it was stopped."""


@dataclass
class TuningResult:
    """What the tuning step hands to the rest of the pipeline.

    Attributes:
        name: The experiment.
        metric: The objective metric's name.
        objective: The best trial's objective value (a string for DARTS's ``Best-Genotype``).
        best_params: Parameter name → value, as strings exactly as the trials received them
            (Katib's ``currentOptimalTrial.parameterAssignments``).
        trials: How many trials were recorded.
        goal_reached: The experiment ended by reaching its objective goal (Katib's reason
            ExperimentGoalReached), not by running out of trials.
    """

    name: str
    metric: str
    objective: float | str
    best_params: dict[str, str]
    trials: int
    goal_reached: bool


def run_tuning(spec_json: str, *, trials_path: str | Path, tensorboard_dir: str | Path,
               summary_path: str | Path, backend: str = "local", timeout_minutes: float = 0.0,
               root: str | Path | None = None) -> TuningResult:
    """Run an experiment to its end and write the step's outputs.

    Args:
        spec_json: The experiment as JSON: automl's format (``spec.model_dump(mode="json",
            by_alias=True)``) or a Katib ``Experiment`` object.
        trials_path: Where the trials table goes (CSV).
        tensorboard_dir: A folder for the TensorBoard logs (created).
        summary_path: Where the Markdown summary goes.
        backend: ``local`` (the trials run inside this step) or ``katib`` (the step creates
            the Experiment in its own namespace, with the pod's service account).
        timeout_minutes: Stop the run and fail when it takes longer; 0 waits forever.
        root: Folder for the Optuna journal and trial logs; a folder on a persistent volume
            lets a re-run resume. Default: a fresh temporary folder.

    Returns:
        The best trial's parameters and objective.

    Raises:
        AutomlError: For an unknown backend or an invalid experiment.
        TuningFailed: When the experiment ends Failed (with Katib's reason).
        TuningTimeout: When ``timeout_minutes`` passes first.

    Example:
        >>> result = run_tuning(spec.model_dump_json(by_alias=True), trials_path="t.csv",
        ...                     tensorboard_dir="tb", summary_path="summary.md")
        >>> result.best_params
        {'C': '3.27', 'gamma': '0.0012', 'kernel': 'rbf'}
    """
    if backend not in BACKENDS:
        raise AutomlError(f"unknown backend {backend!r}; expected one of: "
                          f"{', '.join(BACKENDS)}")
    from automl._api import load
    from automl.local import LocalEngine

    spec = load(json.loads(spec_json))
    if backend == "katib":
        return _run_katib(spec, Path(trials_path), Path(tensorboard_dir), Path(summary_path),
                          timeout_minutes)
    with contextlib.ExitStack() as stack:
        if not root:  # outputs are copied out, so the journal and trial logs can go
            root = stack.enter_context(tempfile.TemporaryDirectory(prefix="automl-step-"))
        return _run(spec, LocalEngine(spec, root=Path(root), progress=False), Path(root),
                    Path(trials_path), Path(tensorboard_dir), Path(summary_path),
                    timeout_minutes)


def _run(spec: ExperimentSpec, engine: LocalEngine, root: Path, trials_path: Path,
         tensorboard_dir: Path, summary_path: Path, timeout_minutes: float) -> TuningResult:
    # The engine stops on its cancel event as it does on Ctrl-C: running trials are killed
    # and recorded, then it raises KeyboardInterrupt. A timer setting that event is the
    # launcher's "wait with a timeout" without a second process.
    timed_out = threading.Event()
    timer = None
    if timeout_minutes and timeout_minutes > 0:
        timer = threading.Timer(timeout_minutes * 60, lambda: (timed_out.set(),
                                                               engine.cancel.set()))
        timer.daemon = True
        timer.start()
    try:
        summary = engine.run()
    except KeyboardInterrupt:
        if not timed_out.is_set():
            raise
        count = _write_outputs(spec.name, root, trials_path, tensorboard_dir, summary_path,
                               "Running", f"timed out after {timeout_minutes:g} minutes", None)
        raise TuningTimeout(f"experiment {spec.name!r} did not finish within "
                            f"{timeout_minutes:g} minutes ({count} trials recorded); it was "
                            "stopped and its running trials killed") from None
    finally:
        if timer is not None:
            timer.cancel()
    return _finish(spec, summary, _write_outputs(spec.name, root, trials_path,
                                                 tensorboard_dir, summary_path,
                                                 summary.status, summary.reason, summary.best))


def _run_katib(spec: ExperimentSpec, trials_path: Path, tensorboard_dir: Path,
               summary_path: Path, timeout_minutes: float) -> TuningResult:
    from automl.katib.backend import collect, run_on_katib
    from automl.katib.cluster import KatibCluster

    cluster = KatibCluster()
    try:
        summary = run_on_katib(spec, cluster, progress=False,
                               timeout=timeout_minutes * 60 if timeout_minutes else None)
    except TimeoutError as exc:
        _write(collect(spec.name, cluster), trials_path, tensorboard_dir, summary_path,
               "Running", str(exc), None)
        raise TuningTimeout(f"{exc}; it goes on running on the cluster") from None
    return _finish(spec, summary, _write(collect(spec.name, cluster), trials_path,
                                         tensorboard_dir, summary_path, summary.status,
                                         summary.reason, summary.best))


def _finish(spec: ExperimentSpec, summary: Any, count: int) -> TuningResult:
    if summary.status == "Failed":
        raise TuningFailed(f"experiment {spec.name!r} ended Failed: {summary.reason}")
    if summary.best is None:
        raise TuningFailed(f"experiment {spec.name!r} ended {summary.status} "
                           f"({summary.reason}) but no trial reported the objective "
                           f"{spec.objective.metric!r}")
    value = summary.best["objective"]
    return TuningResult(spec.name, spec.objective.metric,
                        value if isinstance(value, str) else float(value),
                        dict(summary.best["params"]), count,
                        summary.reason.startswith("ExperimentGoalReached"))


def _write_outputs(name: str, root: Path, trials_path: str | Path,
                   tensorboard_dir: str | Path, summary_path: str | Path, status: str,
                   reason: str, best: dict[str, Any] | None) -> int:
    """The outputs of a local run; see :func:`_write`."""
    from automl.results import load_results

    return _write(load_results(name, root=root), trials_path, tensorboard_dir, summary_path,
                  status, reason, best)


def _write(results: Any, trials_path: str | Path, tensorboard_dir: str | Path,
           summary_path: str | Path, status: str, reason: str,
           best: dict[str, Any] | None) -> int:
    """Trials CSV, TensorBoard folder and Markdown summary; returns the number of trials.

    Written before a failure is raised too: kfp.local keeps them for a look at what went
    wrong (a cluster run may not upload a failed step's outputs).
    """
    Path(trials_path).parent.mkdir(parents=True, exist_ok=True)
    results.trials.to_csv(trials_path, index=False)
    results.to_tensorboard(Path(tensorboard_dir))
    Path(summary_path).write_text(_markdown(results, status, reason, best), encoding="utf-8")
    return len(results.trials)


def _markdown(results: Any, status: str, reason: str, best: dict[str, Any] | None) -> str:
    spec = results.spec
    lines = [f"# Experiment `{spec.name}`: {status}", "", reason, ""]
    if best is not None:
        value = best["objective"]
        shown = f"{value:.6g}" if isinstance(value, float) else f"`{value}`"
        lines += [f"Best trial `{best['name']}`: **{spec.objective.metric} = "
                  f"{shown}** ({spec.objective.type})", "",
                  "| parameter | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in best["params"].items()]
        lines.append("")
    table = results.best(_TOP_TRIALS) if best is not None else results.trials.head(_TOP_TRIALS)
    columns = [c for c in table.columns
               if c in ("trial", "status", "objective") or c.startswith("params.")]
    lines += [f"## Trials ({len(table)} of {len(results.trials)} shown)", "",
              table[columns].to_markdown(index=False), ""]
    return "\n".join(lines)
