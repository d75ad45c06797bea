"""Deviations from Katib are warned about, located, only where a cluster is meant."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from automl.cli import app
from automl.spec import ExperimentSpec, deviations
from automl.spec.errors import Finding
from tests.conftest import KATIB, REPO, needs_katib

QUICKSTART = REPO / "examples/quickstart/experiment.yaml"


def _goal_deviation(spec):
    if spec.objective.goal is not None:
        yield Finding(("objective", "goal"), "a goal here")


def test_a_deviation_that_applies_is_a_located_warning_of_validate_katib_and_compile(
        monkeypatch, write) -> None:
    monkeypatch.setattr(deviations, "DEVIATIONS", (deviations.Deviation(
        "goal", "does something else", "does the sane thing", "pkg/x.go: f()",
        _goal_deviation),))
    # The quickstart on an image holding its trial program (tests/test_trial_image.py: on
    # python:3.11-slim validate --katib refuses it), line for line.
    path = write("experiment.yaml", QUICKSTART.read_text().replace(
        "image: python:3.11-slim", "image: registry.example.org/digits:1"))
    runner = CliRunner()
    for command in (["validate", "--katib"], ["compile"]):
        result = runner.invoke(app, [*command, str(path)])
        assert result.exit_code == 0, result.output
        assert (f"warning: {path}:7: objective.goal: a goal here [Katib differs: goal, "
                "docs/reference.md section 6]") in result.stderr
    plain = runner.invoke(app, ["validate", str(QUICKSTART)])
    assert plain.exit_code == 0 and "warning" not in plain.stderr


def test_values_katib_would_alter_on_the_way_to_a_trial_are_warned_about(write) -> None:
    # manifest/generator.go applyParameters: strings.Replace into the trial's JSON text
    path = write("exp.yaml", """name: t
objective: {metric: loss, type: minimize}
parameters:
  - {name: opt, type: categorical, list: [adam, 'say "hi"', 'a\\b', '$$HOME', '$(HOME)', '$HOME']}
trial: {image: python:3.12, command: [python, t.py, "--opt=${trialParameters.opt}"]}
""")
    runner = CliRunner()
    result = runner.invoke(app, ["validate", "--katib", str(path)])
    assert result.exit_code == 0, result.output
    warned = [line.split(": ")[2] for line in result.stderr.splitlines()
              if "reaches local trials as it is" in line]
    assert warned == [f"parameters[0].list[{i}]" for i in (1, 2, 3, 4)]
    assert "warning" not in runner.invoke(app, ["validate", str(path)]).stderr


HYPERBAND = {
    "name": "hb", "objective": {"metric": "loss", "type": "minimize"},
    "algorithm": {"name": "hyperband",
                  "settings": {"resource_name": "epochs", "r_l": 9, "eta": 3}},
    "parameters": [{"name": "x", "type": "double", "min": 0.0, "max": 1.0},
                   {"name": "epochs", "type": "int", "min": 1, "max": 9}],
    "trial": {"command": ["python", "t.py", "--x=${trialParameters.x}",
                          "--epochs=${trialParameters.epochs}"]},
}


# Katib's experiment controller asks for min(parallel, max - completed) - active new trials
# (experiment_controller.go, ReconcileTrials); SyncAssignments (suggestionclient.go) refuses a
# reply of another size; HyperbandService._make_child_bracket answers k with ceil(k / eta).
# Pinned by running Katib's hyperband service under that arithmetic (parallel, max trials, s_max
# >= 1): the experiment ends, or stays Running with 'The response contains unexpected trials'.
KATIB_ENDS = {(9, 9): True, (9, 10): True, (9, 11): False, (9, 12): False, (9, None): False}


@pytest.mark.parametrize(("budget", "ends"), list(KATIB_ENDS.items()))
def test_hyperband_budgets_that_stall_on_katib_are_warned_with_the_one_that_ends(
        budget, ends) -> None:
    parallel, max_trials = budget
    spec = ExperimentSpec.model_validate(
        {**HYPERBAND, "budget": {"parallel_trials": parallel, "max_trials": max_trials}})
    found = [str(f) for f in deviations.deviation_findings(spec)]
    if ends:
        assert found == []
    else:
        assert len(found) == 1
        assert found[0].startswith(
            "budget.max_trials: on Katib this hyperband experiment stays Running after its "
            "first 9 trials; with budget.max_trials <= 10 it ends instead, having run its "
            "first rung, then the best configuration once more [Katib differs: "
            "hyperband-requests, docs/reference.md section 6]")


@needs_katib
def test_a_template_using_the_trial_name_is_told_katibs_name_differs() -> None:
    katib = KATIB / "examples/trial-template/trial-metadata-substitution.yaml"
    result = CliRunner().invoke(app, ["validate", "--katib", str(katib)])
    assert result.exit_code == 0
    assert (f"warning: {katib}:40: spec.trialTemplate.trialParameters[2].reference: "
            "${trialParameters.trialName} is the trial's name: "
            "'trial-metadata-substitution-0000' here, 'trial-metadata-substitution-' and 8 "
            "random characters on Katib [Katib differs: trial-names, docs/reference.md section "
            "6]") in result.stderr
