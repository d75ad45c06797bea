"""The TensorFlowEvent collector gives the values and timestamps Katib's loader gives.

Katib's behaviour is pinned as data from
pkg/metricscollector/v1beta1/tfevent-metricscollector/tfevent_loader.py
``TFEventFileParser.parse_summary``: a tensor's value is ``str(tf.make_ndarray(...))``, a
legacy scalar's ``str(scalar.value)``, the timestamp ``rfc3339.rfc3339(...)`` (whole seconds).
"""

from __future__ import annotations

import numpy as np
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.util import tensor_util

from automl.local.metrics import TfEventCollector, reduce_observations

_SCALARS = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))


def _write(folder, *values):
    writer = EventFileWriter(str(folder))
    for step, (wall_time, value) in enumerate(values):
        writer.add_event(Event(wall_time=wall_time, step=step, summary=Summary(value=[value])))
    writer.close()


def test_a_tf2_float32_summary_reads_as_katib_prints_it_so_its_goal_is_reached(tmp_path) -> None:
    tensor = tensor_util.make_tensor_proto(np.float32(0.9))
    _write(tmp_path, (100.7, Summary.Value(tag="accuracy", metadata=_SCALARS, tensor=tensor)))
    found = list(TfEventCollector(["accuracy"], tmp_path).after_exit(tmp_path))
    assert [(o.value, o.timestamp) for o in found] == [("0.9", 100.0)]
    assert reduce_observations(found, ["accuracy"])["accuracy"].value("max") >= 0.9


def test_a_legacy_scalar_keeps_katibs_widened_float32_text(tmp_path) -> None:
    _write(tmp_path, (101.2, Summary.Value(tag="accuracy", simple_value=0.9)))
    found = list(TfEventCollector(["accuracy"], tmp_path).after_exit(tmp_path))
    assert [(o.value, o.timestamp) for o in found] == [("0.8999999761581421", 101.0)]


def test_values_within_one_second_take_the_later_step_as_latest(tmp_path) -> None:
    _write(tmp_path, (100.9, Summary.Value(tag="loss", simple_value=0.5)),
           (100.1, Summary.Value(tag="loss", simple_value=0.25)))
    found = list(TfEventCollector(["loss"], tmp_path).after_exit(tmp_path))
    # Both are stamped 100 s on Katib, so the later log (the second step) is the latest.
    assert reduce_observations(found, ["loss"])["loss"].latest == "0.25"
