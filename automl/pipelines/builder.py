"""tuning_pipeline(): a KFP pipeline that tunes an experiment, then hands the best params on.

The KFP v1 recipe was a ``katib-launcher`` ContainerOp followed by a training op fed with its
output file, sharing data through ``pvolumes``. In KFP v2 the launcher is our tuning
component, the hand-over is its ``best_params`` output and the volume is
``kfp.kubernetes.mount_pvc``. No ``from __future__ import annotations``: kfp reads the
pipeline function's annotations as objects.
"""

import contextlib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kfp import dsl
from kfp.dsl.base_component import BaseComponent

from automl.errors import AutomlError
from automl.pipelines.component import DEFAULT_IMAGE, goal_reached, tuning_component
from automl.spec import ExperimentSpec

__all__ = ["tuning_pipeline"]

_NOT_NAME = re.compile(r"[^a-z0-9-]+")
_GRACE_SECONDS = 300
"""After its own timeout a step writes its outputs and fails; the pod's deadline comes later."""


def tuning_pipeline(spec: ExperimentSpec | Mapping[str, Any] | str | os.PathLike[str],
                    then: BaseComponent | None = None, name: str | None = None, *,
                    require_goal: bool = False, seeds: Sequence[int] | None = None,
                    on_exit: BaseComponent | None = None, pvc_name: str | None = None,
                    mount_path: str = "/mnt/data",
                    root: str = "", backend: str = "local", timeout_minutes: float = 0.0,
                    namespace: str = "",
                    base_image: str = DEFAULT_IMAGE,
                    packages_to_install: Sequence[str] | None = None,
                    image: str | None = None) -> Callable[..., Any]:
    """Build a pipeline: tune ``spec``; then, if given, run ``then(best_params=<JSON>)``.

    With ``require_goal`` the next step runs only if the experiment reached its goal
    (``dsl.If``); with ``seeds`` it runs once per seed (``dsl.ParallelFor``); ``on_exit`` runs
    when the pipeline ends, failed or not (``dsl.ExitHandler``). kfp.local runs all three from
    kfp 2.16 on.

    The experiment, backend and timeout become pipeline parameters with these values as
    defaults, so one compiled pipeline can run another experiment at submission time.

    Args:
        spec: The experiment: an ExperimentSpec, a mapping, or a file (automl's format or a
            Katib Experiment). It is validated here, before anything is compiled.
        then: A component taking ``best_params: str`` (JSON of {name: value-as-string});
            its other inputs need defaults.
        name: The pipeline's name (default ``<experiment>-tuning``).
        require_goal: Run ``then`` only when the experiment ended by reaching
            ``objective.goal``; otherwise the pipeline succeeds without it.
        seeds: Run ``then`` once per seed, in parallel, passing ``seed=<int>``.
        on_exit: A component run last whatever happened, e.g. to notify or clean up; it may
            take ``status: dsl.PipelineTaskFinalStatus`` (kfp fills it in), and its other
            inputs need defaults.
        pvc_name: A PersistentVolumeClaim to mount on the tuning step (KFP v1's
            ``pvolumes``), e.g. training data the trials read. kfp.local ignores it.
        mount_path: Where the claim is mounted.
        root: The step's folder for the study journal and trial logs; a folder under
            ``mount_path`` makes a re-run resume the stored experiment. Default: temporary.
        backend: The step's default backend: ``local`` or ``katib``.
        timeout_minutes: The step fails after this long (0: no limit); on a cluster, the
            pod is also stopped 5 minutes later (kfp-kubernetes ``set_timeout``), should the
            step itself hang.
        namespace: ``katib``: the namespace for the Experiment (empty: the step pod's). The
            run's service account (``automl pipeline submit --service-account``) must be
            allowed to create Katib Experiments there.
        base_image: The tuning step's image on a cluster.
        packages_to_install: pip requirements for the tuning step (automl on a cluster;
            None for kfp.local, which would install them into the current environment).
        image: The tuning step's image as ``automl pipeline image`` built it (automl and the
            trials' files inside); it replaces ``base_image``.

    Returns:
        The ``@dsl.pipeline`` function: compile it, or call it after ``kfp.local.init``.

    Example:
        >>> @dsl.component(base_image="python:3.11-slim")
        ... def train(best_params: str) -> float: ...
        >>> pipeline = tuning_pipeline("examples/quickstart/experiment.yaml", then=train)
        >>> kfp.compiler.Compiler().compile(pipeline, "digits.yaml")
    """
    from automl._api import load

    experiment = load(spec)
    spec_json = json.dumps(experiment.model_dump(mode="json", by_alias=True))
    tune_op = tuning_component(image or base_image, packages_to_install)
    pipeline_name = _pipeline_name(name or f"{experiment.name}-tuning")

    if require_goal and experiment.objective.goal is None:
        raise AutomlError(f"require_goal: experiment {experiment.name!r} has no objective.goal "
                          "to reach")
    # Built here: kfp compiles a pipeline as it is defined, and not inside another one.
    step = _per_seed(then, list(seeds)) if then is not None and seeds else then

    # From the default: inside, timeout_minutes is the run's parameter, unknown until it runs.
    deadline = int(timeout_minutes * 60) + _GRACE_SECONDS if timeout_minutes > 0 else 0

    def pipeline(spec_json: str = spec_json, backend: str = backend,
                 timeout_minutes: float = timeout_minutes, namespace: str = namespace) -> None:
        with contextlib.ExitStack() as scopes:
            if on_exit is not None:
                scopes.enter_context(dsl.ExitHandler(on_exit(), name="tune-and-train"))
            tune = tune_op(spec_json=spec_json, backend=backend,
                           timeout_minutes=timeout_minutes, root=root, namespace=namespace)
            tune.set_display_name(f"tune {experiment.name}")
            if deadline:
                from kfp import kubernetes

                kubernetes.set_timeout(tune, deadline)
            if pvc_name:
                # Imported only when used: kfp-kubernetes is an extra a tuning-only user can
                # skip.
                from kfp import kubernetes

                kubernetes.mount_pvc(tune, pvc_name=pvc_name, mount_path=mount_path)
            if step is None:
                return
            if require_goal:
                reached = goal_reached(reached=tune.outputs["goal_reached"])
                reached.set_display_name("goal reached?")
                scopes.enter_context(dsl.If(reached.output == True,  # noqa: E712 (kfp's DSL)
                                            name="goal-reached"))
            step(best_params=tune.outputs["best_params"])

    pipeline.__name__ = pipeline_name.replace("-", "_")
    return dsl.pipeline(name=pipeline_name,
                        description=f"Tune experiment {experiment.name!r} with automl"
                        + (f", then run {then.name!r} with the best parameters" if then
                           else ""))(pipeline)


def _per_seed(then: BaseComponent, seeds: list[int]) -> Any:
    """``then`` once per seed in a ParallelFor, inside a pipeline of its own.

    Its own pipeline (a graph component) hands ``best_params`` in as an input: kfp's local
    runner (2.17) puts the loop item in place of any upstream task output an iteration reads
    directly.
    """
    def per_seed(best_params: str) -> None:
        with dsl.ParallelFor(seeds) as seed:
            then(best_params=best_params, seed=seed)

    return dsl.pipeline(name=_pipeline_name(f"{then.name}-per-seed"))(per_seed)


def _pipeline_name(name: str) -> str:
    """KFP wants ``[a-z0-9-]``, starting alphanumeric; Katib names are close already."""
    cleaned = _NOT_NAME.sub("-", name.lower()).strip("-")
    if not cleaned:
        raise ValueError(f"cannot make a pipeline name out of {name!r}")
    return cleaned[:128]
