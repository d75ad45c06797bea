"""run(): run an experiment on a backend (the local engine by default)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl._api import load
from automl.errors import AutomlError

if TYPE_CHECKING:
    from automl.local import RunSummary
    from automl.spec import ExperimentSpec

__all__ = ["BACKENDS", "run"]

BACKENDS = ("local",)


def run(experiment: ExperimentSpec | str | os.PathLike[str] | Mapping[str, Any], *,
        backend: str = "local", storage: str | None = None, root: str | Path = ".automl",
        progress: bool = True) -> RunSummary:
    """Run an experiment until Katib would call it finished; run it again to resume.

    Args:
        experiment: An ExperimentSpec, or a file (automl's format or Katib Experiment YAML).
        backend: ``local`` (Optuna on this machine).
        storage: An Optuna storage URL or a journal file path (default
            ``<root>/studies.journal``).
        root: Folder for the default storage and the trials' logs.
        progress: Show a progress bar on stderr.

    Returns:
        How it ended: status, reason, trial counts and the best trial.

    Example:
        >>> summary = automl.run("examples/quickstart/experiment.yaml")
        >>> summary.best["params"]
        {'C': '3.27', 'gamma': '0.0012', 'kernel': 'rbf'}
    """
    spec = load(experiment)
    if backend != "local":
        raise AutomlError(f"unknown backend {backend!r}; expected one of: {', '.join(BACKENDS)}")
    from automl.local import LocalEngine

    return LocalEngine(spec, storage=storage, root=Path(root), progress=progress).run()
