"""run_local(): run a whole pipeline on this machine with kfp.local, in this environment.

kfp.local's SubprocessRunner runs each lightweight Python component as a child process of
this Python (``use_venv=False``: no virtualenv, no network) and writes outputs under
``<pipeline_root>/<pipeline>-<timestamp>/<task>/<output>``. When a task fails it raises only
"Inner task failed: <task>"; the component's own error is in the streamed logs, so those are
read to raise the real reason.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import re
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from automl._lifetime import watched_by_descendants
from automl.errors import AutomlError
from automl.pipelines.compile import PipelineSource, load_pipeline
from automl.state.progress import PLAIN_LINE

__all__ = ["PipelineFailed", "run_local"]

# The last line of a Python traceback, as kfp.local streams it (indented): "pkg.Error: text".
_ERROR_LINE = re.compile(r"^\s*([A-Za-z_][\w.]*(?:Error|Exception|Timeout|Failed)): (.+)$")


class PipelineFailed(AutomlError):
    """A pipeline task failed; the message carries the component's own error.

    Attributes:
        task: The failed task, as kfp.local names it.
        error: The component's exception line, e.g. ``TuningFailed: experiment 't' ...``.
    """

    exit_code = 1  # the pipeline ran and a step failed (an experiment ended Failed): not bad input

    def __init__(self, message: str, task: str, error: str) -> None:
        super().__init__(message)
        self.task = task
        self.error = error


def run_local(pipeline_func_or_path: PipelineSource, pipeline_root: str | Path,
              arguments: Mapping[str, Any] | None = None, *, quiet: bool = False,
              progress: bool = False) -> dict[str, Any]:
    """Run a pipeline with kfp.local's SubprocessRunner in the current environment.

    Args:
        pipeline_func_or_path: A pipeline function, an experiment file, a Python file
            defining ``pipeline``, or a compiled pipeline YAML (see ``load_pipeline``).
        pipeline_root: Where kfp.local writes every task's outputs.
        arguments: Pipeline parameters, e.g. ``{"timeout_minutes": 5}``.
        quiet: Do not echo kfp.local's logs to stdout.
        progress: With ``quiet``, still show the tuning step's line per finished trial
            (``[3/12] digits-svm-0002 Succeeded ...``) on stderr.

    Returns:
        ``run_dir`` (this run's folder), ``best_params`` (the parsed JSON of the first task
        output called ``best_params``, else None), ``outputs`` ({task: {output: parameter
        value or artifact Path}}) and ``metrics`` ({task: {metric: value}}, from Metrics
        artifacts, which write no file). A task that ran in a ``dsl.ParallelFor`` is named
        ``<loop>-iteration-<i>/<task>``; one a ``dsl.If`` skipped is absent.

    Raises:
        PipelineFailed: When a task fails, with its exception (e.g. the experiment's reason).

    Example:
        >>> out = run_local("examples/pipeline/pipeline.py", Path("/tmp/kfp-root"))
        >>> out["best_params"], out["metrics"]["train"]
        ({'C': '5.3', 'gamma': '0.0013', 'kernel': 'rbf'}, {'test_accuracy': 0.98})
    """
    from kfp import local

    pipeline = load_pipeline(pipeline_func_or_path)
    root = Path(pipeline_root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    before = set(root.iterdir())
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root),
               raise_on_error=True)
    logs = io.StringIO()
    echo: TextIO | None = sys.stdout if not quiet else (_Trials(sys.stderr) if progress
                                                        else None)
    # kfp.local indents each task's log by swapping builtins.print and restoring the one it
    # found; tasks of a ParallelFor run in threads, so one can restore another's indenting
    # print and leave every later print of this process indented.
    original_print = builtins.print
    with contextlib.redirect_stdout(_Tee(logs, echo)), warnings.catch_warnings():
        # kfp.local notes that display names do nothing locally, once per task, on stderr.
        warnings.filterwarnings("ignore", r"Task .*: settings \['display_name'\] have no effect")
        try:
            # kfp.local's task runs under two shells: a killed run would leave it tuning.
            with watched_by_descendants():
                pipeline(**dict(arguments or {}))
        except RuntimeError as exc:
            raise _failure(str(exc), logs.getvalue()) from exc
        finally:
            builtins.print = original_print
    created = sorted((p for p in root.iterdir() if p not in before and p.is_dir()),
                     key=lambda p: p.stat().st_mtime)
    if not created:
        raise AutomlError(f"kfp.local wrote no run folder under {root}")
    return _collect(created[-1], _metrics_outputs(pipeline))


class _Tee(io.TextIOBase):
    """Keeps kfp.local's streamed logs (it prints them) and still shows them."""

    def __init__(self, keep: io.StringIO, echo: TextIO | None) -> None:
        self.keep, self.echo = keep, echo

    def write(self, text: str) -> int:
        self.keep.write(text)
        if self.echo is not None:
            self.echo.write(text)
        return len(text)

    def flush(self) -> None:
        if self.echo is not None:
            self.echo.flush()


class _Trials(io.TextIOBase):
    """Passes on the tuning step's trial lines alone, without kfp.local's indent."""

    def __init__(self, out: TextIO) -> None:
        self.out, self.rest = out, ""

    def write(self, text: str) -> int:
        *lines, self.rest = (self.rest + text).split("\n")
        for line in lines:
            found = PLAIN_LINE.search(line)
            if found:
                self.out.write(found.group(0) + "\n")
                self.out.flush()
        return len(text)


def _failure(message: str, logs: str) -> PipelineFailed:
    # "Inner task failed: 'tune'." or, in a group, "... 'tune' inside 'exit-handler-1'."
    task = re.search(r"Inner task failed: '?([^'.]+)", re.sub(r"\x1b\[[0-9;]*m", "", message))
    task_name = task.group(1) if task else "?"
    errors = [m for m in map(_ERROR_LINE.match, logs.splitlines()) if m]
    error = f"{errors[-1].group(1).rsplit('.', 1)[-1]}: {errors[-1].group(2)}" if errors else (
        "no error line in the task's logs")
    return PipelineFailed(f"pipeline task {task_name!r} failed: {error}", task_name, error)


def _metrics_outputs(pipeline: Any) -> set[tuple[str, str]]:
    """(task, output) pairs typed Metrics in the pipeline spec: they are metadata, not files.

    Tasks inside ``dsl.If``, ``ParallelFor`` and ``ExitHandler`` are in their group's DAG.
    """
    spec = pipeline.pipeline_spec
    dags = [spec.root.dag, *(c.dag for c in spec.components.values() if c.HasField("dag"))]
    found = set()
    for dag in dags:
        for task_name, task in dag.tasks.items():
            component = spec.components[task.component_ref.name]
            for out, definition in component.output_definitions.artifacts.items():
                if definition.artifact_type.schema_title.endswith("Metrics"):
                    found.add((task_name, out))
    return found


def _collect(run_dir: Path, metrics_outputs: set[tuple[str, str]]) -> dict[str, Any]:
    outputs: dict[str, dict[str, Any]] = {}
    metrics: dict[str, dict[str, Any]] = {}
    best_params = None
    for executor_output in sorted(run_dir.glob("**/executor_output.json")):
        # A ParallelFor iteration's task is "<for-loop-N-iteration-I>/<task>"
        task = executor_output.parent.relative_to(run_dir).as_posix()
        data = json.loads(executor_output.read_text(encoding="utf-8"))
        values: dict[str, Any] = dict(data.get("parameterValues", {}))
        for out, entry in data.get("artifacts", {}).items():
            artifact = entry["artifacts"][0]
            if (executor_output.parent.name, out) in metrics_outputs:
                metrics.setdefault(task, {}).update(artifact.get("metadata", {}))
            else:
                values[out] = Path(artifact["uri"])
        outputs[task] = values
        if best_params is None and isinstance(values.get("best_params"), str):
            best_params = json.loads(values["best_params"])
    return {"run_dir": run_dir, "best_params": best_params, "outputs": outputs,
            "metrics": metrics}
