"""automl: Katib experiments that run on this machine, on a Katib cluster, or in a pipeline.

One experiment definition (search space, objective, algorithm, trial) compiles to a Katib
``Experiment``, and any Katib Experiment YAML reads back into it.

Example:
    >>> import automl
    >>> spec = automl.load("examples/quickstart/experiment.yaml")
    >>> print(automl.to_yaml(spec))   # the Katib Experiment, for kubectl apply

Heavy libraries (the Katib models, kubernetes, kfp, optuna, pandas) are imported only by the
functions that use them, so ``import automl`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "AutomlError",
    "ExperimentSpec",
    "Results",
    "SpecError",
    "__version__",
    "compare",
    "from_katib",
    "load",
    "load_results",
    "report",
    "run",
    "to_katib",
    "to_yaml",
    "tune",
]

_LAZY = {
    "AutomlError": "automl.errors",
    "ExperimentSpec": "automl.spec",
    "Results": "automl.results",
    "compare": "automl.results",
    "load_results": "automl.results",
    "SpecError": "automl.spec",
    "from_katib": "automl.katib",
    "load": "automl._api",
    "report": "automl._report",
    "run": "automl._run",
    "to_katib": "automl.katib",
    "to_yaml": "automl.katib",
    "tune": "automl._tune",
}

if TYPE_CHECKING:
    from automl._api import load
    from automl._report import report
    from automl._run import run
    from automl._tune import tune
    from automl.errors import AutomlError
    from automl.katib import from_katib, to_katib, to_yaml
    from automl.results import Results, compare, load_results
    from automl.spec import ExperimentSpec, SpecError


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'automl' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
