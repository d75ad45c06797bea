"""tune(): tune a Python function, in the spirit of KatibClient.tune."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl.spec import ExperimentSpec, Parameter

if TYPE_CHECKING:
    from automl.state import RunSummary

__all__ = ["tune"]

BASE_IMAGE = "python:3.11-slim"


def tune(
    name: str,
    objective: Callable[[dict[str, Any]], Any],
    parameters: Mapping[str, Any],
    *,
    objective_metric_name: str = "objective",
    objective_type: str = "maximize",
    objective_goal: float | None = None,
    additional_metric_names: Sequence[str] = (),
    algorithm_name: str = "random",
    algorithm_settings: Mapping[str, Any] | None = None,
    max_trial_count: int = 10,
    parallel_trial_count: int = 1,
    max_failed_trial_count: int | None = None,
    resume_policy: str = "Never",
    resources_per_trial: Mapping[str, Any] | None = None,
    metrics_collector: str = "StdOut",
    base_image: str = BASE_IMAGE,
    packages_to_install: Sequence[str] = (),
    pip_index_urls: Sequence[str] = ("https://pypi.org/simple",),
    backend: str = "local",
    namespace: str | None = None,
    context: str | None = None,
    dry_run: bool = False,
    storage: str | None = None,
    root: str | Path = ".automl",
    progress: bool = True,
) -> RunSummary | str:
    """Tune ``objective`` over ``parameters`` with Katib's semantics, on this machine.

    Argument names follow ``KatibClient.tune``. Each trial calls ``objective`` with one dict:
    tuned values arrive as strings, as on Katib (convert them), other entries of
    ``parameters`` unchanged. The function reports by printing ``name=value`` lines, by
    calling :func:`automl.report`, or by returning a number (the objective) or a mapping.
    Locally each trial calls ``objective`` in a forked child process, so any callable works (a
    lambda, a ``functools.partial``, a function typed at the prompt). With ``backend="katib"``
    (and for ``dry_run``) the function's source ships in the trial's container, as
    KatibClient.tune does, so it must be a ``def`` in a file or notebook cell, self-contained
    (imports inside, no closures), and listed values must survive Katib's substitution (no
    ``"``, ``\\``, control characters, ``$$`` or ``$(NAME)``).
    Local trials hold none of this process's files and end, with every process they
    started, when the trial ends or this process dies.

    Args:
        name: The experiment name (a Katib name: lower case, digits, ``-``).
        objective: The function each trial calls.
        parameters: Name → a search-space parameter (a :class:`~automl.spec.Parameter`, a
            mapping such as ``{"type": "double", "min": 0.01, "max": 1}``, or a Katib
            ``V1beta1ParameterSpec``), or a fixed value.
        objective_metric_name: The metric to optimise.
        objective_type: ``maximize`` or ``minimize``.
        objective_goal: Stop once reached.
        additional_metric_names: More metrics to record.
        algorithm_name: A Katib algorithm name.
        algorithm_settings: Its settings, by Katib's names.
        max_trial_count: Trials to run.
        parallel_trial_count: Trials at once.
        max_failed_trial_count: Failed trials after which the experiment fails.
        resume_policy: Katib's ``resumePolicy``: ``Never`` (Katib's default), ``LongRunning``
            or ``FromVolume``. Only an experiment created with one of the last two continues
            after it reached ``max_trial_count``, when called again with a larger one; it
            cannot change once the experiment exists.
        resources_per_trial: Each trial's requests and limits, as KatibClient.tune takes
            them (``{"cpu": "2", "memory": "4Gi", "gpu": 1}``; ``gpu`` is
            ``nvidia.com/gpu``). Locally each trial gets that many GPUs of its own.
        metrics_collector: ``StdOut`` or ``Push``.
        base_image: The image trials run in on a cluster.
        packages_to_install: pip packages each cluster trial installs first.
        pip_index_urls: Where they come from (the first is the index, the rest extra).
        backend: ``local`` or ``katib``.
        namespace: katib: the namespace (default: the kubeconfig context's).
        context: katib: the kubeconfig context.
        dry_run: Return the Katib Experiment YAML instead of running anything.
        storage: Optuna storage URL or journal file (default ``<root>/studies.journal``).
        root: Folder for the default storage and its trial logs (``<root>/runs``; another
            storage's are beside it: :func:`automl.local.paths.runs_folder`).
        progress: Show progress.

    Returns:
        How the experiment ended, with its best trial (the YAML with ``dry_run``).

    Raises:
        AutomlError: For the cluster, when the function's source cannot be read or a listed
            value cannot reach a Katib trial unchanged.
        KeyboardInterrupt: On Ctrl-C (SIGINT), once every running trial is stopped and
            recorded as Killed; the same call resumes the experiment.
        automl.errors.Terminated: The same on SIGTERM: a ``SystemExit`` with status 143, so
            a script stopped by ``timeout``, systemd, ``docker stop`` or Kubernetes exits
            as such a program should.

    Example:
        >>> def train(p):
        ...     x = float(p["x"])
        ...     return (x - 2) ** 2
        >>> summary = automl.tune("quad", train, {"x": {"type": "double", "min": 0, "max": 5}},
        ...                       objective_type="minimize", max_trial_count=20)
        >>> round(float(summary.best["params"]["x"]))
        2
    """
    from automl._api import load
    from automl.katib.function_trial import check_values, function_program, trial_container

    tuned = {k: _parameter(k, v) for k, v in parameters.items() if _is_parameter(v)}
    fixed = {k: v for k, v in parameters.items() if k not in tuned}
    from automl.backends import backend_class, get_backend

    cluster = dry_run or backend_class(backend).remote
    program = None
    if cluster:  # only a cluster trial needs the source; a local one forks this process
        check_values(tuned.values())
        program = function_program(objective, list(tuned), fixed, objective_metric_name)
    container = trial_container(program, list(tuned), packages_to_install, pip_index_urls)
    spec = ExperimentSpec.model_validate({
        "name": name,
        "objective": {"metric": objective_metric_name, "type": objective_type,
                      "goal": objective_goal, "additional_metrics": list(additional_metric_names)},
        "algorithm": {"name": algorithm_name, "settings": dict(algorithm_settings or {})},
        "budget": {"max_trials": max_trial_count, "parallel_trials": parallel_trial_count,
                   "max_failed_trials": max_failed_trial_count},
        "resume_policy": resume_policy,
        "parameters": [p.model_dump(by_alias=True) for p in tuned.values()],
        "trial": {"image": base_image, **container,
                  "resources": _resources(resources_per_trial),
                  "metrics_collector": {"kind": metrics_collector}},
    })
    spec = load(spec)  # Katib's rules
    if dry_run:
        from automl.katib import to_yaml

        return to_yaml(spec)
    from automl.local.function import FunctionRunner

    chosen = get_backend(backend, storage=storage, root=root, namespace=namespace,
                         context=context, runner=FunctionRunner(objective, fixed))
    return chosen.run(spec, progress=progress)


def _resources(per_trial: Mapping[str, Any] | None) -> dict[str, dict[str, str]]:
    """KatibClient.tune's ``resources_per_trial``: the same amounts as requests and limits."""
    if not per_trial:
        return {}
    amounts = {("nvidia.com/gpu" if k == "gpu" else str(k)): str(v) for k, v in per_trial.items()}
    return {"requests": amounts, "limits": dict(amounts)}


def _is_parameter(value: Any) -> bool:
    return (isinstance(value, Parameter)
            or (isinstance(value, Mapping) and "type" in value)
            or hasattr(value, "feasible_space"))


def _parameter(name: str, value: Any) -> Parameter:
    if isinstance(value, Parameter):
        return value.model_copy(update={"name": name})
    if isinstance(value, Mapping):
        return Parameter.model_validate({**value, "name": name})
    space = value.feasible_space  # a V1beta1ParameterSpec, kubeflow-katib-api's or kubeflow-katib's
    data = {"name": name, "type": value.parameter_type, "min": space.min, "max": space.max,
            "step": space.step, "list": space.list,
            "distribution": space.distribution or "uniform"}
    return Parameter.model_validate({k: v for k, v in data.items() if v is not None})
