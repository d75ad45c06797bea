"""Metrics collector differential: the same log lines through Katib's real
file-metricscollector binary (into the real DB manager and its PostgreSQL table) and through
automl's parsers give the same observations: metric, value and timestamp, in order."""

from __future__ import annotations

import datetime
import secrets
from pathlib import Path

import pytest

from automl.local.metrics.base import Observation
from automl.local.metrics.json_lines import JsonLinesCollector
from automl.local.metrics.text import StdOutCollector
from tests.cluster.control_plane import COLLECTOR_IMAGE, ControlPlane
from tests.cluster.kubelet import Pod

pytestmark = pytest.mark.cluster

METRICS = ["loss", "accuracy"]

TEXT = """epoch 1
loss=0.5
loss=0.25 accuracy=0.75
2024-01-02T03:04:05Z loss=0.125
2024-01-02T03:04:05.123456789Z accuracy=.5
2024-01-02T05:04:05.5+02:00 loss=1e-3
not-a-time loss=-7.5E+2
val_loss=0.4
loss = 0.0625
loss=nan accuracy=+3
"""

CUSTOM_FILTER = r"([\w|-]+)\s*:\s*((-?\d+)(\.\d+)?)"
TEXT_FOR_CUSTOM_FILTER = """loss: 0.5, accuracy: 0.9
2024-01-02T03:04:05Z loss:0.25 loss=0.75
accuracy :-1
"""

JSON = """{"loss": "0.5", "timestamp": "2024-01-02T03:04:05Z"}
{"loss": 0.25, "accuracy": "0.875"}

{"accuracy": "0.9", "timestamp": 1700000000.5}
null
{"loss": "7", "timestamp": "yesterday"}
"""

CASES = {
    "text": (TEXT, "TEXT", [], StdOutCollector(METRICS)),
    "text-custom-filter": (TEXT_FOR_CUSTOM_FILTER, "TEXT", [CUSTOM_FILTER],
                           StdOutCollector(METRICS, [CUSTOM_FILTER])),
    "json": (JSON, "JSON", [], JsonLinesCollector(METRICS)),
}


def katib_observations(cluster: ControlPlane, lines: Path, file_format: str,
                       filters: list[str]) -> list[Observation]:
    """Run Katib's collector beside a 'trial' that writes ``lines`` to its metrics file, in
    a pod of the stand-in kubelet; read what the DB manager stored."""
    import psycopg

    trial = f"mc-{secrets.token_hex(4)}"
    mount = [{"name": "metrics-volume", "mountPath": "/var/log/katib"}]
    path = "/var/log/katib/metrics.log"
    args = ["-t", trial, "-m", ";".join(METRICS), "-o-type", "minimize",
            "-s-db", "katib-db-manager.kubeflow:6789", "-path", path, "-format", file_format]
    if filters:
        args += ["-f", ";".join(filters)]
    pod = {"metadata": {"name": trial, "namespace": "collector"}, "spec": {
        "volumes": [{"name": "metrics-volume", "emptyDir": {}}],
        "containers": [
            # As Katib's webhook wraps a trial's command ($$$$ is the kubelet's escape of $$).
            {"name": "training-container", "volumeMounts": mount, "command": [
                "sh", "-c", f"cat {lines} > {path} && echo completed > /var/log/katib/$$$$.pid"]},
            {"name": "metrics-logger-and-collector", "image": COLLECTOR_IMAGE, "args": args,
             "volumeMounts": mount}]}}
    assert Pod(cluster, pod).run(), "the collector pod failed"
    with psycopg.connect(cluster.database) as connection:
        rows = connection.execute(
            "SELECT metric_name, value, time FROM observation_logs WHERE trial_name = %s "
            "ORDER BY id", (trial,)).fetchall()
    return [Observation(name, value, _epoch(time)) for name, value, time in rows]


def _epoch(time: datetime.datetime) -> float | None:
    """Katib's stored time as epoch seconds; its zero time (year 1) means none."""
    if time.year == 1:
        return None
    return time.replace(tzinfo=datetime.timezone.utc).timestamp()


def _automl(text: str, collector) -> list[Observation]:
    found = [o for line in text.split("\n") for o in collector.line(line)]
    if not any(o.metric == METRICS[0] for o in found):
        # Katib's collector reports this in place of a missing objective; automl's engine
        # marks the trial MetricsUnavailable from the absence itself.
        return [Observation(METRICS[0], "unavailable", None)]
    return found


@pytest.mark.parametrize("case", sorted(CASES))
def test_katibs_collector_and_automls_parser_give_the_same_observations(
        cluster: ControlPlane, tmp_path: Path, case: str) -> None:
    text, file_format, filters, collector = CASES[case]
    lines = tmp_path / "lines"
    lines.write_text(text)
    katib = katib_observations(cluster, lines, file_format, filters)
    ours = _automl(text, collector)
    assert [(o.metric, o.value) for o in katib] == [(o.metric, o.value) for o in ours]
    for theirs, mine in zip(katib, ours, strict=True):
        # The table keeps microseconds: a nanosecond timestamp is cut there.
        assert (theirs.timestamp is None) == (mine.timestamp is None), (theirs, mine)
        if mine.timestamp is not None:
            assert abs(theirs.timestamp - mine.timestamp) < 1e-6, (theirs, mine)


def test_a_log_without_the_objective_gives_katibs_unavailable(
        cluster: ControlPlane, tmp_path: Path) -> None:
    lines = tmp_path / "lines"
    lines.write_text("accuracy=0.5\n")
    katib = katib_observations(cluster, lines, "TEXT", [])
    assert [(o.metric, o.value) for o in katib] == [("loss", "unavailable")]
    assert _automl("accuracy=0.5\n", StdOutCollector(METRICS)) == katib
