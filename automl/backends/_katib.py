"""The katib backend: a Katib Experiment on the cluster of the kubeconfig."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from automl.backends._base import Backend

if TYPE_CHECKING:
    from automl.katib.cluster import KatibCluster
    from automl.results import Results
    from automl.spec import ExperimentSpec
    from automl.state import RunSummary

__all__ = ["KatibBackend"]


class KatibBackend(Backend):
    """Creates the Experiment on a Katib cluster and follows it; reads its Trials back.

    Args:
        namespace: The namespace (default: the kubeconfig context's, or the pod's own).
        context: The kubeconfig context.
        poll_seconds: Seconds between status checks while following a run.
        db_manager: Read each trial's observations from Katib's DB manager at this
            ``host:port`` (needs ``automl[katib-sdk]``).
    """

    options: ClassVar[frozenset[str]] = frozenset(
        {"namespace", "context", "poll_seconds", "db_manager"})
    remote: ClassVar[bool] = True

    def __init__(self, *, namespace: str | None = None, context: str | None = None,
                 poll_seconds: float = 5.0, db_manager: str | None = None) -> None:
        self.namespace = namespace
        self.context = context
        self.poll_seconds = poll_seconds
        self.db_manager = db_manager

    def run(self, spec: ExperimentSpec, *, progress: bool = True, resume: bool = False,
            timeout: float | None = None) -> RunSummary:
        from automl.katib.backend import run_on_katib

        try:
            return run_on_katib(spec, self._cluster(), resume=resume, progress=progress,
                                poll_seconds=self.poll_seconds, timeout=timeout)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; it goes on running on the cluster") from None

    def results(self, name: str) -> Results:
        from automl.katib.backend import collect

        return collect(name, self._cluster(), self.db_manager)

    def print_status(self, name: str | None, *, every: bool = False, wide: bool = False) -> None:
        from automl.katib.status import print_katib_status

        print_katib_status(name, self._cluster(), every=every, wide=wide)

    def is_active(self, name: str) -> bool:
        from automl.katib.backend import experiment_state

        return experiment_state(self._cluster().get(name))[0] in ("Created", "Running",
                                                                  "Restarting")

    def logs(self, name: str, trial: str, *, stderr: bool = False, tail: int | None = None,
             follow: bool = False) -> Iterator[str]:
        from automl.errors import AutomlError

        if stderr:  # Katib's StdOut collector runs the trial with 2>&1 into one file
            raise AutomlError("--stderr: a Katib trial's pod log holds its stdout and stderr "
                              "together; leave the option out")
        return self._cluster().trial_logs(name, trial, tail=tail, follow=follow)

    def delete(self, name: str) -> None:
        self._cluster().delete(name)

    def interrupted(self, name: str) -> str:
        return (f"stopped following; the experiment runs on. Reattach: automl status {name} "
                "--backend katib")

    def _cluster(self) -> KatibCluster:
        from automl.katib.cluster import KatibCluster

        return KatibCluster(namespace=self.namespace, context=self.context)
