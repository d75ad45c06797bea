"""load(): read any experiment file, ours or a Katib Experiment, into an ExperimentSpec."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from automl.spec import ExperimentSpec, build, spec_from_data
from automl.spec.errors import render_path
from automl.spec.source import Location, SourceMap, read_yaml

__all__ = ["is_katib_experiment", "load"]


def load(source: str | os.PathLike[str] | Mapping[str, Any] | ExperimentSpec, *,
         katib: bool = False) -> ExperimentSpec:
    """Load an experiment from a file (automl's format or a Katib Experiment YAML) or a mapping.

    Katib's rules are applied: what Katib would refuse, now or minutes after submission, is
    refused here.

    Args:
        source: A path to a YAML file, an already loaded mapping, or an ExperimentSpec.
        katib: Also require what running on a Katib cluster needs (an image, a collector
            Katib has); the local engine needs neither.

    Returns:
        The validated experiment.

    Raises:
        SpecError: Every problem found, each with its file, line and field path.

    Example:
        >>> spec = automl.load("examples/quickstart/experiment.yaml")
        >>> spec.algorithm.name
        'tpe'
    """
    if isinstance(source, ExperimentSpec):
        return build(source.model_dump(by_alias=True), lambda p: (render_path(p), Location()),
                     cluster=katib)
    if isinstance(source, Mapping):
        data: Any = dict(source)
        where, base_dir = SourceMap(), None
    else:
        data, where = read_yaml(source)
        base_dir = Path(source).parent
    if is_katib_experiment(data):
        from automl.katib.from_katib import spec_from_katib_data

        return spec_from_katib_data(data, where, cluster=katib)
    return spec_from_data(data, where, base_dir, cluster=katib)


def is_katib_experiment(data: Any) -> bool:
    """True for a Katib ``Experiment`` object (``kind: Experiment``, ``kubeflow.org`` group)."""
    return (
        isinstance(data, Mapping)
        and data.get("kind") == "Experiment"
        and str(data.get("apiVersion", "")).startswith("kubeflow.org/")
    )
