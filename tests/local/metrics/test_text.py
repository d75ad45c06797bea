"""The TEXT collectors (StdOut, File TEXT) parse lines exactly as Katib's Go collector does.

Katib's behaviour is pinned as data from
pkg/metricscollector/v1beta1/file-metricscollector/file-metricscollector.go
``parseLogsInTextFormat`` (and ``GetFilterRegexpList``, which compiles filters with Go's RE2
``regexp``).
"""

from __future__ import annotations

import pytest

from automl.local.metrics import StdOutCollector, reduce_observations


def _parse(collector, lines):
    return [(o.metric, o.value) for line in lines for o in collector.line(line)]


# The text before the first space, and the time Go's time.Parse(time.RFC3339Nano, ...) gives
# it (None: Katib logs "Metrics will not have timestamp" and keeps the zero time).
STAMPS = [
    ("2026-01-02T03:04:05Z", 1767323045.0),
    ("2026-01-02T03:04:05.25Z", 1767323045.25),
    ("2026-01-02T03:04:05,25Z", 1767323045.25),       # Go reads a comma as the decimal point
    ("2026-01-02T05:04:05+02:00", 1767323045.0),
    ("2026-01-02T3:04:05Z", 1767323045.0),            # Go's "15" takes one digit
    ("2026-01-02", None),                              # Python logging's date part
    ("2026-01-02T03:04:05", None),                     # no offset
    ("2026-01-02T03:04:05+0000", None),                # offset without a colon
    ("2026-01-02t03:04:05z", None),
    ("20260102T030405Z", None),
    ("2026-02-30T03:04:05Z", None),                    # no such day
    ("2026-01-02T24:00:00Z", None),
    ("2026-01-02T03:04:60Z", None),
]


@pytest.mark.parametrize(("head", "expected"), STAMPS)
def test_a_leading_timestamp_counts_only_when_go_reads_it_as_rfc3339(head, expected) -> None:
    (obs,) = StdOutCollector(["loss"]).line(f"{head} loss=0.25")
    assert obs.timestamp == expected
    assert obs.value == "0.25"  # the line is parsed either way


def test_a_python_logging_prefix_leaves_its_values_unstamped_so_a_stamped_one_is_latest() -> None:
    collector = StdOutCollector(["loss"])
    found = [o for line in ["2026-01-03 00:00:00,000 INFO loss=0.9",
                            "2026-01-02T12:00:00Z loss=0.2"] for o in collector.line(line)]
    # Katib: the first value keeps the zero time (year 1), so the stamped 0.2 is the latest.
    assert reduce_observations(found, ["loss"])["loss"].latest == "0.2"


@pytest.mark.parametrize(("filters", "line", "expected"), [
    # The default filter's value group is all optional: it matches an empty value before
    # anything that is not a number, and Katib stores that empty text.
    ((), "loss=nan acc=abc", [("loss", ""), ("acc", "")]),
    ((), "loss= acc=-inf", [("loss", ""), ("acc", "-")]),
    ((), "loss = 1e-3", [("loss", "1e-3")]),
    ((r"(\w+)=(\S+)",), "loss=nan acc=abc", [("loss", "nan"), ("acc", "abc")]),
    # A group that takes no part in the match is "" in Go (None in Python).
    ((r"(\w+)=(\d+)?",), "loss=x", [("loss", "")]),
    # Katib skips matches of a filter with fewer than two groups.
    ((r"(loss)=0\.5",), "loss=0.5", []),
])
def test_empty_and_non_numeric_values_reach_the_log_as_katib_records_them(
        filters, line, expected) -> None:
    assert _parse(StdOutCollector(["loss", "acc"], filters), [line]) == expected


def test_w_is_ascii_as_in_re2_so_a_non_ascii_name_is_not_captured() -> None:
    # RE2's \w is [0-9A-Za-z_]: the default filter sees "cision" in "précision".
    collector = StdOutCollector(["précision", "cision"])
    assert _parse(collector, ["précision=0.3"]) == [("cision", "0.3")]


@pytest.mark.parametrize(("metrics", "filters", "line", "expected"), [
    # examples/v1beta1/nas/darts-cpu.yaml
    (["Best-Genotype"], [r"([\w-]+)=(Genotype.*)"],
     "Best-Genotype=Genotype(normal=[[('max_pooling_3x3',0)]], normal_concat=range(2, 3))",
     [("Best-Genotype", "Genotype(normal=[[('max_pooling_3x3',0)]], normal_concat=range(2, 3))")]),
    # examples/v1beta1/metrics-collector/file-metrics-collector.yaml
    (["accuracy", "loss"], [r"{metricName: ([\w|-]+), metricValue: ((-?\d+)(\.\d+)?)}"],
     "{metricName: accuracy, metricValue: 0.8}{metricName: loss, metricValue: -0.25}",
     [("accuracy", "0.8"), ("loss", "-0.25")]),
    # examples/v1beta1/kubeflow-training-operator/xgboostjob-lightgbm.yaml
    (["valid_1 auc", "training auc"], [r"(\w+\s\w+)\s:\s((-?\d+)(\.\d+)?)"],
     "valid_1 auc : 0.95, training auc : 0.99",
     [("valid_1 auc", "0.95"), ("training auc", "0.99")]),
])
def test_katib_example_filters_read_their_lines(metrics, filters, line, expected) -> None:
    assert _parse(StdOutCollector(metrics, filters), [line]) == expected
