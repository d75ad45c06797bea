"""Deviations from Katib are warned about, located, only where a cluster is meant."""

from __future__ import annotations

from typer.testing import CliRunner

from automl.cli import app
from automl.spec import deviations
from automl.spec.errors import Finding
from tests.conftest import REPO

QUICKSTART = REPO / "examples/quickstart/experiment.yaml"


def _goal_deviation(spec):
    if spec.objective.goal is not None:
        yield Finding(("objective", "goal"), "a goal here")


def test_a_deviation_that_applies_is_a_located_warning_of_validate_katib_and_compile(
        monkeypatch) -> None:
    monkeypatch.setattr(deviations, "DEVIATIONS", (deviations.Deviation(
        "goal", "does something else", "does the sane thing", "pkg/x.go: f()",
        _goal_deviation),))
    runner = CliRunner()
    for command in (["validate", "--katib"], ["compile"]):
        result = runner.invoke(app, [*command, str(QUICKSTART)])
        assert result.exit_code == 0, result.output
        assert (f"warning: {QUICKSTART}:7: objective.goal: a goal here (Katib: does something "
                "else; pkg/x.go: f())") in result.stderr
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
