"""The tuning step as a KFP v2 lightweight Python component: experiment in, best params out.

It does what the KFP v1 ``katib-launcher`` did (spec in, wait with a timeout, best
hyperparameters out as JSON, fail with the experiment's reason) and also hands over the
trials table, TensorBoard logs, a Markdown summary and the best objective as Metrics.

kfp ships only the function's source into the container, under a header of
``from kfp import dsl``, ``from kfp.dsl import *`` and ``from typing import *``; so the
function imports what it needs inside, and the work itself is in ``automl.pipelines.step``,
which the image must have installed. No ``from __future__ import annotations`` here: kfp reads
the real annotation objects to type the inputs and outputs.
"""

import functools
from collections.abc import Sequence
from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Artifact, Dataset, Markdown, Metrics, Output
from kfp.dsl.base_component import BaseComponent

__all__ = ["DEFAULT_IMAGE", "goal_reached", "tuning_component"]

# A Python image; on a cluster automl must come on top of it (packages_to_install) or be
# baked into base_image. kfp.local's SubprocessRunner ignores the image.
DEFAULT_IMAGE = "python:3.11-slim"


def tune(
    spec_json: str,
    trials: Output[Dataset],
    tensorboard: Output[Artifact],
    summary: Output[Markdown],
    metrics: Output[Metrics],
    trial_logs: Output[Artifact],
    backend: str = "local",
    timeout_minutes: float = 0.0,
    root: str = "",
    namespace: str = "",
) -> NamedTuple("Outputs", [("best_params", str), ("goal_reached", bool)]):
    """Run a hyperparameter experiment and return its best parameters as JSON.

    Args:
        spec_json: The experiment (automl's format or a Katib Experiment) as JSON.
        trials: The trials table (CSV, one row per trial).
        tensorboard: A folder of TensorBoard logs (scalars per trial, HParams).
        summary: Status, reason, best trial and top trials in Markdown.
        metrics: The best objective, under the objective metric's name, and the trial count.
        trial_logs: A folder with each trial's logs: ``<trial>/stdout.log``, ``stderr.log``.
        backend: Where trials run: "local" (inside this step) or "katib" (the cluster).
        timeout_minutes: Fail if the experiment takes longer (0: no limit).
        root: Folder for the study journal and trial logs (e.g. on a mounted volume, so a
            re-run resumes); empty for a temporary folder.
        namespace: With backend "katib": where the Experiment is created (empty: the step
            pod's namespace; the run's service account must be allowed to create Experiments).

    Returns:
        best_params: JSON of {parameter: value}, values as strings as the trials got them.
        goal_reached: Whether the experiment ended by reaching its objective goal
            (ExperimentGoalReached), for a ``dsl.If`` (see :func:`goal_reached`).
    """
    # Everything is imported here: kfp runs this function's source alone.
    import json
    from collections import namedtuple

    try:
        from automl.pipelines.step import run_tuning
    except ImportError as exc:
        raise RuntimeError("automl is not installed in this step's image: give the tuning "
                           "component packages_to_install or a base_image with automl") from exc

    result = run_tuning(spec_json, trials_path=trials.path, tensorboard_dir=tensorboard.path,
                        summary_path=summary.path, backend=backend,
                        timeout_minutes=timeout_minutes, root=root or None,
                        logs_dir=trial_logs.path, namespace=namespace or None)
    trials.metadata["format"] = "csv"
    if isinstance(result.objective, str):  # DARTS's genotype is text, not a metric
        summary.metadata[result.metric] = result.objective
    else:
        metrics.log_metric(result.metric, result.objective)
    metrics.log_metric("trials", result.trials)
    outputs = namedtuple("Outputs", ["best_params", "goal_reached"])
    return outputs(json.dumps(result.best_params, sort_keys=True), result.goal_reached)


@dsl.component(base_image=DEFAULT_IMAGE)
def goal_reached(reached: bool) -> bool:
    """The tuning step's ``goal_reached``, as this task's only output, for ``dsl.If``.

    kfp's local runner (2.16 and 2.17) evaluates a condition on a task's single output only:
    it reads ``<task>-goal_reached`` in the compiled condition as a pipeline input, finds none
    and skips the branch. A cluster reads either; the pipeline conditions on this task's output
    so that both run the same branch.
    """
    return reached


@functools.cache
def _component(base_image: str, packages: tuple[str, ...] | None,
               pip_index_urls: tuple[str, ...] | None) -> BaseComponent:
    return dsl.component(
        tune, base_image=base_image,
        packages_to_install=list(packages) if packages else None,
        pip_index_urls=list(pip_index_urls) if pip_index_urls else None,
    )


def tuning_component(base_image: str = DEFAULT_IMAGE,
                     packages_to_install: Sequence[str] | None = None,
                     pip_index_urls: Sequence[str] | None = None
                     ) -> BaseComponent:
    """The tuning component for an image.

    Args:
        base_image: The container image on a cluster; it needs Python, and automl unless
            ``packages_to_install`` brings it.
        packages_to_install: pip requirements installed before the step runs, e.g.
            ``["automl @ git+https://example.org/automl.git"]`` on a cluster. Leave it None
            for kfp.local: with ``use_venv=False`` anything listed is pip-installed into the
            current environment, which already has automl.
        pip_index_urls: Package indexes for ``packages_to_install``.

    Returns:
        A component; call it inside a ``@dsl.pipeline`` with ``spec_json=...``.

    Example:
        >>> tune = tuning_component(packages_to_install=["automl==0.1.0"])
        >>> @dsl.pipeline
        ... def p(spec_json: str):
        ...     tune(spec_json=spec_json, timeout_minutes=60)
    """
    return _component(base_image, tuple(packages_to_install) if packages_to_install else None,
                      tuple(pip_index_urls) if pip_index_urls else None)
