"""One trial as a process to run: the argument list, environment and metrics to watch.

Katib renders the trial template by plain text substitution of ``${trialParameters.x}`` and,
for the StdOut, File and TensorFlowEvent collectors, runs the primary container's command and
args joined under ``sh -c`` (:mod:`automl.spec.shell`). Locally there is no shell by default:
quoting written in the template (e.g. ``--architecture="${trialParameters.arch}"``) is removed
from the template words as the shell would, and the values are then put in verbatim, so a
value can never be split, expanded or executed. With ``katib_shell`` the trial runs as Katib
runs it: the substituted words joined under ``sh -c``, a StdOut trial's output redirected to
a metrics file after the last command, and only that file collected.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from automl._report import METRICS_FILE_ENV
from automl.errors import AutomlError
from automl.local.medianstop import StopRule
from automl.local.metrics import (
    JsonLinesCollector,
    MetricsCollectorBase,
    PushCollector,
    StdOutCollector,
    TextFileCollector,
    TfEventCollector,
)
from automl.spec import ExperimentSpec
from automl.spec.rules.trial import META_REFERENCE
from automl.spec.shell import SHELL_WRAPPED, render_word, stdout_redirect, wrap_in_shell
from automl.spec.trial import find_containers

__all__ = ["CHECKPOINT_ENV", "KATIB_STDOUT", "TrialJob", "build_job", "local_container",
           "replace_paths", "start_failure"]

KATIB_STDOUT = "metrics.log"
"""With ``katib_shell``: the file in the trial's folder a StdOut trial's output goes to."""
CHECKPOINT_ENV = "AUTOML_CHECKPOINT_DIR"
"""The local folder that stands for a pbt trial's ``suggestion_trial_dir``."""


@dataclass
class TrialJob:
    """Everything a runner needs to run one trial.

    Attributes:
        name: The trial name (``<experiment>-<number>``), also ``$KATIB_TRIAL_NAME``.
        argv: The program and its arguments (``sh -c <script>`` only with ``katib_shell``).
        env: The full environment of the process.
        cwd: Its working directory.
        run_dir: Where its logs and metrics files go.
        collector: How its metrics are read.
        watch: ``stdout`` (the output streams), ``file`` (``watch_file``) or ``none``.
        objective: The objective metric's name.
        deadline: Seconds after which the trial is stopped and fails (None: no deadline).
        rule: A medianstop rule attached when the trial was created, if any.
        assignments: Parameter name → value as the trial receives it (a string).
    """

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    run_dir: Path
    collector: MetricsCollectorBase
    watch: str
    objective: str
    watch_file: Path | None = None
    deadline: float | None = None
    rule: StopRule | None = None
    metrics: list[str] = field(default_factory=list)
    assignments: dict[str, str] = field(default_factory=dict)


def build_job(spec: ExperimentSpec, name: str, assignments: dict[str, str], run_dir: Path,
              *, rule: StopRule | None = None, cwd: Path | None = None,
              katib_shell: bool = False, mounts: Mapping[str, Path] | None = None) -> TrialJob:
    """Render the trial template for one assignment of parameter values.

    Args:
        spec: The experiment.
        name: The trial name.
        assignments: Parameter (or NAS assignment) name → value as the trial receives it.
        run_dir: The trial's own folder for logs and metrics files.
        rule: The medianstop rule for this trial, if any.
        cwd: Working directory when the template sets none (default: the current folder).
        katib_shell: Run the trial under ``sh -c`` as Katib does for the StdOut, File and
            TensorFlowEvent collectors (other kinds run as argument lists there too).
        mounts: A folder of the trial's container → the local folder that stands for it
            (pbt's ``suggestion_trial_dir``), put in wherever the command or env names it.

    Raises:
        AutomlError: When the template cannot run here (e.g. it lives in a ConfigMap).
    """
    container = local_container(spec)
    values = _placeholder_values(spec, name, assignments)
    kind = spec.trial.metrics_collector.kind
    katib_shell = katib_shell and kind in SHELL_WRAPPED
    words = [*container.get("command", []), *container.get("args", [])]
    argv = [render_word(w, values, unquote=kind in SHELL_WRAPPED and not katib_shell)
            for w in words]
    # only what the template wrote is rewritten below, never the environment inherited here
    written = {key: render_word(value, values, unquote=False)
               for key, value in container.get("env", {}).items()}
    run_dir.mkdir(parents=True, exist_ok=True)
    collector, watch, watch_file, local_path = _collector(spec, run_dir)
    # each trial gets its own copy of the collector's path, and of pbt's checkpoint folder
    paths = dict(mounts or {})
    if local_path is not None:
        paths = {spec.trial.metrics_collector.effective_path: local_path, **paths}
    argv = [replace_paths(a, paths) for a in argv]
    written = {k: replace_paths(v, paths) for k, v in written.items()}
    env = {**os.environ, **written, "KATIB_TRIAL_NAME": name}
    if local_path is not None:
        env["AUTOML_METRICS_PATH"] = str(local_path)
    for local in (mounts or {}).values():
        env[CHECKPOINT_ENV] = str(local)
    if watch_file is not None and kind == "Push":
        env[METRICS_FILE_ENV] = str(watch_file)
    if katib_shell:
        # Katib's tail after the redirect (the completion marker its sidecar waits for, the
        # early-stopping check) only tells its sidecar how the trial ended; the local engine
        # sees that from the process.
        tail = []
        if kind == "StdOut":
            watch, watch_file = "file", run_dir / KATIB_STDOUT
            tail.append(stdout_redirect(shlex.quote(str(watch_file))))
        argv = wrap_in_shell(argv, tail)
    workdir = container.get("workingDir")
    return TrialJob(
        name=name, argv=argv, env=env,
        cwd=Path(render_word(workdir, values, unquote=False)) if workdir else (cwd or Path.cwd()),
        run_dir=run_dir, collector=collector, watch=watch, watch_file=watch_file,
        objective=spec.objective.metric, rule=rule, metrics=spec.objective.metrics,
        deadline=spec.trial.deadline,
        assignments=dict(assignments),
    )


def start_failure(job: TrialJob, exc: OSError) -> str:
    """Why ``job``'s process could not start, naming the working directory when it is that.

    Popen reports a missing working directory like a missing program (ENOENT, "No such file
    or directory"), which reads as if the command were not found.
    """
    if not job.cwd.is_dir():
        missing = "is not a folder" if job.cwd.exists() else "does not exist"
        return f"the trial's working directory (working_dir) {job.cwd} {missing}"
    return f"cannot start {job.argv[0]!r}: {exc.strerror or exc}"


def local_container(spec: ExperimentSpec) -> dict[str, Any]:
    """What the local engine runs of the trial: ``command``, ``args``, ``env``,
    ``workingDir`` of the primary container, or of ``trial.local`` when given.

    Raises:
        AutomlError: When the template cannot run here (e.g. it lives in a ConfigMap).
    """
    container = _primary_container(spec)
    local = spec.trial.local
    if local is not None:
        container = {"command": local.command, "args": local.args,
                     "env": {**container.get("env", {}), **local.env},
                     "workingDir": local.working_dir or container.get("workingDir")}
    return container


def _primary_container(spec: ExperimentSpec) -> dict[str, Any]:
    trial = spec.trial
    if trial.config_map is not None and trial.local is not None:
        return {}
    if trial.is_container:
        return {"command": trial.command, "args": trial.args, "env": trial.env,
                "workingDir": trial.working_dir}
    if trial.trial_spec is None:
        raise AutomlError("the trial template lives in a ConfigMap on the cluster; the local "
                          "engine cannot read it: give trial.local a command")
    for c in find_containers(trial.trial_spec):
        if c.get("name") == trial.primary_container_name:
            env = {e["name"]: str(e.get("value", "")) for e in c.get("env", [])
                   if isinstance(e, dict) and "name" in e}
            return {"command": list(c.get("command") or []), "args": list(c.get("args") or []),
                    "env": env, "workingDir": c.get("workingDir")}
    raise AutomlError(f"no container named {trial.primary_container_name!r} in the trial spec; "
                      "give trial.local a command")


def _placeholder_values(spec: ExperimentSpec, name: str,
                        assignments: dict[str, str]) -> dict[str, str]:
    short_form = {"apiVersion": "batch/v1", "kind": "Job"} if spec.trial.is_container else {}
    body = spec.trial.trial_spec or short_form
    metadata = body.get("metadata") or {}
    values = {}
    for tp in spec.trial_parameters:
        meta = META_REFERENCE.fullmatch(tp.reference)
        if meta is None:
            values[tp.name] = assignments[tp.reference]
            continue
        what, label, annotation = meta.groups()
        if label is not None:
            values[tp.name] = str((metadata.get("labels") or {}).get(label, ""))
        elif annotation is not None:
            values[tp.name] = str((metadata.get("annotations") or {}).get(annotation, ""))
        else:
            values[tp.name] = {
                "Name": name,
                "Namespace": spec.namespace or "default",
                "Kind": str(body.get("kind")),
                "APIVersion": str(body.get("apiVersion")),
            }[what]
    return values


def replace_paths(text: str, paths: Mapping[str, Path]) -> str:
    """Each path of the trial's container in ``paths`` replaced by its local stand-in wherever
    ``text`` names it whole: the exact value, a prefix followed by ``/``, the value of
    ``--flag=path`` or ``VAR=path``, or a word of a shell line (after a space, quote or
    redirect).

    A path that merely starts or ends the same (``/out/model.pt`` or ``/data/out/m`` for
    ``/out/m``) is left alone; a trailing ``/`` of a container path does not matter. All are
    replaced in one pass, so that a stand-in is never rewritten by another.
    """
    if not paths:
        return text
    local = {remote.rstrip("/") or "/": str(path) for remote, path in paths.items()}
    # the longest first: of /out and /out/m, /out/m/x is /out/m's
    names = "|".join(re.escape(n) for n in sorted(local, key=len, reverse=True))
    pattern = re.compile(r"(?<![\w./~-])(" + names + r")(?![\w.~-])")
    # a callable replacement: the path is put in as it is, never read as a pattern
    return pattern.sub(lambda m: local[m.group(1)], text)


def _collector(spec: ExperimentSpec, run_dir: Path
               ) -> tuple[MetricsCollectorBase, str, Path | None, Path | None]:
    mc = spec.trial.metrics_collector
    metrics = spec.objective.metrics
    if mc.kind == "StdOut":
        return StdOutCollector(metrics, mc.filter), "stdout", None, None
    if mc.kind == "File":
        local = run_dir / "metrics" / PurePosixPath(mc.effective_path).name
        local.parent.mkdir(parents=True, exist_ok=True)
        collector = (JsonLinesCollector(metrics) if mc.effective_format == "JSON"
                     else TextFileCollector(metrics, mc.filter))
        return collector, "file", local, local
    if mc.kind == "TensorFlowEvent":
        local = run_dir / "tfevent"
        local.mkdir(parents=True, exist_ok=True)
        return TfEventCollector(metrics, local), "none", None, local
    if mc.kind == "Push":
        return PushCollector(metrics), "file", run_dir / "reported.jsonl", None
    if mc.kind == "None":
        return StdOutCollector([]), "none", None, None
    raise AutomlError(f"the {mc.kind} metrics collector runs only on a cluster")
