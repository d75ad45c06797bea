"""run(): run an experiment on a backend (the local engine by default)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from automl.spec import ExperimentSpec
    from automl.state import RunSummary

__all__ = ["run"]


def run(experiment: ExperimentSpec | str | os.PathLike[str] | Mapping[str, Any], *,
        backend: str = "local", storage: str | None = None, root: str | Path = ".automl",
        progress: bool = True, namespace: str | None = None, context: str | None = None,
        resume: bool = False, poll_seconds: float = 5.0, seed: int | None = None,
        katib_shell: bool = False) -> RunSummary:
    """Run an experiment until Katib would call it finished; run it again to resume.

    Args:
        experiment: An ExperimentSpec, or a file (automl's format or Katib Experiment YAML).
        backend: ``local`` (Optuna on this machine) or ``katib`` (a cluster, via kubeconfig).
        storage: An Optuna storage URL or a journal file path (default
            ``<root>/studies.journal``).
        root: Folder for the default storage and its trials' logs (``<root>/runs``; another
            storage's are beside it: :func:`automl.local.paths.runs_folder`).
        progress: Show a progress bar on stderr.
        namespace: katib: the namespace (default: the kubeconfig context's).
        context: katib: the kubeconfig context.
        resume: katib: reattach to the experiment of that name instead of creating it.
        poll_seconds: katib: seconds between status checks.
        seed: local: seeds the sampler when the algorithm has no ``random_state`` setting
            (enas, for instance).
        katib_shell: local: run each trial's command as Katib does for the StdOut, File and
            TensorFlowEvent collectors, joined under ``sh -c`` with StdOut's output redirected
            after the last command, to check it before submitting (default: argument lists,
            no shell).

    Returns:
        How it ended: status, reason, trial counts and the best trial.

    Raises:
        KeyboardInterrupt: local: on Ctrl-C, once the running trials are stopped and
            recorded as Killed; running it again resumes.
        automl.errors.Terminated: local: the same on SIGTERM (a ``SystemExit``, status 143).

    Example:
        >>> summary = automl.run("examples/quickstart/experiment.yaml")
        >>> summary.best["params"]
        {'C': '3.27', 'gamma': '0.0012', 'kernel': 'rbf'}
    """
    from automl._api import load
    from automl.backends import get_backend

    spec = load(experiment)
    file = Path(experiment) if isinstance(experiment, (str, os.PathLike)) else None
    chosen = get_backend(backend, storage=storage, root=root, seed=seed, katib_shell=katib_shell,
                         namespace=namespace, context=context, poll_seconds=poll_seconds,
                         experiment_file=file)
    return chosen.run(spec, progress=progress, resume=resume)
