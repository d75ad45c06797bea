"""Katib's rules: what its webhook refuses and what its suggestion services fail on later."""

from __future__ import annotations

import copy

import pytest

from automl.spec import ExperimentSpec
from automl.spec.rules.trial import cluster_findings
from tests.spec.helpers import BASE, findings, spec_with

NAS = {
    "graph": {"num_layers": 2, "input_sizes": [8, 8, 1], "output_sizes": [10]},
    "operations": [
        {"type": "convolution",
         "parameters": [{"name": "filter_size", "type": "categorical", "list": ["3", "5"]}]},
    ],
}
NAS_TRIAL = {"command": ["python", "nas.py", "--arch=${trialParameters.architecture}",
                         "--cfg=${trialParameters.nn_config}"]}


def test_the_base_experiment_passes_every_rule() -> None:
    assert findings(spec_with()) == {}


# --- webhook: name, budget, objective ---------------------------------------------------

@pytest.mark.parametrize("name", ["Demo", "9lives", "a" * 41, "ends-", "has_underscore"])
def test_invalid_experiment_names_are_refused(name: str) -> None:
    assert "not a valid Katib experiment name" in findings(spec_with(name=name))["name"]


def test_katib_default_parallelism_above_max_trials_is_named_as_the_default() -> None:
    found = findings(spec_with(budget={"max_trials": 2}))
    assert found == {"budget.parallel_trials":
                     "3 (Katib's default) must be <= budget.max_trials (2)"}


def test_budget_counts_must_be_consistent() -> None:
    found = findings(spec_with(budget={"max_trials": 5, "parallel_trials": 0,
                                       "max_failed_trials": 6}))
    assert found["budget.parallel_trials"] == "expected an integer > 0"
    assert found["budget.max_failed_trials"] == "must be <= budget.max_trials (5)"


def test_additional_metrics_must_not_repeat_the_objective() -> None:
    spec = spec_with(objective={"metric": "loss", "type": "minimize",
                                "additional_metrics": ["acc", "loss"],
                                "metric_strategies": {"f1": "latest"}})
    found = findings(spec)
    assert found["objective.additional_metrics[1]"] == "must not repeat the objective metric"
    assert "neither the objective metric" in found["objective.metric_strategies.f1"]


# --- algorithms and their settings --------------------------------------------------------

def test_unknown_algorithm_lists_the_katib_names() -> None:
    message = findings(spec_with(algorithm={"name": "optuna"}))["algorithm.name"]
    assert message.startswith("unknown algorithm 'optuna'; expected one of: ")
    assert "bayesianoptimization, cmaes, darts, enas, grid, hyperband" in message


def test_an_unknown_setting_is_named_and_lists_the_accepted_names() -> None:
    found = findings(spec_with(algorithm={"name": "tpe", "settings": {"n_startup_jobs": 3}}))
    assert found["algorithm.settings.n_startup_jobs"] == (
        "unknown setting 'n_startup_jobs' for tpe; expected one of: gamma, n_EI_candidates, "
        "prior_weight, random_state")


@pytest.mark.parametrize(("algorithm", "settings"), [
    # Katib's goptuna service reads the settings it knows by name and passes over any other
    # (pkg/suggestion/v1beta1/goptuna/converter.go, toGoptunaSampler): sobol reads none.
    ("sobol", {"random_state": 3}),
    ("cmaes", {"random_state": 3, "popsize": 8}),
])
def test_settings_goptuna_ignores_are_accepted_with_a_warning(algorithm, settings) -> None:
    from automl.spec.rules.advice import advice

    spec = spec_with(algorithm={"name": algorithm, "settings": settings})
    assert findings(spec) == {}
    ignored = "random_state" if algorithm == "sobol" else "popsize"
    assert [str(f) for f in advice(spec)] == [
        f"algorithm.settings.{ignored}: {algorithm} ignores the setting {ignored!r} (Katib's "
        f"goptuna service reads only: "
        f"{'none' if algorithm == 'sobol' else 'random_state, restart_strategy, sigma'})"]


def test_a_setting_goptuna_reads_is_still_checked() -> None:
    found = findings(spec_with(algorithm={"name": "cmaes", "settings": {"sigma": "big"}}))
    assert found == {"algorithm.settings.sigma": "expected a number, got 'big'"}


@pytest.mark.parametrize(("settings", "path", "expected"), [
    ({"gamma": 1.5}, "gamma", "expected a number in (0, 1), got 1.5"),
    ({"random_state": -1}, "random_state", "expected an integer >= 0, got -1"),
    ({"n_EI_candidates": "many"}, "n_EI_candidates", "expected an integer >= 1, got 'many'"),
])
def test_tpe_settings_are_checked_as_katibs_hyperopt_service_does(settings, path, expected):
    found = findings(spec_with(algorithm={"name": "tpe", "settings": settings}))
    assert found == {f"algorithm.settings.{path}": expected}


def test_settings_written_as_strings_are_accepted() -> None:
    assert findings(spec_with(algorithm={"name": "tpe", "settings": {"gamma": "0.25",
                                                                     "random_state": "7"}})) == {}


def test_grid_needs_a_step_for_doubles() -> None:
    found = findings(spec_with(algorithm={"name": "grid"}))
    assert found == {"parameters[0].step": "grid search needs a step for every double parameter"}


def test_grid_refuses_more_trials_than_combinations() -> None:
    params = copy.deepcopy(BASE["parameters"])
    params[0]["step"] = 0.033  # 0.001, 0.034, 0.067, 0.1 → 4 values; × 4 layers × 2 opts = 32
    spec = spec_with(algorithm={"name": "grid"}, parameters=params,
                     budget={"max_trials": 40, "parallel_trials": 2})
    assert findings(spec) == {"budget.max_trials": "grid search has only 32 combinations; "
                                                   "max trials (40) must not exceed them"}
    ok = spec_with(algorithm={"name": "grid"}, parameters=params,
                   budget={"max_trials": 32, "parallel_trials": 2})
    assert findings(ok) == {}


def test_cmaes_needs_two_numeric_parameters() -> None:
    params = [BASE["parameters"][0], BASE["parameters"][2]]
    trial = {"image": "x", "command": ["t", "${trialParameters.lr}", "${trialParameters.opt}"]}
    found = findings(spec_with(algorithm={"name": "cmaes"}, parameters=params, trial=trial))
    assert "cmaes needs at least two int or double parameters" in found["parameters"]


def test_bayesian_optimisation_needs_positive_double_bounds() -> None:
    params = copy.deepcopy(BASE["parameters"])
    params[0]["min"] = 0
    found = findings(spec_with(algorithm={"name": "bayesianoptimization"}, parameters=params))
    assert found == {"parameters[0].min": "bayesianoptimization samples doubles log-uniformly, "
                                          "so min must be > 0"}


def test_grid_refuses_more_combinations_than_it_can_list() -> None:
    # Optuna's GridSampler (and Katib's service) build the list of every combination
    params = [{"name": "a", "type": "int", "min": 0, "max": 10**9},
              {"name": "b", "type": "categorical", "list": ["x", "y"]}]
    found = findings(spec_with(algorithm={"name": "grid"}, parameters=params))
    assert found["parameters"] == ("grid search lists every combination, and these parameters "
                                   "make more than 1000000; use larger steps, fewer values or "
                                   "another algorithm")


@pytest.mark.parametrize("algorithm", ["grid", "multivariate-tpe"])
def test_optuna_backed_algorithms_refuse_normal_distributions(algorithm: str) -> None:
    params = copy.deepcopy(BASE["parameters"])
    params[0].update(distribution="normal", step=0.01)
    found = findings(spec_with(algorithm={"name": algorithm}, parameters=params))
    assert "supports only uniform and logUniform" in found["parameters[0].distribution"]


def test_hyperopt_backed_algorithms_accept_normal_distributions() -> None:
    params = copy.deepcopy(BASE["parameters"])
    params[0]["distribution"] = "normal"
    assert findings(spec_with(algorithm={"name": "tpe"}, parameters=params)) == {}


def test_hyperband_needs_its_resource_and_enough_parallel_trials() -> None:
    spec = spec_with(algorithm={"name": "hyperband",
                                "settings": {"resource_name": "epochs", "r_l": 9, "eta": 3}})
    found = findings(spec)
    assert found["algorithm.settings.resource_name"] == "must name one of the parameters " \
                                                        "(lr, layers, opt)"
    assert found["budget.parallel_trials"] == ("hyperband with r_l=9 and eta=3 needs >= 9 "
                                               "parallel trials")
    missing = findings(spec_with(algorithm={"name": "hyperband"}))
    assert "hyperband requires the setting 'resource_name'" in missing["algorithm.settings"]


def test_pbt_needs_from_volume_and_steps_but_takes_resample_probability() -> None:
    settings = {"suggestion_trial_dir": "/ckpt", "n_population": 5, "truncation_threshold": 0.2,
                "resample_probability": 0.5}
    found = findings(spec_with(algorithm={"name": "pbt", "settings": settings}))
    assert "FromVolume" in found["resume_policy"]
    assert "step is required" in found["parameters[0].step"]
    # Katib's service refuses it by a defect: a warning at validate --katib, not a refusal
    assert "algorithm.settings.resample_probability" not in found


def test_nas_operations_each_need_parameters() -> None:
    nas = copy.deepcopy(NAS)
    nas["operations"].append({"type": "skip_connection"})
    spec = spec_with(algorithm={"name": "enas"}, parameters=[], nas=nas, trial=NAS_TRIAL)
    assert findings(spec) == {"nas.operations[1].parameters": (
        "every operation needs at least one parameter (Katib's NAS services refuse an "
        "operation without parameters)")}


def test_enas_needs_the_graph_sizes() -> None:
    nas = copy.deepcopy(NAS)
    nas["graph"] = {"num_layers": 2}
    found = findings(spec_with(algorithm={"name": "enas"}, parameters=[], nas=nas,
                               trial=NAS_TRIAL))
    assert found == {"nas.graph.input_sizes": "required by enas",
                     "nas.graph.output_sizes": "required by enas"}


def test_nas_algorithms_and_hpo_algorithms_take_their_own_space() -> None:
    assert "searches architectures" in findings(spec_with(algorithm={"name": "darts"}))["nas"]
    both = findings(spec_with(nas=NAS))
    assert "not both" in both["nas"]


def test_medianstop_settings_are_checked_whatever_the_collector() -> None:
    spec = spec_with(early_stopping={"name": "medianstop", "settings": {"start_step": 0}},
                     trial={**BASE["trial"], "metrics_collector": {"kind": "Push"}})
    assert findings(spec) == {
        "early_stopping.settings.start_step": "expected an integer >= 1, got 0"}


# --- parameters -------------------------------------------------------------------------

@pytest.mark.parametrize(("parameter", "path", "expected"), [
    ({"type": "int", "min": 1.5, "max": 4}, "min", "expected an integer, got 1.5"),
    ({"type": "double", "min": 2, "max": 1}, "max", "must be >= min (2), got 1"),
    ({"type": "double", "min": 0, "max": 1, "distribution": "logUniform"}, "min",
     "a logUniform parameter needs min > 0 under random (Katib's hyperopt service takes "
     "log(min)), got 0"),
    ({"type": "double", "max": 1}, "min", "required for a double parameter"),
    ({"type": "double", "min": 0, "max": 1, "step": -0.1}, "step",
     "expected a number > 0, got -0.1"),
    ({"type": "categorical", "list": ["a"], "min": 1}, "min",
     "a categorical parameter takes list, not min/max/step"),
    ({"type": "categorical", "list": []}, "list",
     "required for a categorical parameter: at least one value"),
    # ranges the suggestion services cannot compute with (run crashed in Optuna or numpy)
    ({"type": "double", "min": -1e308, "max": 1e308}, "max",
     "max - min (1e+308 - -1e+308) is beyond the largest double (1.8e308); the suggestion "
     "services cannot sample it"),
    ({"type": "double", "min": -1.7e308, "max": 0, "step": 1.7e308}, "max",
     "max - min (0 - -1.7e+308) + step (1.7e+308) is beyond the largest double (1.8e308); the "
     "suggestion services cannot sample it"),
    ({"type": "int", "min": -(10**400), "max": 10**400}, "max",
     f"max - min ({10**400} - {-(10**400)}) is beyond the largest double (1.8e308); the "
     "suggestion services cannot sample it"),
    ({"type": "double", "min": 0.001, "max": 0.1, "step": 1e-300}, "step",
     "1e-300 divides max - min (0.099) into more than 10**27 steps, too many for Optuna (and "
     "Katib's Optuna service) to round to"),
    ({"type": "int", "min": 10**400, "max": 0}, "max", f"must be >= min ({10**400}), got 0"),
])
def test_parameter_rules(parameter, path, expected) -> None:
    params = copy.deepcopy(BASE["parameters"])
    params[0] = {"name": "lr", **parameter}
    assert findings(spec_with(parameters=params))[f"parameters[0].{path}"] == expected


@pytest.mark.parametrize("parameter", [
    {"type": "double", "min": 1e-300, "max": 1e300, "step": 1e-300,
     "distribution": "logUniform"},  # a log scale ignores the step
    {"type": "double", "min": -8e307, "max": 8e307},
    {"type": "int", "min": -(2**63), "max": 2**63, "step": 2**12},
    {"type": "double", "min": 0, "max": 5.6e14, "step": 0.0625},  # 9e15 steps
    {"type": "int", "min": 1, "max": 10**27, "step": 1},  # Optuna rounds ints exactly
])
def test_extreme_ranges_the_services_can_sample_are_accepted(parameter) -> None:
    params = copy.deepcopy(BASE["parameters"])
    params[0] = {"name": "lr", **parameter}
    assert findings(spec_with(parameters=params)) == {}


def test_a_parameter_defined_twice_is_refused() -> None:
    params = [*copy.deepcopy(BASE["parameters"]), copy.deepcopy(BASE["parameters"][0])]
    assert findings(spec_with(parameters=params))["parameters[3].name"] == (
        "parameter 'lr' is defined twice")


# --- trial template and placeholders ------------------------------------------------------

def test_a_parameter_no_placeholder_uses_is_refused() -> None:
    trial = {"image": "x", "command": ["t", "${trialParameters.lr}", "${trialParameters.opt}"]}
    found = findings(spec_with(trial=trial))
    assert found == {"trial": "the trial never uses ${trialParameters.layers}: put it in the "
                              "command, args or env"}


def test_a_placeholder_with_no_trial_parameter_is_refused() -> None:
    trial = copy.deepcopy(BASE["trial"])
    trial["command"].append("--seed=${trialParameters.seed}")
    assert "'seed' is not a trial parameter" in findings(spec_with(trial=trial))["trial"]


def test_explicit_trial_parameters_must_reference_every_parameter_once() -> None:
    trial = copy.deepcopy(BASE["trial"])
    trial["command"] = ["t", "${trialParameters.a}", "${trialParameters.b}",
                        "${trialParameters.c}"]
    trial["trial_parameters"] = [{"name": "a", "reference": "lr"},
                                 {"name": "b", "reference": "lr"},
                                 {"name": "c", "reference": "momentum"}]
    found = findings(spec_with(trial=trial))
    assert "referenced twice" in found["trial.trial_parameters[1].reference"]
    assert "'momentum' is not assigned" in found["trial.trial_parameters[2].reference"]
    assert "no trial parameter references it" in found["trial.trial_parameters"]


def test_metadata_references_need_the_label_they_name() -> None:
    trial = copy.deepcopy(BASE["trial"])
    trial["env"] = {"TRIAL": "${trialParameters.trialName}", "TEAM": "${trialParameters.team}"}
    trial["trial_parameters"] = [
        {"name": "lr", "reference": "lr"}, {"name": "layers", "reference": "layers"},
        {"name": "opt", "reference": "opt"},
        {"name": "trialName", "reference": "${trialSpec.Name}"},
        {"name": "team", "reference": "${trialSpec.Labels[team]}"},
    ]
    found = findings(spec_with(trial=trial))
    assert found == {"trial.trial_parameters[4].reference":
                     "the trial template has no label 'team' (Katib fails to render it)"}


def test_raw_trial_spec_rules() -> None:
    trial = {
        "primary_container_name": "trainer",
        "trial_spec": {
            "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "fixed"},
            "spec": {"template": {"spec": {"containers": [
                {"name": "main", "image": "x", "command": [
                    "t", "${trialParameters.lr}", "${trialParameters.layers}",
                    "${trialParameters.opt}"]}]}}},
        },
    }
    found = findings(spec_with(trial=trial))
    assert "must be omitted" in found["trial.trial_spec.metadata.name"]
    assert found["trial.primary_container_name"] == (
        "no container named 'trainer' in trial_spec (containers: main)")


def test_unknown_trial_kinds_need_success_and_failure_conditions() -> None:
    trial = {"trial_spec": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                            "spec": {"args": ["${trialParameters.lr}",
                                              "${trialParameters.layers}",
                                              "${trialParameters.opt}"]}}}
    found = findings(spec_with(trial=trial))
    assert found["trial.success_condition"].startswith(
        "success_condition and failure_condition are required for kind 'Workflow'")


@pytest.mark.parametrize(("collector", "path", "expected"), [
    ({"kind": "File", "path": "metrics.log"}, "path",
     "expected an absolute path in the trial's container, got 'metrics.log'"),
    ({"kind": "File", "path": "/m.json", "format": "JSON", "filter": ["(a)=(b)"]}, "filter",
     "must be empty when format is JSON"),
    ({"kind": "StdOut", "filter": ["loss=(.*)"]}, "filter[0]",
     "two top subexpressions are required: the metric name, then its value, e.g. "
     "([\\w|-]+)=([+-]?\\d*(\\.\\d+)?)"),
    ({"kind": "StdOut", "filter": ["(a"]}, "filter[0]",
     "RE2 cannot compile it (Katib's collector uses Go's regexp): missing ): (a"),
    ({"kind": "Push", "path": "/x"}, "path", "the Push collector reads no path"),
    ({"kind": "PrometheusMetric"}, "kind",
     "Katib's default katib-config has no PrometheusMetric collector; use StdOut, File, "
     "TensorFlowEvent or Push"),
    ({"kind": "Custom"}, "container",
     "required for the Custom collector: the collector container"),
])
def test_metrics_collector_rules(collector, path, expected) -> None:
    trial = {**BASE["trial"], "metrics_collector": collector}
    assert findings(spec_with(trial=trial))[f"trial.metrics_collector.{path}"] == expected


def test_a_cluster_needs_an_image_and_a_katib_collector() -> None:
    trial = {k: v for k, v in BASE["trial"].items() if k != "image"}
    spec = spec_with(trial={**trial, "metrics_collector": {"kind": "None"}})
    assert findings(spec) == {}  # fine for the local engine
    paths = {f.path for f in cluster_findings(spec)}
    assert paths == {("trial", "image"), ("trial", "metrics_collector", "kind")}


def test_default_strategies_and_trial_parameters_are_not_stored() -> None:
    spec = spec_with(objective={"metric": "loss", "type": "minimize",
                                "metric_strategies": {"loss": "min"}},
                     trial={**BASE["trial"], "trial_parameters": [
                         {"name": n, "reference": n} for n in ("lr", "layers", "opt")]})
    assert spec.objective.metric_strategies == {}
    assert spec.trial.trial_parameters is None
    assert spec == ExperimentSpec.model_validate(BASE)


# --- a cluster's limits, and what Katib accepts but cannot work --------------------------

@pytest.mark.parametrize("field", ["max_trials", "parallel_trials", "max_failed_trials"])
def test_a_budget_beyond_katibs_int32_is_refused_for_a_cluster_only(field: str) -> None:
    experiment = spec_with(budget={"max_trials": 2**31, "parallel_trials": 2, field: 2**31})
    assert findings(experiment) == {}  # the local engine counts past it
    found = {str(f) for f in cluster_findings(experiment)}
    assert f"budget.{field}: 2147483648 is more than Katib can hold (an int32: at most " \
           "2147483647)" in found
    assert not {str(f) for f in cluster_findings(spec_with(budget={
        "max_trials": 2**31 - 1, "parallel_trials": 2**31 - 1,
        "max_failed_trials": 2**31 - 1}))}


@pytest.mark.parametrize("name", ["val.loss", "val loss", "loss/val", "größe", "top:1"])
def test_a_metric_name_katibs_default_filter_never_reads_is_a_warning(name: str) -> None:
    from automl.spec.filters import unreadable_metric_names as warning_findings

    experiment = spec_with(objective={"metric": "loss", "type": "minimize",
                                      "additional_metrics": [name]})
    assert findings(experiment) == {}
    assert [(f.path, name in f.message) for f in warning_findings(experiment)] == [
        (("objective", "additional_metrics", 0), True)]


@pytest.mark.parametrize("collector", [
    {"kind": "StdOut", "filter": [r"([\w.]+)=(\d+(\.\d+)?)"]},
    {"kind": "File", "path": "/var/log/m.json", "format": "JSON"},
    {"kind": "Push"},
    {"kind": "TensorFlowEvent"}])
def test_a_metric_name_is_no_warning_where_the_default_filter_does_not_apply(collector) -> None:
    from automl.spec.filters import unreadable_metric_names as warning_findings

    trial = {**BASE["trial"], "metrics_collector": collector}
    experiment = spec_with(objective={"metric": "val.loss", "type": "minimize"}, trial=trial)
    assert findings(experiment) == {}
    assert list(warning_findings(experiment)) == []


def test_names_the_default_filter_reads_are_no_warning() -> None:
    from automl.spec.filters import unreadable_metric_names as warning_findings

    experiment = spec_with(objective={"metric": "Validation-accuracy", "type": "maximize",
                                      "additional_metrics": ["train_loss", "a|b", "x1"]})
    assert list(warning_findings(experiment)) == []
