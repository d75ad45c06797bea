"""The local backend: the embedded engine (Optuna, a journal, trials as processes)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from automl.backends._base import Backend

if TYPE_CHECKING:
    from automl.local import TrialRunner
    from automl.results import Results
    from automl.spec import ExperimentSpec
    from automl.state import RunSummary

__all__ = ["LocalBackend"]


class LocalBackend(Backend):
    """Runs trials on this machine with Katib's semantics.

    Args:
        storage: An Optuna storage URL or a journal file path (default
            ``<root>/studies.journal``).
        root: Folder of the default storage (trials' logs: automl.local.paths.runs_folder).
        seed: Seeds the sampler when the algorithm has no ``random_state`` setting.
        katib_shell: Run each trial's command under ``sh -c`` as Katib's collectors do.
        runner: How trials run (default: subprocesses; ``automl.tune`` forks a function).
        experiment_file: The file the experiment was loaded from (the command that resumes
            an interrupted run names it).
    """

    options: ClassVar[frozenset[str]] = frozenset(
        {"storage", "root", "seed", "katib_shell", "runner", "experiment_file"})

    def __init__(self, *, storage: str | None = None, root: str | Path = ".automl",
                 seed: int | None = None, katib_shell: bool = False,
                 runner: TrialRunner | None = None,
                 experiment_file: Path | None = None) -> None:
        self.storage = storage
        self.root = Path(root)
        self.seed = seed
        self.katib_shell = katib_shell
        self.runner = runner
        self.experiment_file = experiment_file

    def run(self, spec: ExperimentSpec, *, progress: bool = True, resume: bool = False,
            timeout: float | None = None) -> RunSummary:
        from automl.local import LocalEngine

        engine = LocalEngine(spec, storage=self.storage, root=self.root, runner=self.runner,
                             progress=progress, seed=self.seed, katib_shell=self.katib_shell,
                             experiment_file=self.experiment_file)
        # The engine stops on its cancel event as on Ctrl-C (running trials are killed and
        # recorded, then KeyboardInterrupt): a timer setting it is a timeout with no second
        # process.
        timed_out = threading.Event()
        timer = None
        if timeout:
            timer = threading.Timer(timeout, lambda: (timed_out.set(), engine.cancel.set()))
            timer.daemon = True
            timer.start()
        try:
            return engine.run()
        except KeyboardInterrupt:
            if not timed_out.is_set():
                raise
            raise TimeoutError(f"experiment {spec.name!r} did not finish within "
                               f"{timeout:g} s; it was stopped and its running "
                               "trials killed") from None
        finally:
            if timer is not None:
                timer.cancel()

    def results(self, name: str) -> Results:
        from automl.results import load_results

        return load_results(name, self.storage, root=self.root)

    def print_status(self, name: str | None, *, every: bool = False, wide: bool = False) -> None:
        from automl.local.status import print_status

        print_status(name, self.storage, self.root, every=every, wide=wide)

    def is_active(self, name: str) -> bool:
        from automl.local.status import run_is_active

        # An engine holds its experiment's lock while it runs; an interrupted run holds none.
        return run_is_active(name, self.storage, self.root)

    def logs(self, name: str, trial: str, *, stderr: bool = False, tail: int | None = None,
             follow: bool = False) -> Iterator[str]:
        from automl.local.logs import trial_logs

        return trial_logs(name, trial, self.root, stderr=stderr, tail=tail, follow=follow,
                          storage=self.storage)

    def delete(self, name: str) -> str | None:
        from automl.local.delete import delete_experiment

        left = delete_experiment(name, self.storage, self.root)
        if not left:
            return None
        shown = ", ".join(p.name for p in left[:5]) + (", ..." if len(left) > 5 else "")
        return (f"kept {left[0].parent}: it holds files automl did not write ({shown}); "
                "delete them yourself if you mean to")
