"""Katib's TensorFlowEvent collector: scalars from event files, read after the trial exits."""

from __future__ import annotations

import math
import os
import posixpath
import time
from collections.abc import Iterable
from pathlib import Path

from automl.local.metrics.base import MetricsCollectorBase, Observation, ReadingCut
from automl.local.trial_files import UnreadableFile, open_trial_file

__all__ = ["TfEventCollector"]


class TfEventCollector(MetricsCollectorBase):
    """Reads every event file under the directory with TensorBoard's EventAccumulator.

    As Katib's tfevent collector (pkg/metricscollector/v1beta1/tfevent-metricscollector/
    tfevent_loader.py ``TFEventFileParser.parse_summary``): metric ``m`` matches a tag that
    starts with the last path component of ``m``; when ``m`` has a ``/`` (e.g.
    ``test/accuracy``) the event file's folder must end with the prefix (``test``). Tensor
    summaries come first, then legacy scalar ones; a tensor's value is ``str()`` of its numpy
    array (a float32 0.9 is ``0.9``), a scalar's ``str()`` of its Python float (the float32
    widened: ``0.8999999761581421``), and the timestamp is the wall time in whole seconds
    (Katib formats it with ``rfc3339.rfc3339``, which drops the fraction).
    """

    kind = "TensorFlowEvent"
    streams = False

    def __init__(self, metrics: list[str], directory: Path) -> None:
        super().__init__(metrics)
        self.directory = directory

    def after_exit(self, run_dir: Path, until: float | None = None) -> Iterable[Observation]:
        from tensorboard.backend.event_processing.event_accumulator import (
            SCALARS,
            TENSORS,
            EventAccumulator,
        )
        from tensorboard.util import tensor_util

        found: list[Observation] = []
        files = _event_files(self.directory)
        for done, file in enumerate(files):
            if until is not None and time.monotonic() > until:
                raise ReadingCut(f"the deadline passed while the event files in "
                                 f"{self.directory} were read ({done} of {len(files)} read)")
            # Katib's loader goes on past a file it cannot read, with a warning
            # (tfevent_loader.py MetricsCollector.parse_file: ``except Exception``). A FIFO
            # would block it until the trial's deadline; here it is skipped at once.
            try:
                open_trial_file(file).close()
            except OSError as exc:
                self.skipped.append(f"{_reason(exc)}: skipped, as Katib's collector skips a "
                                    "file it cannot read")
                continue
            # The accumulator opens the file again by its name: this trial's processes have
            # all been ended (automl.local.supervisor) before its files are read, so none
            # can put something else there in between.
            acc = EventAccumulator(str(file), size_guidance={SCALARS: 0, TENSORS: 0})
            acc.Reload()
            tags = acc.Tags()
            for tag in tags.get(TENSORS, []):
                for metric in self._matching(tag, file):
                    found.extend(Observation(metric, str(tensor_util.make_ndarray(e.tensor_proto)),
                                             float(math.floor(e.wall_time)))
                                 for e in acc.Tensors(tag))
            for tag in tags.get(SCALARS, []):
                for metric in self._matching(tag, file):
                    found.extend(Observation(metric, str(e.value), float(math.floor(e.wall_time)))
                                 for e in acc.Scalars(tag))
        return found

    def _matching(self, tag: str, file: Path) -> list[str]:
        """The metrics ``tag`` in ``file`` reports (Katib's ``_should_consider``)."""
        chosen = []
        for metric in self.metrics:
            prefix = posixpath.dirname(metric) if "/" in metric else ""
            if tag.startswith(metric.split("/")[-1]) and file.parent.as_posix().endswith(prefix):
                chosen.append(metric)
        return chosen


def _event_files(directory: Path) -> list[Path]:
    """The event files, by name: oldest first for TensorFlow's ``events.out.tfevents.<time>``.

    As Katib's ``find_all_files``, the folder is walked with ``os.walk`` (symbolic links to
    folders are not followed) and only what is not a folder is a file: a sub-folder named
    ``tfevents`` is looked into, not read. Katib takes the files in ``os.walk``'s order,
    which is whatever the filesystem lists; as timestamps are whole seconds there, that
    order picks the latest value among files written within one second. Sorting makes it
    the newest file's, on every machine.
    """
    return sorted(Path(root, name) for root, _, names in os.walk(directory) for name in names
                  if "tfevents" in name)


def _reason(exc: OSError) -> str:
    """What :func:`open_trial_file` said (it names the file), or the system's words."""
    return str(exc) if isinstance(exc, UnreadableFile) else f"{exc.filename}: {exc.strerror}"
