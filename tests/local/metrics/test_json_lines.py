"""The File collector's JSON format reads lines as Katib's Go collector does.

Katib's behaviour is pinned as data from
pkg/metricscollector/v1beta1/file-metricscollector/file-metricscollector.go
``parseLogsInJsonFormat`` (Go's ``json.Unmarshal`` into a map) and ``parseTimestamp``.
"""

from __future__ import annotations

import json

import pytest

from automl.local.metrics import JsonLinesCollector, MetricsError, reduce_observations


def _parse(lines):
    collector = JsonLinesCollector(["loss"])
    return [o for line in lines for o in collector.line(line)]


def test_empty_and_null_lines_hold_no_values() -> None:
    found = _parse(["", "null", '{"loss": "0.5"}'])
    assert [(o.metric, o.value) for o in found] == [("loss", "0.5")]


@pytest.mark.parametrize("line", ["   ", "[1, 2]", '"loss"', "5", '{"loss": NaN}',
                                  '{"loss": "0.5"} x'])
def test_a_line_go_cannot_unmarshal_into_an_object_fails_collection(line) -> None:
    with pytest.raises(MetricsError, match="failed to parse the json object"):
        _parse([line])


@pytest.mark.parametrize(("timestamp", "expected"), [
    # parseTimestamp: FormatFloat(f, 'f', -1, 64), split at ".", the digits after it as
    # nanoseconds: 100.5 is 100 s + 5 ns, 100.25 is 100 s + 25 ns.
    (100.5, 100.000000005),
    (100.25, 100.000000025),
    (100, 100.0),
    (-1.5, -0.999999995),
    (1e20, None),                     # ParseInt overflows: no timestamp
    ("2026-01-02T03:04:05.5Z", 1767323045.5),
    ("2026-01-02 03:04:05", None),    # not RFC 3339
    ("", None),
    (True, None),
])
def test_a_timestamp_is_read_as_katibs_parse_timestamp_reads_it(timestamp, expected) -> None:
    (obs,) = _parse([f'{{"loss": "0.5", "timestamp": {json.dumps(timestamp)}}}'])
    assert obs.timestamp == (None if expected is None else pytest.approx(expected, abs=1e-12))


def test_fractional_numeric_timestamps_order_the_latest_value_as_on_katib() -> None:
    found = _parse(['{"loss": "0.1", "timestamp": 100.5}',
                    '{"loss": "0.2", "timestamp": 100.25}'])
    # Katib: 25 ns is after 5 ns, so the second line is the latest, not the first.
    assert reduce_observations(found, ["loss"])["loss"].latest == "0.2"
