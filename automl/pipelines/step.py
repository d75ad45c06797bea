"""What the pipeline's tuning step does, without kfp: run, wait with a timeout, write outputs.

The KFP component (``automl.pipelines.component``) is a thin wrapper around
:func:`run_tuning`: kfp ships only the component function's source to the container, so the
work lives here, in the automl the image installs, where it can be tested without kfp.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl._fs import join_under
from automl._markdown import cell
from automl._markdown import table as markdown_table
from automl.errors import AutomlError

if TYPE_CHECKING:
    from automl.spec import ExperimentSpec

__all__ = ["TuningFailed", "TuningResult", "TuningTimeout", "run_tuning"]

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
               root: str | Path | None = None, logs_dir: str | Path | None = None,
               progress: bool = True, namespace: str | None = None) -> TuningResult:
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
        logs_dir: A folder for each trial's logs, ``<trial>/stdout.log`` (and ``stderr.log``
            locally), kept as the step's output; None keeps none.
        progress: Print a line per finished trial (on stderr: the step's log).
        namespace: ``katib``: the namespace to create the Experiment in (default: the
            step pod's own, where its service account may create Experiments).

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
    from automl._api import load
    from automl._lifetime import end_with_watched
    from automl.backends import backend_class, get_backend

    end_with_watched()  # under automl pipeline run --local: stop (as on SIGTERM) when it ends
    backend_class(backend)  # an unknown name fails before the spec is read
    spec = load(json.loads(spec_json))
    outputs = (Path(trials_path), Path(tensorboard_dir), Path(summary_path))
    with contextlib.ExitStack() as stack:
        if not root:  # outputs are copied out, so the journal and trial logs can go
            root = stack.enter_context(tempfile.TemporaryDirectory(prefix="automl-step-"))
        chosen = get_backend(backend, root=root, namespace=namespace or None)
        try:
            summary = chosen.run(spec, progress=progress,
                                 timeout=timeout_minutes * 60 if timeout_minutes > 0 else None)
        except TimeoutError as exc:
            results = chosen.results(spec.name)
            count = _write(results, *outputs, "Running", str(exc), None)
            _keep_logs(chosen, results, logs_dir)
            raise TuningTimeout(f"{exc} ({count} trials recorded)") from None
        results = chosen.results(spec.name)
        count = _write(results, *outputs, summary.status, summary.reason, summary.best)
        _keep_logs(chosen, results, logs_dir)
        return _finish(spec, summary, count)


def _keep_logs(backend: Any, results: Any, logs_dir: str | Path | None) -> None:
    """Each trial's logs under ``logs_dir/<trial>/``, as ``automl logs`` reads them."""
    if logs_dir is None:
        return
    for trial in results.trials["trial"]:
        folder = join_under(Path(logs_dir), str(trial), "trial name")
        folder.mkdir(parents=True, exist_ok=True)
        for stream, stderr in (("stdout.log", False), ("stderr.log", True)):
            try:
                lines = list(backend.logs(results.name, str(trial), stderr=stderr))
            except AutomlError as exc:  # Katib keeps one log per pod; a pod already gone
                if not stderr:
                    (folder / stream).write_text(f"(no log: {exc})\n", encoding="utf-8")
                continue
            (folder / stream).write_text("".join(f"{line}\n" for line in lines),
                                         encoding="utf-8")


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
        lines += [f"| {cell(k)} | {cell(str(v))} |" for k, v in best["params"].items()]
        lines.append("")
    table = results.best(_TOP_TRIALS) if best is not None else results.trials.head(_TOP_TRIALS)
    columns = [c for c in table.columns
               if c in ("trial", "status", "objective") or c.startswith("params.")]
    lines += [f"## Trials ({len(table)} of {len(results.trials)} shown)", "",
              markdown_table(table[columns]), ""]
    return "\n".join(lines)
