"""A trial that exits 0 but whose File collector cannot read its file fails, as on Katib.

Katib's file metrics collector (cmd/metricscollector/v1beta1/file-metricscollector/main.go)
ends in ``klog.Fatalf`` when ``CollectObservationLog`` returns an error: os.Open's, for a file
the trial never wrote, or json.Unmarshal's, for a line of a JSON file that is no JSON object.
The collector container exits in error, so the pod, its Job and the trial fail.
"""

from __future__ import annotations

import sys

import pytest

from tests.local.helpers import records, run, spec

PATH = "/katib/metrics.out"


def _experiment(code: str, file_format: str):
    return spec(budget={"max_trials": 1, "parallel_trials": 1}, trial={
        "command": [sys.executable, "-c", code, PATH, "${trialParameters.x}",
                    "${trialParameters.y}"],
        "metrics_collector": {"kind": "File", "path": PATH, "format": file_format}})


@pytest.mark.parametrize("file_format", ["TEXT", "JSON"])
def test_a_metrics_file_never_written_fails_the_trial(tmp_path, file_format) -> None:
    run(_experiment("pass", file_format), tmp_path)
    (row,) = records(tmp_path)
    assert row["status"] == "Failed"
    assert row["reason"].startswith("the trial never wrote its metrics file ")
    assert row["reason"].endswith("(Katib's file metrics collector fails such a trial)")


def test_a_line_of_a_json_metrics_file_that_is_no_json_object_fails_the_trial(tmp_path) -> None:
    code = ("import sys\n"
            "with open(sys.argv[1], 'w') as f:\n"
            "    f.write('{\"loss\": \"0.5\"}\\nnot json\\n')\n")
    run(_experiment(code, "JSON"), tmp_path)
    (row,) = records(tmp_path)
    assert row["status"] == "Failed"
    assert row["reason"] == ("failed to parse the json object: 'not json' "
                             "(Katib's file metrics collector fails such a trial)")


def test_a_text_metrics_file_with_no_objective_stays_metrics_unavailable(tmp_path) -> None:
    code = ("import sys\n"
            "open(sys.argv[1], 'w').write('accuracy=0.5\\n')\n")
    run(_experiment(code, "TEXT"), tmp_path)
    (row,) = records(tmp_path)
    assert row["status"] == "MetricsUnavailable"
