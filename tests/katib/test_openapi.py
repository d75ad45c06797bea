"""Every Katib Experiment automl compiles validates against Katib's own OpenAPI schema.

The schema is Katib's ``api/openapi-spec/swagger.json`` (OpenAPI 3.0), kept beside the repo in
``shared/katib/openapi``. Its component schemas are plain JSON Schema apart from OpenAPI and
Kubernetes extension keywords (``x-kubernetes-*``, ``discriminator``), which jsonschema ignores,
and ``format`` (``int32``, ``double``), which is not asserted. What it does check is the shape
and the JSON types: counts are integers, feasible-space bounds and settings are strings, the
goal is a number, containers have names.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

import automl
from automl.katib import katib_dict
from automl.spec import ExperimentSpec, SpecError, check
from tests.conftest import KATIB, require_katib

require_katib()
SWAGGER = KATIB / "openapi" / "swagger.json"
EXAMPLES = sorted((KATIB / "examples").rglob("*.yaml"))
SWAGGER_URI = "https://raw.githubusercontent.com/kubeflow/katib/master/api/openapi-spec/swagger.json"
EXPERIMENT_SCHEMA = {"$ref": f"{SWAGGER_URI}#/components/schemas/v1beta1.Experiment"}


def _example_id(path: Path) -> str:
    return path.relative_to(KATIB / "examples").as_posix()


@pytest.fixture(scope="module")
def swagger() -> dict[str, Any]:
    return json.loads(SWAGGER.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator(swagger: dict[str, Any]) -> Draft202012Validator:
    """Validates against v1beta1.Experiment, resolving ``#/components/schemas/...`` refs
    inside the swagger document."""
    resource = Resource.from_contents(swagger, default_specification=DRAFT202012)
    registry = Registry().with_resource(SWAGGER_URI, resource)
    return Draft202012Validator(EXPERIMENT_SCHEMA, registry=registry)


def schema_errors(validator: Draft202012Validator, experiment: dict[str, Any]) -> list[str]:
    return sorted(f"{e.json_path}: {e.message}" for e in validator.iter_errors(experiment))


def test_katib_component_schemas_are_well_formed_json_schema(swagger: dict[str, Any]) -> None:
    schemas = swagger["components"]["schemas"]
    assert "v1beta1.Experiment" in schemas
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", EXAMPLES, ids=_example_id)
def test_compiled_examples_validate_against_katib_openapi_schema(
        path: Path, validator: Draft202012Validator) -> None:
    try:
        spec = automl.load(path)
    except SpecError:
        pytest.skip("automl refuses this example (covered by test_examples.py)")
    assert schema_errors(validator, katib_dict(spec)) == []


# ---- the schema really rejects things ------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(*path: str | int, value: Any) -> Mutation:
    def mutate(experiment: dict[str, Any]) -> None:
        node = experiment
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


MUTATIONS: dict[str, tuple[Mutation, str]] = {
    "max trial count as a word": (_set("spec", "maxTrialCount", value="abc"),
                                  "$.spec.maxTrialCount"),
    "parallel trial count as a float": (_set("spec", "parallelTrialCount", value=1.5),
                                        "$.spec.parallelTrialCount"),
    "feasible-space bound as a number": (
        _set("spec", "parameters", 0, "feasibleSpace", "min", value=0.01),
        "$.spec.parameters[0].feasibleSpace.min"),
    "algorithm setting value as a number": (
        _set("spec", "algorithm", "algorithmSettings", value=[{"name": "random_state",
                                                                "value": 7}]),
        "$.spec.algorithm.algorithmSettings[0].value"),
    "goal as a string": (_set("spec", "objective", "goal", value="0.99"),
                         "$.spec.objective.goal"),
    "retain as a string": (_set("spec", "trialTemplate", "retain", value="yes"),
                           "$.spec.trialTemplate.retain"),
    "custom collector container without a name": (
        _set("spec", "metricsCollectorSpec", "collector", "customCollector",
             value={"image": "collector:latest"}),
        "$.spec.metricsCollectorSpec.collector.customCollector"),
    "metadata name as a number": (_set("metadata", "name", value=5), "$.metadata.name"),
}


@pytest.fixture(scope="module")
def compiled_random() -> dict[str, Any]:
    return katib_dict(automl.load(KATIB / "examples" / "hp-tuning" / "random.yaml"))


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_schema_rejects_a_wrongly_typed_field(name: str, validator: Draft202012Validator,
                                              compiled_random: dict[str, Any]) -> None:
    mutate, where = MUTATIONS[name]
    experiment = copy.deepcopy(compiled_random)
    assert schema_errors(validator, experiment) == []
    mutate(experiment)
    errors = schema_errors(validator, experiment)
    assert errors, f"the schema accepted {name}"
    assert all(e.startswith(f"{where}:") for e in errors), errors


# ---- generated specs ------------------------------------------------------------------------
# A smaller generator than test_roundtrip_property.py's (the modules stay independent): it
# varies what reaches a typed field of the schema (numbers Katib writes as strings, counts,
# the goal, settings, NAS sizes, collector paths) and keeps the rest fixed.

_NAMES = st.text("abcdefghij", min_size=1, max_size=6)
_NUMBERS = st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=False,
                                                              allow_infinity=False))
_POSITIVE = st.floats(min_value=0.0, max_value=1e12, exclude_min=True)


@st.composite
def _parameter(draw: st.DrawFn, name: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(["double", "int", "discrete", "categorical"]))
    p: dict[str, Any] = {"name": name, "type": kind}
    if kind == "double":
        low, high = sorted(draw(st.lists(_POSITIVE, min_size=2, max_size=2)))
        p.update(min=low, max=high, distribution=draw(st.sampled_from(["uniform",
                                                                       "logUniform"])))
        step = draw(_POSITIVE) if draw(st.booleans()) else None
        # Optuna (Katib's Optuna service too) cannot round to a step finer than span / 10**27
        if step is not None and (high - low) / step <= 10**27:
            p["step"] = step
    elif kind == "int":
        low, high = sorted(draw(st.lists(st.integers(-10**9, 10**9), min_size=2, max_size=2)))
        p.update(min=low, max=high, step=draw(st.integers(1, 100)))
    elif kind == "discrete":
        p["list"] = draw(st.lists(_NUMBERS, min_size=1, max_size=4, unique_by=float))
    else:
        p["list"] = draw(st.lists(st.text(max_size=5), min_size=1, max_size=4, unique=True))
    return p


@st.composite
def _specs(draw: st.DrawFn) -> ExperimentSpec:
    metric = draw(_NAMES)
    data: dict[str, Any] = {
        "name": "generated",
        "objective": {"metric": metric, "type": draw(st.sampled_from(["minimize", "maximize"])),
                      "additional_metrics": [f"{metric}-extra"],
                      "metric_strategies": {metric: "latest"}},
    }
    goal = draw(st.none() | _NUMBERS)
    if goal is not None:
        data["objective"]["goal"] = goal
    max_trials = draw(st.integers(1, 2**31 - 1))
    data["budget"] = {"max_trials": max_trials,
                      "parallel_trials": draw(st.integers(1, max_trials)),
                      "max_failed_trials": draw(st.integers(0, max_trials))}
    if draw(st.booleans()):
        names = draw(st.lists(_NAMES, min_size=1, max_size=3, unique=True))
        data["parameters"] = [draw(_parameter(n)) for n in names]
        data["algorithm"] = draw(st.sampled_from([
            {"name": "random", "settings": {"random_state": draw(st.integers(0, 2**31))}},
            {"name": "tpe", "settings": {"gamma": draw(st.floats(0.01, 0.99)),
                                         "n_EI_candidates": draw(st.integers(1, 100))}},
            {"name": "bayesianoptimization", "settings": {"base_estimator": "GP",
                                                          "n_initial_points": 3}},
        ]))
    else:
        names = ["architecture", "nn_config"]
        data["nas"] = {
            "graph": {"num_layers": draw(st.integers(1, 2**31 - 1)),
                      "input_sizes": draw(st.lists(st.integers(1, 2**31 - 1), min_size=1,
                                                   max_size=3)),
                      "output_sizes": draw(st.lists(st.integers(1, 2**31 - 1), min_size=1,
                                                    max_size=2))},
            "operations": [{"type": "convolution",
                            "parameters": [{"name": "filter_size", "type": "categorical",
                                            "list": ["3", "5"]},
                                           {"name": "num_filter", "type": "int", "min": 8,
                                            "max": 64, "step": draw(st.integers(1, 8))}]}],
        }
        data["algorithm"] = {"name": "enas",
                             "settings": {"controller_temperature": draw(
                                 st.sampled_from(["None", 5.0, 0.5])),
                                 "controller_train_steps": draw(st.integers(1, 100))}}
    collector = draw(st.sampled_from([
        {"kind": "StdOut", "filter": [r"(\w+)=([\d.]+)"]},
        {"kind": "File", "path": "/var/log/metrics.json", "format": "JSON"},
        {"kind": "TensorFlowEvent", "path": "/logs/train"},
        {"kind": "Push"},
    ]))
    if collector["kind"] in ("StdOut", "File"):
        data["early_stopping"] = {"name": "medianstop",
                                  "settings": {"min_trials_required": draw(st.integers(1, 9)),
                                               "start_step": draw(st.integers(1, 9))}}
    data["trial"] = {
        "image": "python:3.11-slim",
        "command": ["python", "train.py", *(f"--{n}=${{trialParameters.{n}}}" for n in names)],
        "env": {"SEED": draw(st.text(max_size=5))},
        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
        "retain": draw(st.booleans()),
        "metrics_collector": collector,
    }
    return ExperimentSpec.model_validate(data)


@settings(max_examples=100, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(spec=_specs())
def test_generated_specs_compile_to_schema_valid_experiments(
        spec: ExperimentSpec, validator: Draft202012Validator) -> None:
    assert check(spec) == []
    assert schema_errors(validator, katib_dict(spec)) == []
