"""What ``validate`` accepts runs: extreme numbers and control characters never crash a run.

Near-valid experiments (the strategies of test_fuzz_spec, with hostile values added) that the
spec checks accept are run for one trial through the real engine; the run may refuse with our
own error, but any other exception is a bug, and the trial must be recorded.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import optuna
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import automl
from automl.errors import AutomlError
from automl.local.store import ATTR, open_storage
from automl.spec import SpecError
from tests.faults.test_fuzz_spec import VALUES, _paths

# prints loss=1; no quotes, which the local engine removes as Katib's shell would
NOOP = [sys.executable, "-c", "print(bytes([108,111,115,115,61,49]).decode())"]
BASE = {
    "name": "agree",
    "objective": {"metric": "loss", "type": "minimize", "additional_metrics": ["acc"]},
    "algorithm": {"name": "random", "settings": {"random_state": 1}},
    "parameters": [
        {"name": "lr", "type": "double", "min": 0.001, "max": 0.1},
        {"name": "layers", "type": "int", "min": 1, "max": 4, "step": 1},
        {"name": "opt", "type": "categorical", "list": ["sgd", "adam"]},
    ],
    "trial": {"command": [*NOOP, "--lr=${trialParameters.lr}", "${trialParameters.layers}",
                          "${trialParameters.opt}"],
              "env": {"OPT": "${trialParameters.opt}"}},
}
HOSTILE_TEXT = st.text(st.sampled_from("ab-_.[]/\x00\x01\x1b\x7f\r\n\t é☃\u202e"), min_size=1,
                       max_size=6)
EXTREME_FLOATS = st.sampled_from([1e-300, 5e-324, -1e308, 1e308, 1.7976931348623157e308,
                                  -1.7976931348623157e308, 0.0, -0.0, 1e-320, 2.0**53 + 1])
EXTREME_INTS = st.sampled_from([2**63, -(2**63), 2**31, 10**30, -(10**30), 2**53 + 1, 0, 1])
FLOATS = EXTREME_FLOATS | st.floats(allow_nan=False, allow_infinity=False)
INTS = EXTREME_INTS | st.integers(-(10**20), 10**20)
HOSTILE = st.one_of(st.sampled_from(VALUES), EXTREME_FLOATS, EXTREME_INTS, HOSTILE_TEXT)
ALGORITHMS = st.sampled_from(["random", "tpe", "grid", "cmaes", "sobol", "bayesianoptimization",
                              "multivariate-tpe"])


@st.composite
def parameter(draw: st.DrawFn, grid: bool) -> dict:
    """A parameter that is valid in shape, with extreme numbers or hostile texts in it."""
    kind = draw(st.sampled_from(["double", "int", "categorical", "discrete"]))
    name = draw(st.just("x") | HOSTILE_TEXT)
    if kind in ("categorical", "discrete"):
        values = st.text(max_size=4) | HOSTILE_TEXT if kind == "categorical" else FLOATS | INTS
        return {"name": name, "type": kind,
                "list": draw(st.lists(values, min_size=1, max_size=3, unique=True))}
    numbers = FLOATS if kind == "double" else INTS
    low, high = sorted([draw(numbers), draw(numbers)])
    found = {"name": name, "type": kind, "min": low, "max": high,
             "distribution": draw(st.sampled_from(["uniform", "uniform", "logUniform",
                                                   "normal", "logNormal"]))}
    if draw(st.booleans()) or grid:
        found["step"] = draw(numbers.filter(lambda v: v > 0))
    return found


@st.composite
def near_valid(draw: st.DrawFn) -> dict:
    """BASE with a hostile parameter, names and algorithm, and maybe one odd field more."""
    doc = copy.deepcopy(BASE)
    algorithm = draw(ALGORITHMS)
    doc["algorithm"] = {"name": algorithm}
    if algorithm == "grid":
        doc["parameters"][0]["step"] = 0.01
    extra = draw(parameter(algorithm == "grid"))
    doc["parameters"].append(extra)
    doc["trial"]["command"].append(f"--extra=${{trialParameters.{extra['name']}}}")
    doc["objective"]["metric"] = draw(st.just("loss") | HOSTILE_TEXT)
    doc["objective"]["additional_metrics"] = [draw(st.just("acc") | HOSTILE_TEXT)]
    if draw(st.integers(0, 3)) == 0:
        *parents, last = draw(st.sampled_from(list(_paths(doc))))
        node = doc
        for key in parents:
            node = node[key]
        node[last] = draw(HOSTILE)
    doc["budget"] = {"max_trials": 1, "parallel_trials": 1}
    return doc


def only_trial(root: Path, name: str = "agree") -> dict:
    """The record of the experiment's one trial."""
    [trial] = optuna.load_study(study_name=name, storage=open_storage(None, root)).get_trials()
    return trial.user_attrs[ATTR]


def with_parameter(parameter: dict, **changes: object) -> dict:
    """BASE with one more parameter ``x`` (passed to the trial), budgeted for one trial."""
    doc = copy.deepcopy(BASE)
    doc["parameters"].append({"name": "x", **parameter})
    doc["trial"]["command"].append("--x=${trialParameters.x}")
    doc.update(budget={"max_trials": 1, "parallel_trials": 1}, **changes)
    return doc


@example(doc=with_parameter({"type": "double", "min": -8e307, "max": 8e307}))
@example(doc=with_parameter({"type": "int", "min": -(2**63), "max": 2**63, "step": 2**12}))
@example(doc=with_parameter({"type": "double", "min": 5e-324, "max": 1e308,
                             "distribution": "logUniform"}))
@example(doc=with_parameter({"type": "categorical", "list": ["a\x00b"]}))
@settings(max_examples=50, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(doc=near_valid())
def test_an_experiment_validate_accepts_runs_one_trial(doc, tmp_path_factory) -> None:
    try:
        spec = automl.load(doc)
    except SpecError:
        return  # refused with located errors: validate and run agree
    root = tmp_path_factory.mktemp("agree")
    try:
        summary = automl.run(spec, root=root, progress=False)
    except AutomlError:
        return  # refused with our own one-line error
    assert sum(summary.counts.values()) == 1
    assert only_trial(root, spec.name)["status"] in ("Succeeded", "Failed", "MetricsUnavailable")


def test_a_value_no_process_can_receive_fails_its_trial_with_the_reason(tmp_path) -> None:
    # Katib's webhook accepts it; on a cluster the container fails to start
    doc = with_parameter({"type": "categorical", "list": ["a\x00b"]})
    summary = automl.run(doc, root=tmp_path, progress=False)
    assert summary.counts == {"Failed": 1}
    assert only_trial(tmp_path)["reason"] == (
        "argument 6 ('--x=a\\x00b') holds a NUL byte, which no process can receive")


def test_an_environment_no_process_can_receive_fails_its_trial_with_the_reason(tmp_path) -> None:
    doc = with_parameter({"type": "categorical", "list": ["b"]})
    doc["trial"]["env"] = {"OPT=X": "${trialParameters.opt}"}
    summary = automl.run(doc, root=tmp_path, progress=False)
    assert summary.counts == {"Failed": 1}
    assert only_trial(tmp_path)["reason"] == (
        "environment variable name 'OPT=X' cannot be passed to a process")
