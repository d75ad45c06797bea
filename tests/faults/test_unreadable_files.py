"""Trials that leave something unreadable where their metrics should be: each trial ends
at once with the reason, within its deadline, and the experiment goes on."""

from __future__ import annotations

import sys
import time

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.faults.helpers import automl_each
from tests.local.helpers import records, run, spec

_DEADLINE = 3


def _experiment(code: str, collector: dict):
    """Two trials, one at a time, each ``python -c code`` with ``collector``."""
    experiment = spec(budget={"max_trials": 2, "parallel_trials": 1})
    trial = experiment.trial.model_copy(update={
        "command": [sys.executable, "-c", code, "${trialParameters.x}", "${trialParameters.y}"],
        "active_deadline_seconds": _DEADLINE,
        "metrics_collector": experiment.trial.metrics_collector.model_validate(collector)})
    return experiment.model_copy(update={"trial": trial})


_MAKE = {
    "fifo": "os.mkfifo(path)",
    "folder": "os.mkdir(path)",
    # 20 GB that cost no disk: read to its end, a minute of zeros against a 3 s deadline
    "sparse": "open(path, 'w').close(); os.truncate(path, 20_000_000_000)",
}
_SAID = {"fifo": "a FIFO (named pipe), not a regular file",
         "folder": "a folder, not a regular file",
         "sparse": "18.6 GiB, more than the 1.0 GiB automl reads of such a file"}


@pytest.mark.parametrize("kind", list(_MAKE))
def test_a_file_collector_path_that_is_no_readable_file_fails_the_trial_at_once(
        tmp_path, kind) -> None:
    code = f"import os; path = os.environ['AUTOML_METRICS_PATH']; {_MAKE[kind]}"
    began = time.monotonic()
    run(_experiment(code, {"kind": "File", "path": "/var/log/katib/metrics.log"}), tmp_path)
    took = time.monotonic() - began
    rows = records(tmp_path)
    assert len(rows) == 2  # the experiment went on after the first
    for row in rows:
        path = f"{row['log_dir']}/metrics/metrics.log"
        assert (row["status"], row["reason"]) == (
            "Failed", f"the metrics file cannot be read: {path}: {_SAID[kind]} (Katib's "
                      "metrics collector fails such a trial)")
        assert row["end"] - row["start"] < _DEADLINE
    assert took < 2 * _DEADLINE + 10  # two trials, each within its deadline, and the run


def test_a_fifo_and_a_folder_among_event_files_are_passed_over_with_the_reason(
        tmp_path) -> None:
    code = ("import os; d = os.environ['AUTOML_METRICS_PATH']; "
            "os.mkfifo(os.path.join(d, 'events.out.tfevents.x')); "
            "os.mkdir(os.path.join(d, 'tfevents'))")
    run(_experiment(code, {"kind": "TensorFlowEvent", "path": "/var/log/katib/tfevent/"}),
        tmp_path)
    rows = records(tmp_path)
    assert len(rows) == 2
    for row in rows:
        fifo = f"{row['log_dir']}/tfevent/events.out.tfevents.x"
        # Katib's loader walks into the folder, and goes on past a file it cannot read
        assert (row["status"], row["reason"]) == (
            "MetricsUnavailable", "the trial exited 0 but never reported loss (it reported "
            f"no metric); {fifo}: a FIFO (named pipe), not a regular file: skipped, as "
            "Katib's collector skips a file it cannot read")
        assert row["end"] - row["start"] < _DEADLINE


def test_tensorboard_writes_every_trial_and_names_a_torn_observations_line(tmp_path) -> None:
    experiment = spec(budget={"max_trials": 2, "parallel_trials": 2}, args=["--epochs=3"])
    run(experiment, tmp_path)
    torn = tmp_path / ".automl/runs/t/t-0000/observations.jsonl"
    lines = torn.read_text().count("\n")
    with open(torn, "a") as file:  # an engine killed while it wrote the trial's last line
        file.write('{"metric": "loss", "val')
    ((code, _, err),) = automl_each(tmp_path, [["tensorboard", "t", "--logdir", "tb"]])
    assert code == 0, err
    assert f"{torn} line {lines + 1}: not a whole observation" in err
    for trial in ("t-0000", "t-0001"):
        acc = EventAccumulator(str(tmp_path / "tb" / trial))
        acc.Reload()
        assert len(acc.Scalars("loss")) == 3  # its three epochs, the torn line left out


def test_a_fifo_where_the_engine_writes_observations_does_not_stop_it(tmp_path) -> None:
    code = ("import os; path = os.environ['AUTOML_METRICS_PATH']; "
            "open(path, 'w').write('loss=0.5\\n'); "
            "os.mkfifo(os.path.join(os.path.dirname(os.path.dirname(path)), "
            "'observations.jsonl'))")
    run(_experiment(code, {"kind": "File", "path": "/var/log/katib/metrics.log"}), tmp_path)
    rows = records(tmp_path)
    assert [(r["status"], r["objective"], r["reason"]) for r in rows] == [
        ("Succeeded", 0.5, "observations.jsonl not written (No such device or address)")] * 2
