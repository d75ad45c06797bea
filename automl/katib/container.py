"""The short trial form (image, command, env, ...) ⇄ the one-container Job Katib runs.

``to_job`` writes the Job; ``container_form`` recognises exactly such a Job when reading a
Katib Experiment back, so that the short form survives a round trip and any other trialSpec is
kept as it is.
"""

from __future__ import annotations

from typing import Any

from automl.spec.errors import Path
from automl.spec.trial import TrialTemplate

__all__ = ["container_form", "to_job"]

_CONTAINER_KEYS = {"name", "image", "command", "args", "env", "resources", "workingDir"}


def to_job(trial: TrialTemplate) -> dict[str, Any]:
    """The ``batch/v1`` Job for a trial in the short form."""
    container: dict[str, Any] = {"name": trial.primary_container_name, "image": trial.image,
                                 "command": list(trial.command)}
    if trial.args:
        container["args"] = list(trial.args)
    if trial.env:
        container["env"] = [{"name": k, "value": v} for k, v in trial.env.items()]
    if trial.resources:
        container["resources"] = {k: dict(v) for k, v in trial.resources.items()}
    if trial.working_dir is not None:
        container["workingDir"] = trial.working_dir
    job: dict[str, Any] = {
        "template": {"spec": {"containers": [container], "restartPolicy": "Never"}}}
    if trial.active_deadline_seconds is not None:
        job["activeDeadlineSeconds"] = trial.active_deadline_seconds
    return {"apiVersion": "batch/v1", "kind": "Job", "spec": job}


def container_form(trial_spec: Any, primary: Any) -> tuple[dict[str, Any], dict[Path, Path]] | None:
    """The short-form fields for a Job that :func:`to_job` could have written, else None.

    Returns:
        The fields, and for each of our field paths (below ``trial``) the path below
        ``trialSpec`` it came from.
    """
    if not isinstance(trial_spec, dict) or set(trial_spec) != {"apiVersion", "kind", "spec"}:
        return None
    if (trial_spec["apiVersion"], trial_spec["kind"]) != ("batch/v1", "Job"):
        return None
    job = trial_spec["spec"]
    deadline = job.get("activeDeadlineSeconds") if isinstance(job, dict) else None
    if not isinstance(job, dict) or not set(job) <= {"template", "activeDeadlineSeconds"} or (
            deadline is not None and (not isinstance(deadline, int) or isinstance(deadline, bool))):
        return None
    template = job.get("template")
    pod = template.get("spec") if isinstance(template, dict) and set(template) == {"spec"} else None
    if not isinstance(pod, dict) or pod.get("restartPolicy") != "Never":
        return None
    if set(pod) != {"containers", "restartPolicy"} or not isinstance(pod["containers"], list):
        return None
    if len(pod["containers"]) != 1 or not isinstance(pod["containers"][0], dict):
        return None
    c = pod["containers"][0]
    if not set(c) <= _CONTAINER_KEYS or c.get("name") != primary or not _strings(c.get("command")):
        return None
    if not _strings(c.get("args", [])) or not isinstance(c.get("image", ""), str):
        return None
    env = c.get("env", [])
    if not isinstance(env, list) or not all(
        isinstance(e, dict) and set(e) == {"name", "value"} and isinstance(e["value"], str)
        for e in env
    ):
        return None
    if len({e["name"] for e in env}) != len(env):
        return None
    at: Path = ("spec", "template", "spec", "containers", 0)
    fields: dict[str, Any] = {"command": c["command"]}
    origins: dict[Path, Path] = {("command",): (*at, "command")}
    for key, ours in (("image", "image"), ("args", "args"), ("resources", "resources"),
                      ("workingDir", "working_dir")):
        origins[(ours,)] = (*at, key)
        if key in c:
            fields[ours] = c[key]
    if deadline is not None:
        fields["active_deadline_seconds"] = deadline
        origins[("active_deadline_seconds",)] = ("spec", "activeDeadlineSeconds")
    if env:
        fields["env"] = {e["name"]: e["value"] for e in env}
        for i, e in enumerate(env):
            origins[("env", e["name"])] = (*at, "env", i, "value")
    origins[("env",)] = (*at, "env")
    return fields, origins


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
