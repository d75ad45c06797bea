"""Loading experiment files: located errors, search spaces by name or path, our own YAML."""

from __future__ import annotations

import pytest

import automl
from automl.spec import SpecError, spec_to_yaml
from tests.conftest import KATIB_EXAMPLES, REPO, needs_katib

GOOD = """\
name: demo
objective: {metric: loss, type: minimize}
budget: {max_trials: 4, parallel_trials: 2}
parameters:
  - {name: lr, type: double, min: 0.001, max: 0.1}
trial:
  command: [python, train.py, "--lr=${trialParameters.lr}"]
"""


def _issues(path) -> list:
    with pytest.raises(SpecError) as caught:
        automl.load(path)
    return caught.value.issues


def test_a_good_file_loads(write) -> None:
    spec = automl.load(write("e.yaml", GOOD))
    assert spec.parameters[0].max == 0.1
    assert spec.budget.parallel_trials == 2


def test_each_error_names_file_line_path_and_expectation(write) -> None:
    path = write("e.yaml", GOOD.replace("max: 0.1", "max: lots").replace(
        "type: minimize", "type: minimise"))
    issues = _issues(path)
    assert [(i.line, i.path) for i in issues] == [(2, "objective.type"),
                                                  (5, "parameters[0].max")]
    assert issues[0].file == str(path)
    assert issues[0].message == "Input should be 'minimize' or 'maximize', got 'minimise'"
    assert issues[1].message == "expected a number, got 'lots'"
    assert str(issues[1]) == f"{path}:5: parameters[0].max: expected a number, got 'lots'"


def test_a_misspelt_field_suggests_the_right_one(write) -> None:
    issues = _issues(write("e.yaml", GOOD.replace("max_trials", "max_trails")))
    assert issues[0].path == "budget.max_trails"
    assert issues[0].line == 3
    assert issues[0].message.startswith("unknown field (did you mean 'max_trials'?)")


def test_katib_rule_errors_are_located_too(write) -> None:
    issues = _issues(write("e.yaml", GOOD.replace("max_trials: 4", "max_trials: 1")))
    assert [(i.line, i.path, i.message) for i in issues] == [
        (3, "budget.parallel_trials", "2 must be <= budget.max_trials (1)")]


def test_a_key_given_twice_is_refused(write) -> None:
    issues = _issues(write("e.yaml", GOOD + "name: again\n"))
    assert [(i.line, i.path) for i in issues] == [(8, "name")]
    assert "given twice" in issues[0].message


def test_yaml_syntax_errors_are_located(write) -> None:
    issues = _issues(write("e.yaml", "name: [unclosed\n"))
    assert issues[0].line == 2
    assert issues[0].message.startswith("invalid YAML")


def test_yaml_tags_that_build_objects_are_refused(write) -> None:
    issues = _issues(write("e.yaml", "name: !!python/object/apply:os.system [echo hi]\n"))
    assert issues[0].message.startswith("invalid YAML")


@pytest.mark.parametrize("value", ["9" * 5000, "2001-13-01"],  # Python cannot convert these
                         ids=["an int of 5000 digits", "month 13"])
def test_yaml_values_python_cannot_convert_are_refused(write, value) -> None:
    path = write("e.yaml", GOOD + f"extra: {value}\n")
    [issue] = _issues(path)
    assert issue.file == str(path)
    assert issue.message.startswith("invalid YAML: ")


def test_a_missing_file_is_a_clear_error(tmp_path) -> None:
    issues = _issues(tmp_path / "nope.yaml")
    assert issues[0].message == "file not found"


def test_a_document_that_is_not_a_mapping_is_refused(write) -> None:
    assert "expected a mapping" in _issues(write("e.yaml", "- a\n- b\n"))[0].message


def test_search_space_by_short_name_merges_inline_overrides(write, monkeypatch) -> None:
    write("search_spaces/team/mlp.yaml", """\
parameters:
  - {name: lr, type: double, min: 0.0001, max: 1, distribution: logUniform}
  - {name: layers, type: int, min: 1, max: 8}
""")
    path = write("exp/e.yaml", GOOD.replace(
        "parameters:\n  - {name: lr, type: double, min: 0.001, max: 0.1}\n",
        "search_space: team/mlp\nparameters:\n"
        "  - {name: layers, type: int, min: 2, max: 3}\n"
        "  - {name: opt, type: categorical, list: [sgd, adam]}\n",
    ).replace('"--lr=${trialParameters.lr}"',
              '"--lr=${trialParameters.lr}", "${trialParameters.layers}", '
              '"${trialParameters.opt}"'))
    spec = automl.load(path)
    assert [(p.name, p.min, p.max) for p in spec.parameters] == [
        ("lr", 0.0001, 1.0), ("layers", 2, 3), ("opt", None, None)]


def test_an_error_inside_a_search_space_points_into_that_file(write) -> None:
    space = write("search_spaces/bad.yaml", "parameters:\n  - {name: lr, type: double, min: 1}\n")
    issues = _issues(write("e.yaml", GOOD.replace(
        "parameters:\n  - {name: lr, type: double, min: 0.001, max: 0.1}\n",
        "search_space: bad\n")))
    assert [(i.file, i.line, i.path) for i in issues] == [(str(space), 2, "parameters[0].max")]


def test_an_unknown_search_space_lists_the_ones_there_are(write) -> None:
    write("search_spaces/a/one.yaml", "parameters: []\n")
    issues = _issues(write("e.yaml", GOOD.replace("parameters:\n", "search_space: a/two\n"
                                                  "parameters:\n")))
    assert issues[0].line == 4
    assert "no search space 'a/two'" in issues[0].message
    assert "a/one" in issues[0].message


def test_the_shipped_example_uses_the_shipped_svm_space() -> None:
    spec = automl.load(REPO / "examples/quickstart/experiment.yaml")
    assert [p.name for p in spec.parameters] == ["C", "gamma", "kernel"]
    assert spec.parameters[0].distribution == "logUniform"


@needs_katib
def test_katib_files_load_through_the_same_function() -> None:
    spec = automl.load(next(p for p in KATIB_EXAMPLES if p.name == "random.yaml"))
    assert spec.name == "random"


@needs_katib
@pytest.mark.parametrize("path", [p for p in KATIB_EXAMPLES
                                  if p.name not in ("pipeline-run.yaml", "darts-gpu.yaml",
                                                    "simple-pbt.yaml")],
                         ids=lambda p: p.name)
def test_our_yaml_loads_back_to_the_same_spec(path, write) -> None:
    spec = automl.from_katib(path)
    assert automl.load(write("again.yaml", spec_to_yaml(spec))) == spec
