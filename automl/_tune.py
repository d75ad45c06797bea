"""tune(): tune a Python function, in the spirit of KatibClient.tune."""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl.errors import AutomlError
from automl.spec import ExperimentSpec, Parameter

if TYPE_CHECKING:
    from automl.local import RunSummary

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
    Locally each trial runs in a forked child process, which holds none of this process's
    files and ends, with every process it started, when the trial ends or this process dies;
    with ``backend="katib"`` the function's source ships in the trial's container command, as
    KatibClient.tune does, so it must be self-contained (imports inside, no closures).

    Args:
        name: The experiment name (a Katib name: lower case, digits, ``-``).
        objective: The function each trial calls.
        parameters: Name → a search-space parameter (a :class:`~automl.spec.Parameter`, a
            mapping such as ``{"type": "double", "min": 0.01, "max": 1}``, or a kubeflow-katib
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
        metrics_collector: ``StdOut`` or ``Push``.
        base_image: The image trials run in on a cluster.
        packages_to_install: pip packages each cluster trial installs first.
        pip_index_urls: Where they come from (the first is the index, the rest extra).
        backend: ``local`` or ``katib``.
        namespace: katib: the namespace (default: the kubeconfig context's).
        context: katib: the kubeconfig context.
        dry_run: Return the Katib Experiment YAML instead of running anything.
        storage: Optuna storage URL or journal file (default ``<root>/studies.journal``).
        root: Folder for the default storage and trial logs.
        progress: Show progress.

    Returns:
        How the experiment ended, with its best trial (the YAML with ``dry_run``).

    Raises:
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

    tuned = {k: _parameter(k, v) for k, v in parameters.items() if _is_parameter(v)}
    fixed = {k: v for k, v in parameters.items() if k not in tuned}
    program = _program(objective, tuned, fixed, objective_metric_name)
    spec = ExperimentSpec.model_validate({
        "name": name,
        "objective": {"metric": objective_metric_name, "type": objective_type,
                      "goal": objective_goal, "additional_metrics": list(additional_metric_names)},
        "algorithm": {"name": algorithm_name, "settings": dict(algorithm_settings or {})},
        "budget": {"max_trials": max_trial_count, "parallel_trials": parallel_trial_count,
                   "max_failed_trials": max_failed_trial_count},
        "parameters": [p.model_dump(by_alias=True) for p in tuned.values()],
        "trial": {"image": base_image, "command": ["bash", "-c"],
                  "args": [_shell(program, packages_to_install, pip_index_urls)],
                  "metrics_collector": {"kind": metrics_collector}},
    })
    spec = load(spec)  # Katib's rules
    if dry_run:
        from automl.katib import to_yaml

        return to_yaml(spec)
    if backend == "katib":
        from automl._run import run

        return run(spec, backend="katib", namespace=namespace, context=context,
                   progress=progress)
    from automl.local import LocalEngine
    from automl.local.function import FunctionRunner

    runner = FunctionRunner(objective, fixed)
    return LocalEngine(spec, storage=storage, root=Path(root), runner=runner,
                       progress=progress).run()


def _is_parameter(value: Any) -> bool:
    return (isinstance(value, Parameter)
            or (isinstance(value, Mapping) and "type" in value)
            or hasattr(value, "feasible_space"))


def _parameter(name: str, value: Any) -> Parameter:
    if isinstance(value, Parameter):
        return value.model_copy(update={"name": name})
    if isinstance(value, Mapping):
        return Parameter.model_validate({**value, "name": name})
    space = value.feasible_space  # a kubeflow-katib V1beta1ParameterSpec
    data = {"name": name, "type": value.parameter_type, "min": space.min, "max": space.max,
            "step": space.step, "list": space.list,
            "distribution": space.distribution or "uniform"}
    return Parameter.model_validate({k: v for k, v in data.items() if v is not None})


def _program(objective: Callable[..., Any], tuned: Mapping[str, Parameter],
             fixed: Mapping[str, Any], metric: str) -> str:
    """The Python a cluster trial runs: the function's source, a call, its result printed."""
    try:
        source = textwrap.dedent(inspect.getsource(objective))
    except (OSError, TypeError):
        raise AutomlError(f"cannot read the source of {objective!r}: tune needs a function "
                          "defined in a file or notebook cell (Katib ships its source)") from None
    call = {**{k: f"${{trialParameters.{k}}}" for k in tuned}, **fixed}
    # The StdOut collector reads name=value lines: print what the function returns.
    return (f"{source}\n_result = {objective.__name__}({call!r})\n"
            "if isinstance(_result, dict):\n"
            "    for _name, _value in _result.items():\n"
            "        print(f'{_name}={float(_value)!r}')\n"
            "elif _result is not None:\n"
            f"    print(f'{metric}={{float(_result)!r}}')\n")


def _shell(program: str, packages: Sequence[str], index_urls: Sequence[str]) -> str:
    """KatibClient.tune's container script: install packages, write the program, run it.

    Katib substitutes the placeholders in this text before the shell runs; the quoted
    here-document then keeps the values (and the program's own ``$``) literal.
    """
    lines = ["set -e"]
    if packages:
        urls = [f"--index-url {index_urls[0]}"] + [f"--extra-index-url {u}"
                                                    for u in index_urls[1:]]
        lines.append("PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --prefer-binary "
                     f"--quiet --no-warn-script-location {' '.join(urls)} "
                     + " ".join(packages))
    lines += ["program_path=$(mktemp -d)",
              "cat > \"$program_path/ephemeral_script.py\" << 'EOM'", program.rstrip(), "EOM",
              "python3 -u \"$program_path/ephemeral_script.py\""]
    return "\n".join(lines) + "\n"
