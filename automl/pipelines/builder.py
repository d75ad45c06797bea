"""tuning_pipeline(): a KFP pipeline that tunes an experiment, then hands the best params on.

The KFP v1 recipe was a ``katib-launcher`` ContainerOp followed by a training op fed with its
output file, sharing data through ``pvolumes``. In KFP v2 the launcher is our tuning
component, the hand-over is its ``best_params`` output and the volume is
``kfp.kubernetes.mount_pvc``. No ``from __future__ import annotations``: kfp reads the
pipeline function's annotations as objects.
"""

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kfp import dsl
from kfp.dsl.base_component import BaseComponent

from automl.pipelines.component import DEFAULT_IMAGE, tuning_component
from automl.spec import ExperimentSpec

__all__ = ["tuning_pipeline"]

_NOT_NAME = re.compile(r"[^a-z0-9-]+")


def tuning_pipeline(spec: ExperimentSpec | Mapping[str, Any] | str | os.PathLike[str],
                    then: BaseComponent | None = None, name: str | None = None, *,
                    pvc_name: str | None = None, mount_path: str = "/mnt/data",
                    root: str = "", backend: str = "local", timeout_minutes: float = 0.0,
                    base_image: str = DEFAULT_IMAGE,
                    packages_to_install: Sequence[str] | None = None) -> Callable[..., Any]:
    """Build a pipeline: tune ``spec``; then, if given, run ``then(best_params=<JSON>)``.

    The experiment, backend and timeout become pipeline parameters with these values as
    defaults, so one compiled pipeline can run another experiment at submission time.

    Args:
        spec: The experiment: an ExperimentSpec, a mapping, or a file (automl's format or a
            Katib Experiment). It is validated here, before anything is compiled.
        then: A component taking ``best_params: str`` (JSON of {name: value-as-string});
            its other inputs need defaults.
        name: The pipeline's name (default ``<experiment>-tuning``).
        pvc_name: A PersistentVolumeClaim to mount on the tuning step (KFP v1's
            ``pvolumes``), e.g. training data the trials read. kfp.local ignores it.
        mount_path: Where the claim is mounted.
        root: The step's folder for the study journal and trial logs; a folder under
            ``mount_path`` makes a re-run resume the stored experiment. Default: temporary.
        backend: The step's default backend: ``local`` or ``katib``.
        timeout_minutes: The step fails after this long (0: no limit).
        base_image: The tuning step's image on a cluster.
        packages_to_install: pip requirements for the tuning step (automl on a cluster;
            None for kfp.local, which would install them into the current environment).

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
    tune_op = tuning_component(base_image, packages_to_install)
    pipeline_name = _pipeline_name(name or f"{experiment.name}-tuning")

    def pipeline(spec_json: str = spec_json, backend: str = backend,
                 timeout_minutes: float = timeout_minutes) -> None:
        tune = tune_op(spec_json=spec_json, backend=backend, timeout_minutes=timeout_minutes,
                       root=root)
        tune.set_display_name(f"tune {experiment.name}")
        if pvc_name:
            # Imported only when used: kfp-kubernetes is an extra a tuning-only user can skip.
            from kfp import kubernetes

            kubernetes.mount_pvc(tune, pvc_name=pvc_name, mount_path=mount_path)
        if then is not None:
            then(best_params=tune.outputs["best_params"])

    pipeline.__name__ = pipeline_name.replace("-", "_")
    return dsl.pipeline(name=pipeline_name,
                        description=f"Tune experiment {experiment.name!r} with automl"
                        + (f", then run {then.name!r} with the best parameters" if then
                           else ""))(pipeline)


def _pipeline_name(name: str) -> str:
    """KFP wants ``[a-z0-9-]``, starting alphanumeric; Katib names are close already."""
    cleaned = _NOT_NAME.sub("-", name.lower()).strip("-")
    if not cleaned:
        raise ValueError(f"cannot make a pipeline name out of {name!r}")
    return cleaned[:128]
