"""``automl logs``: a local trial's output, as ``kubectl logs`` shows a trial pod's.

Each trial's folder ``<runs folder>/<trial>/`` (:func:`automl.local.paths.runs_folder`) holds
``stdout.log`` and ``stderr.log`` (or ``metrics.log``, stdout and stderr together, when the
trial ran under ``sh -c`` as Katib runs it). Following a trial ends when the trial has ended:
the engine writes the trial's ``observations.jsonl`` when it records the end, and an engine
that is no longer running (automl.local.status.run_is_active) ends no trial.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from automl.errors import AutomlError
from automl.local.job import KATIB_STDOUT
from automl.local.paths import DEFAULT_ROOT, runs_folder
from automl.local.trial_files import CHUNK, open_trial_file
from automl.spec.rules.experiment import name_problem

__all__ = ["trial_log", "trial_logs"]

_POLL_SECONDS = 0.2
_MAX_LINE = 1 << 20
"""A longer line is shown in pieces of this many bytes."""
_LOOK_BACK = 64 << 20
"""How far before the end of a log its last lines (``tail``) are looked for."""


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
        AutomlError: As :func:`trial_log`; also when the log is not a regular file (a FIFO,
            a folder: automl.local.trial_files.UnreadableFile names it).

    Example:
        >>> for line in trial_logs("digits-svm", "digits-svm-0003", tail=5):
        ...     print(line)
    """
    from automl.local.status import run_is_active  # status draws tables: not needed before

    path = trial_log(name, trial, root, stderr=stderr, storage=storage)
    reader = _Reader(path, tail)
    while True:
        # the engine records the end with observations.jsonl; a stopped engine ends nothing
        ended = not follow or (path.parent / "observations.jsonl").exists() or (
            not run_is_active(name, storage, root, recorded=str(path.parent.parent)))
        yield from reader.lines(ended)
        if ended:
            return
        time.sleep(_POLL_SECONDS)


class _Reader:
    """The lines of a log the trial may still be writing, read in bounded memory and time.

    The log is opened afresh for each look (automl.local.trial_files: a FIFO or a folder at
    its path is an error, not a wait). With ``tail``, reading starts at most
    ``_LOOK_BACK`` bytes before the end, so a huge log costs no more than a small one;
    a line longer than ``_MAX_LINE`` bytes comes in pieces of that length.
    """

    def __init__(self, path: Path, tail: int | None) -> None:
        self.path = path
        self.tail = tail
        self.offset: int | None = None if tail is not None else 0
        self.rest = b""

    def lines(self, ended: bool) -> Iterator[str]:
        """The lines written since the last look; with ``ended``, the last one too."""
        try:
            file = open_trial_file(self.path, max_bytes=None)
        except FileNotFoundError:
            file = None
        with file or contextlib.nullcontext():
            found: Iterable[bytes] = self._read(file, ended)
            if self.tail is not None:  # the first look: only its last lines
                found = deque(found, maxlen=self.tail) if self.tail else []
                self.tail = None
            yield from (line.decode("utf-8", errors="replace") for line in found)

    def _read(self, file: BinaryIO | None, ended: bool) -> Iterator[bytes]:
        end = os.fstat(file.fileno()).st_size if file is not None else 0
        if self.offset is None:  # a log not there yet is followed from its start
            self.offset = _tail_start(file, end) if file is not None else 0
        if file is not None:
            file.seek(self.offset)
            while self.offset < end:
                data = file.read(min(CHUNK, end - self.offset))
                if not data:
                    break
                self.offset += len(data)
                *complete, self.rest = (self.rest + data).split(b"\n")
                yield from complete
                while len(self.rest) > _MAX_LINE:
                    yield self.rest[:_MAX_LINE]
                    self.rest = self.rest[_MAX_LINE:]
        if ended and self.rest:  # a last line without its newline is a line all the same
            yield self.rest
            self.rest = b""


def _tail_start(file: BinaryIO, end: int) -> int:
    """Where to start reading for a tail: just after a newline within ``_LOOK_BACK`` bytes
    of the end, or the start of the file when it is shorter."""
    start = max(0, end - _LOOK_BACK)
    if start == 0:
        return 0
    file.seek(start)
    head = file.read(CHUNK)
    newline = head.find(b"\n")
    return start + newline + 1 if newline >= 0 else start
