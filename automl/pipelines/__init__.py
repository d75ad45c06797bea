"""Kubeflow Pipelines (v2) for automl experiments: tune as a step, then train on the best.

The tuning step is a lightweight Python component that runs an experiment and outputs its
best parameters (JSON), trials table, TensorBoard logs, a Markdown summary and Metrics;
``tuning_pipeline`` chains it to a training component; ``compile_pipeline`` writes the
pipeline YAML for a cluster, ``submit_pipeline`` sends it to a KFP server and ``run_local``
runs it here with kfp.local.

kfp is imported by these modules only, and this package imports them on first use, so
``import automl`` never pays for kfp.

Example:
    >>> from automl.pipelines import compile_pipeline, run_local
    >>> compile_pipeline("examples/quickstart/experiment.yaml", Path("digits.yaml"))
    >>> run_local("examples/pipeline/pipeline.py", Path("/tmp/kfp-root"))["best_params"]
    {'C': '5.3', 'gamma': '0.0013', 'kernel': 'rbf'}
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "PipelineFailed",
    "TuningFailed",
    "TuningTimeout",
    "compile_pipeline",
    "load_pipeline",
    "run_local",
    "run_tuning",
    "submit_pipeline",
    "tuning_component",
    "tuning_pipeline",
]

_LAZY = {
    "PipelineFailed": "automl.pipelines.local",
    "TuningFailed": "automl.pipelines.step",
    "TuningTimeout": "automl.pipelines.step",
    "compile_pipeline": "automl.pipelines.compile",
    "load_pipeline": "automl.pipelines.compile",
    "run_local": "automl.pipelines.local",
    "run_tuning": "automl.pipelines.step",
    "submit_pipeline": "automl.pipelines.submit",
    "tuning_component": "automl.pipelines.component",
    "tuning_pipeline": "automl.pipelines.builder",
}

if TYPE_CHECKING:
    from automl.pipelines.builder import tuning_pipeline
    from automl.pipelines.compile import compile_pipeline, load_pipeline
    from automl.pipelines.component import tuning_component
    from automl.pipelines.local import PipelineFailed, run_local
    from automl.pipelines.step import TuningFailed, TuningTimeout, run_tuning
    from automl.pipelines.submit import submit_pipeline


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'automl.pipelines' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
