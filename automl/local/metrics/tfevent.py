"""Katib's TensorFlowEvent collector: scalars from event files, read after the trial exits."""

from __future__ import annotations

import math
import posixpath
from collections.abc import Iterable
from pathlib import Path

from automl.local.metrics.base import MetricsCollectorBase, Observation

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

    def after_exit(self, run_dir: Path) -> Iterable[Observation]:
        from tensorboard.backend.event_processing.event_accumulator import (
            SCALARS,
            TENSORS,
            EventAccumulator,
        )
        from tensorboard.util import tensor_util

        found: list[Observation] = []
        for file in _event_files(self.directory):
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

    Katib takes them in ``os.walk``'s order, which is whatever the filesystem lists; as
    timestamps are whole seconds there, that order picks the latest value among files
    written within one second. Sorting makes it the newest file's, on every machine.
    """
    return sorted(p for p in directory.rglob("*") if "tfevents" in p.name)
