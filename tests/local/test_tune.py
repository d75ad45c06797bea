"""automl.tune runs Python functions as trials, in the spirit of KatibClient.tune."""

from __future__ import annotations

import os

import pytest

import automl
from tests.local.helpers import records


def quadratic(params):
    x = float(params["x"])
    print(f"seen={params['fixed']}")
    return {"loss": (x - 2) ** 2, "x_again": x}


def prints_metrics(params):
    for epoch in range(3):
        print(f"loss={float(params['x']) * (3 - epoch)}")


def crashes(params):
    raise RuntimeError("boom " + params["x"])


def pid(params):
    return float(os.getpid())


def _tune(tmp_path, fn, **kwargs):
    options = {"objective_metric_name": "loss", "objective_type": "minimize",
               "max_trial_count": 4, "parallel_trial_count": 2, "progress": False,
               "root": tmp_path / ".automl"}
    options.update(kwargs)
    return automl.tune("t", fn, {"x": {"type": "double", "min": 0, "max": 4}, "fixed": "k"},
                       **options)


def test_returned_metrics_and_strings_for_tuned_values(tmp_path) -> None:
    summary = _tune(tmp_path, quadratic, additional_metric_names=["x_again"],
                    algorithm_name="random", algorithm_settings={"random_state": 2})
    assert summary.status == "Succeeded"
    assert summary.counts == {"Succeeded": 4}
    for r in records(tmp_path):
        x = float(r["params"]["x"])
        assert r["objective"] == pytest.approx((x - 2) ** 2)
        assert float(r["metrics"]["x_again"]["latest"]) == pytest.approx(x)
        log = tmp_path / ".automl/runs/t" / r["name"] / "stdout.log"
        assert "seen=k" in log.read_text()  # fixed values arrive unchanged


def test_printed_metrics_are_collected_as_stdout(tmp_path) -> None:
    _tune(tmp_path, prints_metrics, max_trial_count=2)
    for r in records(tmp_path):
        assert r["objective"] == pytest.approx(float(r["params"]["x"]))  # min of 3x, 2x, 1x


def test_an_exception_fails_the_trial_with_its_traceback_in_the_log(tmp_path) -> None:
    summary = _tune(tmp_path, crashes, max_trial_count=2, max_failed_trial_count=2)
    assert summary.status == "Failed"
    for r in records(tmp_path):
        assert (r["status"], r["reason"]) == ("Failed", "exit status 1")
        err = (tmp_path / ".automl/runs/t" / r["name"] / "stderr.log").read_text()
        assert "RuntimeError: boom" in err


def test_each_trial_runs_in_its_own_process(tmp_path) -> None:
    _tune(tmp_path, pid, objective_type="maximize")
    pids = {r["objective"] for r in records(tmp_path)}
    assert len(pids) == 4 and os.getpid() not in pids



def test_a_lambda_has_no_source_to_ship_and_is_refused(tmp_path) -> None:
    with pytest.raises(automl.AutomlError, match="cannot read the source"):
        _tune(tmp_path, eval("lambda p: 1"))


def test_dry_run_ships_the_function_as_katib_tune_does_and_the_script_runs(tmp_path) -> None:
    import subprocess

    import yaml

    from automl.local.metrics import StdOutCollector

    text = automl.tune("quad", quadratic, {"x": {"type": "double", "min": 0, "max": 4},
                                           "fixed": "k"},
                       objective_metric_name="loss", objective_type="minimize",
                       packages_to_install=[], dry_run=True)
    experiment = yaml.safe_load(text)
    container = experiment["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"][
        "containers"][0]
    assert container["command"] == ["bash", "-c"]
    (script,) = container["args"]
    assert "def quadratic(params):" in script and "${trialParameters.x}" in script
    # Do what Katib does: substitute the placeholder as text, then run the container command.
    rendered = script.replace("${trialParameters.x}", "1.5")
    out = subprocess.run(["bash", "-c", rendered], capture_output=True, text=True,
                         timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    found = [o for line in out.stdout.splitlines()
             for o in StdOutCollector(["loss", "x_again"]).line(line)]
    assert {(o.metric, float(o.value)) for o in found} == {("loss", 0.25), ("x_again", 1.5)}


def records_its_time(params):
    import time

    start = time.time()
    time.sleep(1.0)
    return {"loss": 0.0, "started": start, "ended": time.time()}


def test_two_trials_run_at_the_same_time_with_parallel_trial_count_2(tmp_path) -> None:
    # A forked trial that inherited the journal's lock, taken by the engine at that moment,
    # held it until it ended: the engine's next write, and so the next trial, waited for it.
    _tune(tmp_path, records_its_time, max_trial_count=2, parallel_trial_count=2,
          additional_metric_names=["started", "ended"])
    spans = [(float(r["metrics"]["started"]["latest"]), float(r["metrics"]["ended"]["latest"]))
             for r in records(tmp_path)]
    assert len(spans) == 2
    assert max(start for start, _ in spans) < min(end for _, end in spans)  # they overlap
