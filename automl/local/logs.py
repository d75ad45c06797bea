"""``automl logs``: a local trial's output, as ``kubectl logs`` shows a trial pod's.

Each trial's folder ``<runs folder>/<trial>/`` (:func:`automl.local.paths.runs_folder`) holds
``stdout.log`` and ``stderr.log`` (or ``metrics.log``, stdout and stderr together, when the
trial ran under ``sh -c`` as Katib runs it). Following a trial ends when the trial has ended:
the engine writes the trial's ``observations.jsonl`` when it records the end, and an engine
that is no longer running (its lock in the runs folder is free) ends no trial.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from automl.errors import AutomlError
from automl.local.job import KATIB_STDOUT
from automl.local.lock import is_held
from automl.local.paths import DEFAULT_ROOT, RUN_LOCK, runs_folder
from automl.spec.rules.experiment import name_problem

__all__ = ["trial_log", "trial_logs"]

_POLL_SECONDS = 0.2


def trial_log(name: str, trial: str, root: Path = DEFAULT_ROOT, *,
              stderr: bool = False, storage: str | None = None) -> Path:
    """The file that holds a local trial's stdout (or ``stderr``).

    Raises:
        AutomlError: When the experiment or the trial has no folder here (the message says
            which trials there are).
    """
    for what, text in (("experiment", name), ("trial", trial)):
        problem = name_problem(text)
        if problem is not None:
            raise AutomlError(f"{what} name: {problem}")
    runs = runs_folder(name, storage, root)
    if not runs.is_dir():
        raise AutomlError(f"no experiment {name!r} has run here ({runs} does not exist)")
    folder = runs / trial
    if not folder.is_dir():
        trials = sorted(p.name for p in runs.iterdir() if p.is_dir())
        known = (f"{len(trials)} trials, {trials[0]} to {trials[-1]}" if trials
                 else "no trial yet")
        raise AutomlError(f"no trial {trial!r} in experiment {name!r} ({known})")
    shared = folder / KATIB_STDOUT
    if shared.exists():  # both streams went to one file, as on Katib
        return shared
    return folder / ("stderr.log" if stderr else "stdout.log")


def trial_logs(name: str, trial: str, root: Path = DEFAULT_ROOT, *, stderr: bool = False,
               tail: int | None = None, follow: bool = False,
               storage: str | None = None) -> Iterator[str]:
    """The lines of a local trial's stdout (or ``stderr``), without their newlines.

    Args:
        name: The experiment.
        trial: The trial (e.g. ``digits-svm-0003``).
        root: The folder of the default storage.
        stderr: Its standard error rather than its output.
        tail: Only the last ``tail`` lines written so far.
        follow: Then go on with what the trial writes, until it ends.
        storage: The storage the experiment ran with (default ``<root>/studies.journal``).

    Raises:
        AutomlError: As :func:`trial_log`.

    Example:
        >>> for line in trial_logs("digits-svm", "digits-svm-0003", tail=5):
        ...     print(line)
    """
    path = trial_log(name, trial, root, stderr=stderr, storage=storage)
    offset, rest, first = 0, b"", True
    while True:
        # the engine records the end with observations.jsonl; a stopped engine ends nothing
        ended = not follow or (path.parent / "observations.jsonl").exists() or not is_held(
            path.parent.parent / RUN_LOCK)
        if path.exists():
            with open(path, "rb") as file:
                file.seek(offset)
                data = file.read()
            offset += len(data)
            *complete, rest = (rest + data).split(b"\n")
        else:
            complete = []
        if ended and rest:  # a last line without its newline is a line all the same
            complete.append(rest)
        lines = [line.decode("utf-8", errors="replace") for line in complete]
        if first and tail is not None:
            lines = lines[len(lines) - tail:] if tail else []
        first = False
        yield from lines
        if ended:
            return
        time.sleep(_POLL_SECONDS)
