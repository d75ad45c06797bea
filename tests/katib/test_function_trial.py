"""tune(backend="katib")'s trial container: no function source or tuned value can break it.

Each test renders the Experiment with ``dry_run=True`` and runs the trial's container here the
way Katib and the kubelet would (tests/katib/katib_pod.py), in a temporary folder.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import yaml

import automl
from tests.katib.katib_pod import render, run_container


def hostile(params):
    # Lines that ended the old here-document, shell text, and what Kubernetes would expand.
    text = """
EOM
EOF
'''
"
$(touch pwned)
`touch pwned`
$$ $(HOME) ${HOME}
"""
    import json

    with open("received.json", "w") as f:
        json.dump({"params": params, "text": text}, f)
    return {"loss": float(params["x"]), "length": len(params["c"])}


HOSTILE_VALUES = ["it's", "a b", "x;touch pwned", "$(touch pwned)", "`touch pwned`", "EOF",
                  "EOM", "'''", "${HOME}", "$HOME", "a && touch pwned", "' ; touch pwned #",
                  "*", "~", "é ü", ""]


def _experiment(tmp_path: Path, collector: str, packages: tuple[str, ...] = ()) -> dict:
    text = automl.tune("hostile", hostile,
                       {"x": {"type": "double", "min": 0, "max": 4},
                        "c": {"type": "categorical", "list": HOSTILE_VALUES}, "fixed": "k'\""},
                       objective_metric_name="loss", additional_metric_names=["length"],
                       metrics_collector=collector, packages_to_install=packages,
                       dry_run=True, root=tmp_path / ".automl")
    return yaml.safe_load(text)


def _container(job: dict) -> dict:
    return job["spec"]["template"]["spec"]["containers"][0]


def _expected_text(tmp_path: Path) -> str:
    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        hostile({"x": "0", "c": ""})
    finally:
        os.chdir(here)
    return json.loads((tmp_path / "received.json").read_text())["text"]


def _fake_pip(tmp_path: Path, pip: str) -> str:
    """A PATH whose ``python3`` runs the shell text ``pip`` for ``python3 -m pip ...``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python3"
    fake.write_text(f'#!/bin/sh\nif [ "$1 $2" = "-m pip" ]; then {pip}; fi\n'
                    f'exec "{sys.executable}" "$@"\n')
    fake.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


@pytest.mark.parametrize("collector", ["StdOut", "Push"])
def test_hostile_source_and_values_reach_the_function_exactly(tmp_path, collector) -> None:
    experiment = _experiment(tmp_path, collector)
    expected_text = _expected_text(tmp_path)
    for i, value in enumerate(HOSTILE_VALUES):
        work = tmp_path / f"trial-{i}"
        work.mkdir()
        job = render(experiment, {"x": "1.5", "c": value})
        out = run_container(_container(job), work, wrap=collector == "StdOut")
        assert out.returncode == 0, (value, out.stderr)
        received = json.loads((work / "received.json").read_text())
        assert received == {"params": {"x": "1.5", "c": value, "fixed": "k'\""},
                            "text": expected_text}, value
        printed = (work / "metrics.log").read_text() if collector == "StdOut" else out.stdout
        assert printed == f"loss=1.5\nlength={float(len(value))!r}\n", value
        files = {"metrics.log", "received.json"} if collector == "StdOut" else {"received.json"}
        assert {p.name for p in work.iterdir() if p.suffix != ".pid"} == files
        assert not list(tmp_path.rglob("pwned"))


def test_the_stdout_wrapper_sends_the_output_to_the_metrics_file_and_marks_completion(
        tmp_path) -> None:
    job = render(_experiment(tmp_path, "StdOut"), {"x": "2", "c": "a b"})
    out = run_container(_container(job), tmp_path, wrap=True)
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")
    assert (tmp_path / "metrics.log").read_text() == "loss=2.0\nlength=3.0\n"
    (marker,) = tmp_path.glob("*.pid")
    assert marker.read_text() == "completed\n"


def test_packages_reach_pip_as_exact_arguments_before_the_program_runs(tmp_path) -> None:
    packages = ("numpy<3", "x; touch pwned", "$(touch pwned)")
    job = render(_experiment(tmp_path, "StdOut", packages), {"x": "1", "c": "it's"})
    out = run_container(_container(job), tmp_path, wrap=True,
                        path=_fake_pip(tmp_path, 'printf "%s\\n" "$@" > pip-argv.txt; exit 0'))
    assert out.returncode == 0, out.stderr
    pip = (tmp_path / "pip-argv.txt").read_text().splitlines()
    assert pip[:2] == ["-m", "pip"] and pip[-3:] == list(packages)
    assert "--index-url=https://pypi.org/simple" in pip
    assert (tmp_path / "metrics.log").read_text() == "loss=1.0\nlength=4.0\n"
    assert not list(tmp_path.rglob("pwned"))


def test_a_failing_pip_install_fails_the_trial_without_running_it(tmp_path) -> None:
    job = render(_experiment(tmp_path, "StdOut", ("pkg",)), {"x": "1", "c": "a"})
    out = run_container(_container(job), tmp_path, wrap=True, path=_fake_pip(tmp_path, "exit 3"))
    assert out.returncode != 0
    assert not (tmp_path / "received.json").exists()
    assert not list(tmp_path.glob("*.pid"))  # Katib's "completed" marker is not written


@pytest.mark.parametrize("value", ['say "hi"', "back\\slash", "two\nlines", "tab\there",
                                   "cost $$5", "$(HOME)", "a$(KATIB_TRIAL_NAME)b"])
def test_values_katib_or_kubernetes_would_change_are_refused_in_one_line(tmp_path,
                                                                        value) -> None:
    with pytest.raises(automl.AutomlError) as caught:
        automl.tune("t", hostile, {"x": {"type": "double", "min": 0, "max": 1},
                                   "c": {"type": "categorical", "list": ["ok", value]}},
                    backend="katib", dry_run=True)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"parameter 'c': the value {value!r} cannot reach a Katib trial")


def test_a_traceback_in_a_cluster_trial_shows_the_functions_lines(tmp_path) -> None:
    text = automl.tune("t", crashing, {"x": {"type": "double", "min": 0, "max": 1}},
                       dry_run=True)
    job = render(yaml.safe_load(text), {"x": "0.5"})
    out = run_container(_container(job), tmp_path, wrap=True)
    assert out.returncode != 0
    log = (tmp_path / "metrics.log").read_text()
    assert 'raise ValueError("bad x " + params["x"])' in log and "ValueError: bad x 0.5" in log


def crashing(params):
    raise ValueError("bad x " + params["x"])
