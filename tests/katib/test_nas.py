"""Katib's NAS assignments, checked against Katib's own examples and FACTS.md section d."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
import yaml

import automl
from automl.katib import from_katib, katib_dict, to_katib
from automl.local.space import enas_space
from automl.spec.nas_assignments import (
    DARTS_DEFAULTS,
    darts_assignments,
    describe_architecture,
    enas_assignments,
    enas_operations,
)
from tests.conftest import KATIB, needs_katib

NAS = KATIB / "examples" / "nas"
ENAS_ARGS = ["--architecture=${trialParameters.architecture}",
             "--nn_config=${trialParameters.nn_config}"]
DARTS_ARGS = ["--algorithm-settings=${trialParameters.algorithm-settings}",
              "--search-space=${trialParameters.search-space}",
              "--num-layers=${trialParameters.num-layers}"]


def katib_json(text: str) -> Any:
    """What Katib's trial programs do with an assignment: quotes back, then json.loads."""
    return json.loads(text.replace("'", '"'))


def choices(architecture: list[list[int]]) -> dict[str, int]:
    out = {}
    for i, layer in enumerate(architecture):
        out[f"layer_{i}"] = layer[0]
        out.update({f"skip_{i}_{j}": flag for j, flag in enumerate(layer[1:])})
    return out


@needs_katib
def test_enas_numbers_katibs_example_operations_as_katib_does() -> None:
    spec = automl.load(NAS / "enas-cpu.yaml")
    table = enas_operations(spec.nas.operations)
    # FACTS.md: 30 convolution + 60 separable_convolution + 12 depthwise + 4 reduction = 106
    assert Counter(op["opt_type"] for op in table) == {
        "convolution": 30, "separable_convolution": 60, "depthwise_convolution": 12,
        "reduction": 4}
    assert [op["opt_id"] for op in table] == list(range(106))
    # itertools.product order: the last parameter varies fastest; categorical values stay strings
    first = table[0]["opt_params"]
    assert first == {"filter_size": "3", "num_filter": "32", "stride": "1"}
    assert table[1]["opt_params"]["stride"] == "2"


@needs_katib
def test_enas_architecture_has_katibs_exact_text() -> None:
    spec = automl.load(NAS / "enas-cpu.yaml")
    spec = spec.model_copy(update={"nas": spec.nas.model_copy(update={
        "graph": spec.nas.graph.model_copy(update={"num_layers": 3})})})
    got = enas_assignments(spec, choices([[5], [2, 0], [11, 1, 0]]))
    assert got["architecture"] == "[[5], [2, 0], [11, 1, 0]]"  # FACTS.md's example
    config = katib_json(got["nn_config"])
    assert list(config) == ["num_layers", "input_sizes", "output_sizes", "embedding"]
    assert config["num_layers"] == 3
    assert config["input_sizes"] == [32, 32, 3] and config["output_sizes"] == [10]
    # only the operations this architecture uses, keyed by their id as a string
    assert list(config["embedding"]) == ["5", "2", "11"]
    table = enas_operations(spec.nas.operations)
    assert config["embedding"]["11"] == table[11]
    assert got["nn_config"].startswith("{'num_layers': 3, 'input_sizes': [32, 32, 3], ")
    assert '"' not in got["nn_config"]


@needs_katib
def test_enas_int_operation_values_stay_numbers() -> None:
    spec = automl.load(NAS / "enas-cpu.yaml")
    table = enas_operations(spec.nas.operations)
    reduction = [op for op in table if op["opt_type"] == "reduction"]
    assert [op["opt_params"]["pool_size"] for op in reduction] == [2, 3, 2, 3]  # min..max
    assert isinstance(reduction[0]["opt_params"]["pool_size"], int)


@needs_katib
def test_enas_space_has_one_choice_per_layer_and_per_possible_skip() -> None:
    spec = automl.load(NAS / "enas-cpu.yaml")
    layers = 4
    spec = spec.model_copy(update={"nas": spec.nas.model_copy(update={
        "graph": spec.nas.graph.model_copy(update={"num_layers": layers})})})
    space = enas_space(spec)
    assert len(space) == layers + layers * (layers - 1) // 2
    assert space["layer_0"].choices == tuple(range(106))
    assert space["skip_3_0"].choices == (0, 1) and "skip_3_3" not in space


@needs_katib
def test_darts_arguments_are_katibs_for_its_cpu_example() -> None:
    spec = automl.load(NAS / "darts-cpu.yaml")
    got = darts_assignments(spec)
    assert got["num-layers"] == "1"
    assert got["search-space"] == "['max_pooling_3x3']"
    settings = katib_json(got["algorithm-settings"])
    assert list(settings) == list(DARTS_DEFAULTS)
    # given settings arrive as the strings Katib stores; the rest are its numeric defaults
    assert {k: settings[k] for k in ("num_epochs", "num_nodes", "init_channels",
                                     "stem_multiplier")} == dict.fromkeys(
        ("num_epochs", "num_nodes", "init_channels", "stem_multiplier"), "1")
    assert settings["w_lr"] == 0.025 and settings["batch_size"] == 128


def test_darts_names_each_filter_size_and_keeps_skip_connection_bare() -> None:
    spec = automl.load({
        "name": "d", "objective": {"metric": "Best-Genotype", "type": "maximize"},
        "algorithm": {"name": "darts", "settings": {"batch_size": "None"}},
        "budget": {"max_trials": 1, "parallel_trials": 1},
        "search_space": "nas/darts_cell",
        "trial": {"command": ["python", "t.py", *DARTS_ARGS]}})
    got = darts_assignments(spec)
    assert katib_json(got["search-space"]) == [
        "separable_convolution_3x3", "dilated_convolution_3x3", "dilated_convolution_5x5",
        "avg_pooling_3x3", "max_pooling_3x3", "skip_connection"]
    assert katib_json(got["algorithm-settings"])["batch_size"] is None  # "None" → null


@needs_katib
def test_an_architecture_reads_in_words() -> None:
    spec = automl.load(NAS / "enas-cpu.yaml")
    spec = spec.model_copy(update={"nas": spec.nas.model_copy(update={
        "graph": spec.nas.graph.model_copy(update={"num_layers": 2})})})
    got = enas_assignments(spec, choices([[0], [105, 1]]))
    assert describe_architecture(got["architecture"], got["nn_config"]) == (
        "convolution(filter_size=3,num_filter=32,stride=1) | "
        "reduction(reduction_type=avg_pooling,pool_size=3) +L0")


def shape(value: Any) -> Any:
    """The structure of a Katib object: keys and nesting, not values."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        shapes = [shape(v) for v in value]
        return [s for i, s in enumerate(shapes) if s not in shapes[:i]]
    return type(value).__name__


@pytest.mark.parametrize(("space", "example", "algorithm", "args"), [
    ("nas/enas_cnn", "enas-cpu.yaml", "enas", ENAS_ARGS),
    ("nas/nasbench201", "enas-cpu.yaml", "enas", ENAS_ARGS),
    ("nas/darts_cell", "darts-cpu.yaml", "darts", DARTS_ARGS),
])
@needs_katib
def test_nas_spaces_compile_to_the_shape_of_katibs_nas_examples(space, example, algorithm,
                                                               args) -> None:
    ours = katib_dict(automl.load({
        "name": "nas-check", "objective": {"metric": "Validation-Accuracy", "type": "maximize"},
        "algorithm": {"name": algorithm}, "budget": {"max_trials": 2, "parallel_trials": 1},
        "search_space": space,
        "trial": {"image": "python:3.11-slim", "command": ["python", "t.py", *args]}}))
    katib = yaml.safe_load((NAS / example).read_text(encoding="utf-8"))
    assert ours["spec"]["algorithm"]["algorithmName"] == algorithm
    # the same graph fields; each operation parameter shaped as Katib's of the same type
    graph = ours["spec"]["nasConfig"]["graphConfig"]
    assert set(graph) == set(katib["spec"]["nasConfig"]["graphConfig"])
    katib_params = {p["parameterType"]: shape(p) for op in katib["spec"]["nasConfig"]["operations"]
                    for p in op["parameters"]}
    for op in ours["spec"]["nasConfig"]["operations"]:
        assert set(op) == {"operationType", "parameters"}
        for p in op["parameters"]:
            assert shape(p) == katib_params[p["parameterType"]], p
    references = {p["reference"] for p in ours["spec"]["trialTemplate"]["trialParameters"]}
    assert references == {p["reference"] for p in katib["spec"]["trialTemplate"]["trialParameters"]}


def test_operation_parameters_katibs_nas_services_would_mishandle_are_refused() -> None:
    base = {"objective": {"metric": "acc", "type": "maximize"},
            "budget": {"max_trials": 1, "parallel_trials": 1}}
    enas = {**base, "name": "e", "algorithm": {"name": "enas"},
            "nas": {"graph": {"num_layers": 1, "input_sizes": [8], "output_sizes": [2]},
                    "operations": [{"type": "conv", "parameters": [
                        {"name": "k", "type": "discrete", "list": [3, 5]}]}]},
            "trial": {"command": ["t", *ENAS_ARGS]}}
    with pytest.raises(automl.SpecError, match=r"nas\.operations\[0\]\.parameters\[0\]\.type.*"
                                               r"skips discrete"):
        automl.load(enas)
    darts = {**base, "name": "d", "algorithm": {"name": "darts"},
             "nas": {"graph": {"num_layers": 1},
                     "operations": [{"type": "conv", "parameters": [
                         {"name": "k", "type": "int", "min": 3, "max": 5, "step": 2}]}]},
             "trial": {"command": ["t", *DARTS_ARGS]}}
    with pytest.raises(automl.SpecError, match=r"first parameter's list"):
        automl.load(darts)


@needs_katib
def test_darts_settings_reach_the_trial_as_the_text_katib_stores() -> None:
    # Katib's darts service puts each setting's value string into the trial's argument
    # unchanged (pkg/suggestion/v1beta1/nas/darts/service.py, get_algorithm_settings):
    # '1e-3' stays '1e-3', '0.10' stays '0.10'.
    katib = yaml.safe_load((NAS / "darts-cpu.yaml").read_text())
    katib["spec"]["algorithm"]["algorithmSettings"] += [
        {"name": "w_lr", "value": "1e-3"}, {"name": "alpha_lr", "value": "0.10"},
        {"name": "num_workers", "value": "2"}]
    spec = from_katib(katib)
    settings = katib_json(darts_assignments(spec)["algorithm-settings"])
    assert (settings["w_lr"], settings["alpha_lr"], settings["num_workers"]) == (
        "1e-3", "0.10", "2")
    assert from_katib(to_katib(spec)) == spec
    exported = to_katib(spec).spec.algorithm.algorithm_settings
    assert {s.name: s.value for s in exported}["w_lr"] == "1e-3"
