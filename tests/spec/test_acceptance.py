"""automl accepts what Katib's services accept, and refuses what they accept and then fail on.

Each case names the Katib service function it comes from (kubeflow/katib 33c8ff4).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from automl.spec import ExperimentSpec, check
from automl.spec.deviations import deviation_findings
from automl.spec.rules.advice import advice
from tests.local.helpers import BASE

HYPERBAND = {"name": "hyperband", "settings": {"resource_name": "y", "r_l": "9"}}
NAS = {"graph": {"num_layers": 2, "input_sizes": [32], "output_sizes": [10]},
       "operations": [{"type": "convolution", "parameters": [
           {"name": "filter_size", "type": "categorical", "list": ["3", "5"]}]}]}


def experiment(**changes: Any) -> ExperimentSpec:
    data = copy.deepcopy(BASE)
    data["budget"] = {"max_trials": 12, "parallel_trials": 9}
    data.update(copy.deepcopy(changes))
    if "nas" in changes:
        data.pop("parameters")
        names = (["architecture", "nn_config"] if changes["algorithm"]["name"] == "enas"
                 else ["algorithm-settings", "search-space", "num-layers"])
        data["trial"]["command"] = data["trial"]["command"][:2] + [
            f"--{name}=${{trialParameters.{name}}}" for name in names]
    return ExperimentSpec.model_validate(data)


def shown(findings: list[Any]) -> dict[str, str]:
    return {str(f).split(": ", 1)[0]: f.text for f in findings}


# Accepted by Katib: runs here, with a warning where Katib ignores or replaces the value.
ACCEPTED_WITH_WARNING = [
    # nas/darts/service.py, validate_algorithm_settings: learning rates >= 0
    ({"algorithm": {"name": "darts", "settings": {"w_lr": 0}}, "nas": NAS}, None, None),
    # darts passes a setting it does not know to the trial (get_algorithm_settings)
    ({"algorithm": {"name": "darts", "settings": {"my_flag": "1"}}, "nas": NAS},
     "algorithm.settings.my_flag", "hands it to the trial in algorithm-settings"),
    # hyperband/service.py, ValidateAlgorithmSettings and HyperBandParam.convert: eta <= 0 → 3
    ({"algorithm": {**HYPERBAND, "settings": {**HYPERBAND["settings"], "eta": "-1"}}},
     "algorithm.settings.eta", "replaces an eta <= 0 by 3"),
    # HyperBandParam.convert logs and ignores a name it does not know
    ({"algorithm": {**HYPERBAND, "settings": {**HYPERBAND["settings"], "speed": "2"}}},
     "algorithm.settings.speed", "hyperband ignores the setting 'speed'"),
    # goptuna/converter.go, toGoptunaSampler: strconv takes any int / float
    ({"algorithm": {"name": "cmaes", "settings": {"random_state": "-3"}}},
     "algorithm.settings.random_state", "a local run seeds with 4294967293"),
    ({"algorithm": {"name": "cmaes", "settings": {"sigma": "-0.5"}}},
     "algorithm.settings.sigma", "starts from Optuna's default"),
    # optuna/base_service.py, _get_optuna_search_space: IntDistribution(max(1, min), log=True)
    ({"algorithm": {"name": "multivariate-tpe"},
      "parameters": [{"name": "x", "type": "int", "min": 0, "max": 8,
                      "distribution": "logUniform"},
                     {"name": "y", "type": "int", "min": 0, "max": 4}]},
     "parameters[0].min", "raises min to 1 on a log scale"),
    # the webhook never looks inside a list; hp.choice draws what is listed
    ({"parameters": [{"name": "x", "type": "discrete", "list": ["1", "two"]},
                     {"name": "y", "type": "categorical", "list": ["a", "a"]}]},
     "parameters[0].list[1]", "'two' is not a number"),
    ({"parameters": [{"name": "x", "type": "categorical", "list": ["a", "a"]},
                     {"name": "y", "type": "int", "min": 0, "max": 4}]},
     "parameters[0].list[1]", "Katib draws it twice as often"),
    ({"parameters": [{"name": "x", "type": "categorical", "list": ["a", "b"],
                      "distribution": "logUniform"},
                     {"name": "y", "type": "int", "min": 0, "max": 4}]},
     "parameters[0].distribution", "Katib does not read its distribution"),
    # the webhook accepts early stopping with any collector; only the file collector
    # (cmd/metricscollector/v1beta1/file-metricscollector/main.go) applies the rules
    ({"early_stopping": {"name": "medianstop"},
      "trial": {**BASE["trial"], "metrics_collector": {"kind": "Push"}}},
     "early_stopping", "with trial.metrics_collector.kind Push no trial is stopped early"),
    ({"early_stopping": {"name": "medianstop"},
      "trial": {**BASE["trial"], "metrics_collector": {"kind": "TensorFlowEvent",
                                                       "path": "/var/log/katib/tfevent/"}}},
     "early_stopping", "TensorFlowEvent no trial is stopped early"),
    # webhook validator.go: two "(...)" in the text pass; the file collector then skips a
    # match without two groups (file-metricscollector.go, parseLogs)
    ({"trial": {**BASE["trial"], "metrics_collector": {"kind": "StdOut",
                                                       "filter": [r"(?:loss)=([\d.]+)"]}}},
     "trial.metrics_collector.filter[0]", "has 1 capturing group: Katib accepts it"),
    # goptuna and hyperband never take a log: min 0 is fine there
    ({"algorithm": {"name": "sobol"},
      "parameters": [{"name": "x", "type": "double", "min": 0, "max": 1,
                      "distribution": "logUniform"},
                     {"name": "y", "type": "int", "min": 0, "max": 4}]}, None, None),
]


@pytest.mark.parametrize(("changes", "path", "warning"), ACCEPTED_WITH_WARNING)
def test_what_katib_accepts_runs_here_with_a_warning_where_it_replaces_a_value(
        changes, path, warning) -> None:
    spec = experiment(**changes)
    assert check(spec) == []
    warnings = shown(advice(spec))
    if path is not None:
        assert warning in warnings[path]


# Accepted by Katib's webhook, then failing in its service: refused here, naming the field.
REFUSED = [
    # hyperband/service.py ValidateAlgorithmSettings: log(int(1.5)) = 0, ZeroDivisionError
    ({"algorithm": {**HYPERBAND, "settings": {**HYPERBAND["settings"], "eta": "1.5"}}},
     "algorithm.settings.eta", "int(1.5) = 1 and fails dividing by log(1) = 0"),
    # HyperBandParam.convert: s_max = int(log(9) / log(0.5)) < 0, GetSuggestions returns none
    ({"algorithm": {**HYPERBAND, "settings": {**HYPERBAND["settings"], "eta": "0.5"}}},
     "algorithm.settings.eta", "never proposes a trial"),
    # hyperband/parsing_util.py parse_parameter_configs: int(x) for each discrete value
    ({"algorithm": HYPERBAND,
      "parameters": [{"name": "x", "type": "discrete", "list": ["0.5", "1"]},
                     {"name": "y", "type": "int", "min": 0, "max": 4}]},
     "parameters[0].list[0]", "reads discrete values with int() and fails on '0.5'"),
    # nas/common/validation.py validate_operations: a double needs a step > 0
    ({"algorithm": {"name": "enas"}, "nas": {**NAS, "operations": [
        {"type": "pool", "parameters": [{"name": "rate", "type": "double", "min": 0.1,
                                         "max": 0.5}]}]}},
     "nas.operations[0].parameters[0].step", "double operation parameters need a step"),
    # nas/enas/Operation.py SearchSpace: `del` on numpy's arange when it passes max
    ({"algorithm": {"name": "enas"}, "nas": {**NAS, "operations": [
        {"type": "pool", "parameters": [{"name": "rate", "type": "double", "min": 0.1,
                                         "max": 0.45, "step": 0.1}]}]}},
     "nas.operations[0].parameters[0].max", "makes Katib's enas service fail"),
    # hyperopt/base_service.py create_hyperopt_domain: math.log(min)
    ({"parameters": [{"name": "x", "type": "double", "min": 0, "max": 1,
                      "distribution": "logUniform"},
                     {"name": "y", "type": "int", "min": 0, "max": 4}]},
     "parameters[0].min", "Katib's hyperopt service takes log(min)"),
]


@pytest.mark.parametrize(("changes", "path", "message"), REFUSED)
def test_what_katib_accepts_then_fails_on_is_refused_naming_the_field(
        changes, path, message) -> None:
    found = shown(check(experiment(**changes)))
    assert message in found[path], found


def test_hyperband_parallel_check_uses_katibs_int_eta() -> None:
    # ValidateAlgorithmSettings: int(float("2.5")) = 2, s_max = int(log 9 / log 2) = 3,
    # parallelTrialCount >= ceil(2**3) = 8
    settings = {**HYPERBAND["settings"], "eta": "2.5"}
    refused = experiment(algorithm={**HYPERBAND, "settings": settings},
                         budget={"max_trials": 12, "parallel_trials": 7})
    assert "needs >= 8 parallel trials" in shown(check(refused))["budget.parallel_trials"]
    accepted = experiment(algorithm={**HYPERBAND, "settings": settings},
                          budget={"max_trials": 12, "parallel_trials": 8})
    assert check(accepted) == []


@pytest.mark.parametrize(("algorithm", "parameter", "line"), [
    ("random", {"type": "int", "min": 1, "max": 10, "step": 2},
     "n: Katib's random draws {2, 4, 6, 8, 10} (multiples of 2)"),
    ("tpe", {"type": "int", "min": 1, "max": 100, "step": 10, "distribution": "logUniform"},
     "n: Katib's tpe draws {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100} (multiples of 10 of a "
     "log-uniform draw); {0} outside [min, max] become the nearest bound here"),
    ("random", {"type": "double", "min": 0, "max": 6, "distribution": "normal"},
     "n: Katib's random draws from N(3, 1), unbounded (about 0.3% of its values outside "
     "[min, max]; kept within here)"),
    ("cmaes", {"type": "double", "min": 1, "max": 100, "distribution": "logUniform"},
     "n: Katib's cmaes never reads distribution: it draws uniformly on a linear scale "
     "(here too)"),
    ("bayesianoptimization", {"type": "int", "min": 1, "max": 10, "step": 3},
     "n: Katib's bayesianoptimization draws every integer of [min, max] uniformly "
     "(Integer(min, max): step and distribution ignored)"),
    ("multivariate-tpe", {"type": "double", "min": 0, "max": 1, "step": 2},
     "n: Katib's multivariate-tpe draws only min (0): the step is beyond max - min"),
])
def test_validate_katib_names_the_values_katib_draws_where_they_differ(
        algorithm, parameter, line) -> None:
    spec = experiment(algorithm={"name": algorithm},
                      parameters=[{"name": "n", **parameter},
                                  {"name": "y", "type": "int", "min": 0, "max": 4}])
    found = [f.text for f in deviation_findings(spec) if f.path == ("parameters", 0)]
    assert found == [f"{line} [Katib differs: katib-draws, docs/reference.md section 6]"]


@pytest.mark.parametrize("parameter", [
    {"type": "int", "min": 2, "max": 10, "step": 2},  # hyperopt's multiples of 2 from 2
    {"type": "int", "min": 0, "max": 10},  # every integer, as written
    {"type": "double", "min": 0, "max": 1},  # no step: a uniform draw, as written
])
def test_validate_katib_is_silent_where_katib_draws_what_the_spec_says(parameter) -> None:
    spec = experiment(parameters=[{"name": "n", **parameter},
                                  {"name": "y", "type": "int", "min": 0, "max": 4}])
    assert [f for f in deviation_findings(spec) if f.path == ("parameters", 0)] == []
