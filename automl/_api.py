"""load(): read any experiment file, ours or a Katib Experiment, into an ExperimentSpec."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from automl.spec import ExperimentSpec, spec_from_data
from automl.spec.source import SourceMap, read_yaml

__all__ = ["is_katib_experiment", "load"]


def load(source: str | os.PathLike[str] | Mapping[str, Any] | ExperimentSpec) -> ExperimentSpec:
    """Load an experiment from a file (automl's format or a Katib Experiment YAML) or a mapping.

    Katib's rules are applied: what Katib would refuse, now or minutes after submission, is
    refused here.

    Args:
        source: A path to a YAML file, an already loaded mapping, or an ExperimentSpec.

    Returns:
        The validated experiment.

    Raises:
        SpecError: Every problem found, each with its file, line and field path.

    Example:
        >>> spec = automl.load("examples/digits/experiment.yaml")
        >>> spec.algorithm.name
        'tpe'
    """
    if isinstance(source, ExperimentSpec):
        return source
    if isinstance(source, Mapping):
        data: Any = dict(source)
        where, base_dir = SourceMap(), None
    else:
        data, where = read_yaml(source)
        base_dir = Path(source).parent
    if is_katib_experiment(data):
        from automl.katib.from_katib import spec_from_katib_data

        return spec_from_katib_data(data, where)
    return spec_from_data(data, where, base_dir)


def is_katib_experiment(data: Any) -> bool:
    """True for a Katib ``Experiment`` object (``kind: Experiment``, ``kubeflow.org`` group)."""
    return (
        isinstance(data, Mapping)
        and data.get("kind") == "Experiment"
        and str(data.get("apiVersion", "")).startswith("kubeflow.org/")
    )
