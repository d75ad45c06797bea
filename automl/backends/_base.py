"""Backend: where an experiment's trials run, and where its state is read back from."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from automl.results import Results
    from automl.spec import ExperimentSpec
    from automl.state import RunSummary

__all__ = ["Backend"]


class Backend(abc.ABC):
    """One place experiments run: this machine, a Katib cluster, and later others.

    A backend is built from the options the user gave (``automl run --backend NAME``,
    ``automl.run(..., backend=NAME)``); the registry in :mod:`automl.backends` hands each one
    only the options it declares in ``options``. Adding a cluster target (Kubeflow Trainer's
    ``OptimizationJob`` once it has a controller) means one subclass and one registry entry:
    the CLI, ``automl.run``, ``automl.tune`` and the pipeline step only call these methods.

    Example:
        >>> from automl.backends import get_backend
        >>> backend = get_backend("local", root=".automl")
        >>> summary = backend.run(spec, progress=False)
        >>> backend.results(spec.name).trials.shape[0]
        12
    """

    options: ClassVar[frozenset[str]] = frozenset()
    """The constructor's keyword arguments; the registry passes no others."""

    remote: ClassVar[bool] = False
    """Trials run elsewhere (in containers), so a Python function trial ships its source."""

    @abc.abstractmethod
    def run(self, spec: ExperimentSpec, *, progress: bool = True, resume: bool = False,
            timeout: float | None = None) -> RunSummary:
        """Run the experiment until Katib would call it finished, and say how it ended.

        Args:
            spec: The experiment, already checked against Katib's rules.
            progress: Show a progress bar on stderr.
            resume: Reattach to an experiment that exists already (a backend that always
                resumes, like the local one, ignores it).
            timeout: Seconds to wait before raising ``TimeoutError``.

        Raises:
            TimeoutError: When ``timeout`` passes first; the message says what became of
                the running trials.
        """

    @abc.abstractmethod
    def results(self, name: str) -> Results:
        """The experiment's trials and observations."""

    @abc.abstractmethod
    def print_status(self, name: str | None, *, every: bool = False, wide: bool = False) -> None:
        """Print one experiment's state (its counts, best and running trials), or every
        experiment's state; ``every`` lists all of the experiment's trials. Tables fit the
        terminal; ``wide`` shows every column whole (automl._table)."""

    @abc.abstractmethod
    def is_active(self, name: str) -> bool:
        """Whether the experiment is still being run (``automl status --watch`` goes on)."""

    @abc.abstractmethod
    def logs(self, name: str, trial: str, *, stderr: bool = False, tail: int | None = None,
             follow: bool = False) -> Iterator[str]:
        """A trial's log lines, as ``kubectl logs`` gives a pod's.

        Args:
            name: The experiment.
            trial: The trial's name.
            stderr: Its standard error alone, where the backend keeps it apart.
            tail: Only the last ``tail`` lines so far.
            follow: Then go on with what the trial writes until it ends.
        """

    @abc.abstractmethod
    def delete(self, name: str) -> str | None:
        """Delete the experiment and its trials.

        Returns:
            A line for the user on what was kept (files automl did not write), if anything.
        """

    def interrupted(self, name: str) -> str:
        """What Ctrl-C during :meth:`run` left behind, in one line for the user."""
        return "interrupted: finished trials are kept; run the same command to resume"
