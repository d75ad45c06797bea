"""automl.tune runs Python functions as trials, in the spirit of KatibClient.tune."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

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
        assert r["status"] == "Failed"
        assert r["reason"].startswith("exit status 1; stderr: ")
        assert "RuntimeError: boom" in r["reason"]
        err = (tmp_path / ".automl/runs/t" / r["name"] / "stderr.log").read_text()
        assert "RuntimeError: boom" in err


def test_each_trial_runs_in_its_own_process(tmp_path) -> None:
    _tune(tmp_path, pid, objective_type="maximize")
    pids = {r["objective"] for r in records(tmp_path)}
    assert len(pids) == 4 and os.getpid() not in pids


def scaled(params, scale):
    return {"loss": float(params["x"]) * scale}


TYPED = """
import json, sys
import automl

def train(params):
    return {"loss": float(params["x"]) ** 2}

s = automl.tune("typed", train, {"x": {"type": "double", "min": 0, "max": 1}},
                objective_metric_name="loss", objective_type="minimize", max_trial_count=2,
                progress=False, root=".automl")
print(json.dumps([s.status, s.counts]))
"""

NOTEBOOK_CELL = """
def train(params):
    return {"loss": float(params["x"]) + 1}
"""


def _notebook_function():
    """A function as a notebook cell defines it: compiled from text no file holds."""
    namespace: dict = {}
    exec(compile(NOTEBOOK_CELL, "<ipython-input-1-abc>", "exec"), namespace)
    return namespace["train"]


def _typed(tmp_path: Path, argv: list[str], script: str | None) -> list:
    env = {**os.environ, "PYTHONPATH": str(Path(automl.__file__).parents[1])}
    out = subprocess.run([sys.executable, *argv], input=script, capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=240)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def test_a_function_typed_in_python_c_runs_locally(tmp_path) -> None:
    assert _typed(tmp_path, ["-c", TYPED], None) == ["Succeeded", {"Succeeded": 2}]


def test_a_function_typed_on_stdin_runs_locally(tmp_path) -> None:
    assert _typed(tmp_path, ["-"], TYPED) == ["Succeeded", {"Succeeded": 2}]


@pytest.mark.parametrize(("fn", "expected"), [
    (functools.partial(scaled, scale=3.0), lambda x: 3 * x),
    (eval("lambda p: float(p['x'])"), lambda x: x),
    (_notebook_function(), lambda x: x + 1),
], ids=["partial", "lambda", "notebook-cell"])
def test_callables_without_a_source_file_run_locally(tmp_path, fn, expected) -> None:
    summary = _tune(tmp_path, fn, max_trial_count=2, parallel_trial_count=1)
    assert summary.counts == {"Succeeded": 2}
    for r in records(tmp_path):
        assert r["objective"] == pytest.approx(expected(float(r["params"]["x"])))


@pytest.mark.parametrize("fn", [functools.partial(scaled, scale=3.0), eval("lambda p: 1"),
                                lambda p: 1, _notebook_function()],
                         ids=["partial", "typed-lambda", "lambda-in-a-file", "notebook-cell"])
@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "submit"])
def test_the_katib_backend_refuses_a_function_without_source_in_one_line(tmp_path, fn,
                                                                        dry_run) -> None:
    with pytest.raises(automl.AutomlError) as caught:  # before any cluster is asked
        _tune(tmp_path, fn, backend="katib", dry_run=dry_run)
    message = str(caught.value)
    assert message.startswith(f"cannot read the source of {fn!r}: ")
    assert "backend='katib' ships the function's source to the trial container" in message
    assert "\n" not in message
    assert not (tmp_path / ".automl").exists()


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


def _tie_after_a_pause(params):
    import time

    time.sleep(float(params["x"]))
    return 0.5  # every trial ties


def test_a_tie_goes_to_the_earlier_trial_whatever_order_the_trials_end_in(tmp_path) -> None:
    summary = automl.tune("tie", _tie_after_a_pause,
                          {"x": {"type": "double", "min": 0, "max": 1}},
                          objective_metric_name="loss", objective_type="minimize",
                          max_trial_count=2, parallel_trial_count=2,
                          algorithm_settings={"random_state": 2}, root=tmp_path, progress=False)
    results = automl.load_results("tie", root=tmp_path)
    pauses = results.trials["params.x"].tolist()
    assert pauses[0] > pauses[1]  # so trial 1 ends first
    assert summary.best["name"] == "tie-0000" == results.best()["trial"].iloc[0]
