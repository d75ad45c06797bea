"""Hostile YAML (alias bombs, self-containing and deeply nested documents) is refused fast.

Each entry point that reads YAML is run as a user runs it, in a child process that reports
its own time and peak memory for the command (start-up and imports excluded).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import automl
from automl.spec import SpecError
from tests.spec.test_load import GOOD

# Runs the CLI, then writes what the command cost to the file named in argv[1]; the modules
# the commands import (kfp takes a second and more) are imported before the clock starts.
# Peak memory is this process's VmHWM: Linux carries getrusage's ru_maxrss over from the
# parent (pytest, grown large by the suite) across fork and exec.
_MEASURED = """
import json, re, sys, time
import automl._run, automl.katib, automl.pipelines.compile, kfp.compiler
from automl.cli import main
out, sys.argv = sys.argv[1], ["automl", *sys.argv[2:]]
start = time.perf_counter()
try:
    main()
finally:
    with open(out, "w") as f:
        json.dump({"seconds": time.perf_counter() - start,
                   "peak_mb": int(re.search(r"VmHWM:\\s+(\\d+)",
                                            open("/proc/self/status").read())[1]) / 1024}, f)
"""

KATIB_HEAD = """\
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: bomb}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: random}
  parameters:
    - {name: lr, parameterType: double, feasibleSpace: {min: "0.1", max: "0.2"}}
"""


def bomb(levels: int, indent: str = "") -> str:
    """``levels`` lines, each a list of ten aliases of the line before: 10**levels values."""
    lines = [f'{indent}l0: &l0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"{indent}l{i}: &l{i} [{','.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def measured(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    report = tmp_path / "cost.json"
    result = subprocess.run([sys.executable, "-c", _MEASURED, report, *map(str, args)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    return result, json.loads(report.read_text())


def entry_points(tmp_path: Path, levels: int) -> dict[str, tuple[list[str], str]]:
    """command -> (arguments, where the bomb is refused: file:line: field)."""
    first = 8  # a bomb of 5 or more levels passes 100000 values on its 5th line
    experiment = tmp_path / "e.yaml"
    experiment.write_text(GOOD + bomb(levels))
    katib = tmp_path / "katib.yaml"
    katib.write_text(KATIB_HEAD + bomb(levels, "  "))
    space = tmp_path / "space.yaml"
    space.write_text("parameters:\n  - {name: lr, type: double, min: 0.1, max: 0.2}\n"
                     + bomb(levels))
    uses_space = tmp_path / "uses_space.yaml"
    uses_space.write_text(GOOD.replace("parameters:\n  - {name: lr, type: double, min: 0.001, "
                                       "max: 0.1}\n", "search_space: space.yaml\n"))
    return {
        "validate": (["validate", experiment], f"{experiment}:{first + 4}: l4"),
        "run": (["run", experiment, "-q"], f"{experiment}:{first + 4}: l4"),
        "compile": (["compile", experiment], f"{experiment}:{first + 4}: l4"),
        "pipeline compile": (["pipeline", "compile", experiment, "-o", tmp_path / "p.yaml"],
                             f"{experiment}:{first + 4}: l4"),
        "import": (["import", katib], f"{katib}:{first + 5}: spec.l4"),
        "search space": (["validate", uses_space], f"{space}:{3 + 4}: l4"),
    }


@pytest.mark.parametrize("levels", [6, 9, 30])
@pytest.mark.parametrize("command", ["validate", "run", "compile", "pipeline compile", "import",
                                     "search space"])
def test_an_alias_bomb_is_refused_within_a_second_in_bounded_memory(tmp_path, command,
                                                                     levels) -> None:
    args, where = entry_points(tmp_path, levels)[command]
    result, cost = measured(tmp_path, *args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert re.fullmatch(rf"error: {re.escape(where)}\[\d\]: the document holds "
                        r"more than 100000 values once its YAML aliases \(\*name\) are "
                        r"expanded\n", result.stderr), result.stderr
    assert cost["seconds"] < 1
    assert cost["peak_mb"] < 400


def test_a_structure_that_contains_itself_is_refused_at_its_alias(write) -> None:
    path = write("e.yaml", GOOD + "extra: &loop\n  inner:\n    - 1\n    - *loop\n")
    with pytest.raises(SpecError) as caught:
        automl.load(path)
    [issue] = caught.value.issues
    assert (issue.file, issue.line, issue.path) == (str(path), 11, "extra.inner[1]")
    assert "the alias *loop is inside the collection its anchor &loop marks" in issue.message


@pytest.mark.parametrize(("text", "field"), [
    ("deep: " + "[" * 100_000 + "]" * 100_000, "deep"),  # crashed the C composer (SIGSEGV)
    ("deep: &d " + "[" * 60 + "]" * 60 + "\ndeeper: " + "[" * 50 + "*d" + "]" * 50,
     r"deeper(\[0\])+"),
], ids=["brackets", "through-an-alias"])
def test_a_document_nested_deeper_than_a_hundred_levels_is_refused(tmp_path, text,
                                                                   field) -> None:
    path = tmp_path / "e.yaml"
    path.write_text(GOOD + text + "\n")
    result = subprocess.run([sys.executable, "-m", "automl", "validate", path],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert re.fullmatch(rf"error: {re.escape(str(path))}:\d+: {field}: nested more than 100 "
                        r"levels deep.*\n", result.stderr), result.stderr


def test_anchors_reused_a_few_times_still_load(write) -> None:
    spec = automl.load(write("e.yaml", """\
name: demo
objective: {metric: loss, type: minimize}
parameters:
  - {name: lr, type: double, min: &low 0.001, max: 0.1}
  - {name: wd, type: double, min: *low, max: 0.1}
  - {name: opt, type: categorical, list: &opts [sgd, adam]}
  - {name: opt2, type: categorical, list: *opts}
trial:
  command: [python, train.py, "${trialParameters.lr}", "${trialParameters.wd}",
                 "${trialParameters.opt}", "${trialParameters.opt2}"]
"""))
    assert [(p.name, p.min) for p in spec.parameters[:2]] == [("lr", 0.001), ("wd", 0.001)]
    assert spec.parameters[3].values == ["sgd", "adam"]
