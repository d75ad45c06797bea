"""Katib's TensorFlowEvent collector: scalars from event files, read after the trial exits."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from automl.local.metrics.base import MetricsCollectorBase, Observation

__all__ = ["TfEventCollector"]


class TfEventCollector(MetricsCollectorBase):
    """Reads every event file under the directory with TensorBoard's EventAccumulator.

    As Katib's tfevent collector: metric ``m`` matches a tag that starts with the last path
    component of ``m``; when ``m`` has a ``/`` (e.g. ``test/accuracy``) the event file's folder
    must end with the prefix (``test``). Both tensor and legacy scalar summaries count.
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
        files = sorted(p for p in self.directory.rglob("*") if "tfevents" in p.name)
        for file in files:
            acc = EventAccumulator(str(file), size_guidance={SCALARS: 0, TENSORS: 0})
            acc.Reload()
            tags = acc.Tags()
            for metric in self.metrics:
                prefix, _, leaf = metric.rpartition("/")
                if prefix and not file.parent.as_posix().endswith(prefix):
                    continue
                for tag in tags.get(TENSORS, []):
                    if tag.startswith(leaf):
                        for event in acc.Tensors(tag):
                            value = tensor_util.make_ndarray(event.tensor_proto)
                            found.append(Observation(metric, str(value.item()), event.wall_time))
                for tag in tags.get(SCALARS, []):
                    if tag.startswith(leaf):
                        for event in acc.Scalars(tag):
                            found.append(Observation(metric, str(event.value), event.wall_time))
        return found
