"""Why trials failed is shown wherever a trial's status is: the ``reason`` column of the trials
table (every format, both backends' readers, the HTML report), and ``best`` and the run's
summary of an experiment whose trials all failed."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

import automl
from automl.katib.results import trial_reason, trial_rows
from automl.results.report import write_report
from tests.faults.helpers import automl_each, automl_run, write_experiment

WHY = "exit status 3"


@pytest.fixture(scope="module")
def failed(tmp_path_factory) -> tuple[Path, str]:
    """An experiment whose 3 trials all exit with status 3, and what its run printed."""
    folder = tmp_path_factory.mktemp("failed")
    write_experiment(folder, max_trials=3, parallel_trials=3, trial_args=("--exit=3",))
    ran = automl_run(folder)
    assert ran.returncode == 0, ran.stderr
    return folder, ran.stdout


def test_the_trials_table_has_each_failed_trials_reason(failed) -> None:
    trials = automl.load_results("t", root=failed[0] / ".automl").trials
    assert str(trials["reason"].dtype) == "string"
    assert list(trials["reason"].str.split(";").str[0]) == [WHY] * 3
    assert all(r.endswith(f"{t}/stderr.log") for t, r in zip(trials["trial"], trials["reason"],
                                                              strict=True))


def test_a_succeeded_trial_has_no_reason(tmp_path) -> None:
    write_experiment(tmp_path, max_trials=1, parallel_trials=1)
    assert automl_run(tmp_path).returncode == 0
    trials = automl.load_results("t", root=tmp_path / ".automl").trials
    assert list(trials["status"]) == ["Succeeded"] and trials["reason"].isna().all()


def test_every_format_of_automl_trials_has_the_reason(failed) -> None:
    table, csv, as_json, markdown = automl_each(failed[0], [
        ["trials", "t"], ["trials", "t", "--format", "csv"],
        ["trials", "t", "--format", "json"], ["trials", "t", "--format", "markdown"]])
    assert table[1].splitlines()[0].split()[-1] == "reason"
    assert all(f"   {WHY}; log: " in line for line in table[1].splitlines()[1:])
    assert list(pd.read_csv(io.StringIO(csv[1]))["reason"].str.split(";").str[0]) == [WHY] * 3
    assert [r["reason"].split(";")[0] for r in json.loads(as_json[1])] == [WHY] * 3
    assert "| reason" in markdown[1] and markdown[1].count(f"| {WHY}; log:") == 3


def test_best_and_the_run_summary_of_an_all_failed_experiment_say_why(failed) -> None:
    line = (f"3 of 3 trials ended without succeeding (3 Failed); most common reason (3): {WHY}")
    assert failed[1].splitlines()[1] == f"best: -; {line}"
    [(code, out, err)] = automl_each(failed[0], [["best", "t"]])
    assert (code, out, err) == (1, f"t: no trial has an objective value yet; {line}\n", "")


@pytest.mark.parametrize("source", ["snapshot", "journal"])
def test_status_of_an_all_failed_experiment_says_why_and_no_more_trials(failed, source) -> None:
    from automl.local.paths import runs_folder
    from automl.local.snapshot import SNAPSHOT

    saved = runs_folder("t", None, failed[0] / ".automl") / SNAPSHOT
    assert saved.is_file() or source == "journal"
    if source == "journal":  # the engine's saved view gone: status reads the storage
        saved.unlink(missing_ok=True)
    line = (f"3 of 3 trials ended without succeeding (3 Failed); most common reason (3): {WHY}")
    [(code, out, err)] = automl_each(failed[0], [["status", "t"]])
    assert code == 0, err
    assert f"best: -; {line}" in out.splitlines()
    assert "more trials" not in out
    assert out.splitlines()[-1] == "3 trials: automl status t --all, or automl trials t"


def test_the_html_report_has_a_reason_column(failed, tmp_path) -> None:
    page = write_report(automl.load_results("t", root=failed[0] / ".automl"),
                        tmp_path / "r.html").read_text()
    trials = page[page.index('<section id="trials">'):]
    assert "<th>reason</th>" in trials
    assert trials.count(f'<td class="text">{WHY}; log: ') == 3


def _trial(conditions: list[dict[str, str]]) -> dict:
    return {"metadata": {"name": "t-x7k2m9qp", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"parameterAssignments": [{"name": "x", "value": "0.5"}]},
            "status": {"conditions": conditions}}


def _condition(kind: str, reason: str = "", message: str = "", status: str = "True") -> dict:
    return {"type": kind, "status": status, "reason": reason, "message": message}


@pytest.mark.parametrize(("conditions", "reason"), [
    ([_condition("Created"), _condition("Running", status="False"),
      _condition("Failed", "TrialFailed", "Trial has failed. Job reason: BackoffLimitExceeded")],
     "TrialFailed: Trial has failed. Job reason: BackoffLimitExceeded"),
    ([_condition("MetricsUnavailable", "MetricsUnavailable", "Metrics are not available")],
     "MetricsUnavailable: Metrics are not available"),
    ([_condition("EarlyStopped", "TrialEarlyStopped")], "TrialEarlyStopped"),
    ([_condition("Killed", "", "killed by the experiment")], "killed by the experiment"),
    ([_condition("Succeeded", "TrialSucceeded", "Trial has succeeded")], None),
    ([_condition("Created"), _condition("Running", "TrialRunning", "running")], None),
    ([], None)])
def test_a_katib_trials_reason_is_its_ending_conditions_reason_and_message(conditions,
                                                                           reason) -> None:
    trial = _trial(conditions)
    assert trial_reason(trial) == reason
    spec = automl.load({"name": "t", "objective": {"metric": "loss", "type": "minimize"},
                        "parameters": [{"name": "x", "type": "double", "min": 0, "max": 1}],
                        "trial": {"command": ["echo", "${trialParameters.x}"]}})
    [row] = trial_rows(spec, [trial])
    frame = automl.results.schema.trials_frame([row], spec)
    assert (frame["reason"].iloc[0] if reason else None) == reason
    assert bool(frame["reason"].isna().all()) is (reason is None)


@pytest.mark.parametrize(("status", "reason", "shown"), [
    ("Succeeded", "stdout.log stops at 1048576 bytes (File too large); its metrics were still "
     "read", "stdout.log stops at 1048576 bytes (File too large); its metrics were still read"),
    ("Succeeded", "", None), ("Killed", "stopped by Ctrl-C", "stopped by Ctrl-C")])
def test_a_local_trials_reason_is_kept_whatever_its_status_and_empty_is_none(
        failed, status, reason, shown) -> None:
    from automl.results.local import _row

    spec = automl.load_results("t", root=failed[0] / ".automl").spec
    row = _row("t", {"name": "t-0000", "status": status, "reason": reason}, spec)
    value = automl.results.schema.trials_frame([row], spec)["reason"].iloc[0]
    assert (None if value is pd.NA else value) == shown
