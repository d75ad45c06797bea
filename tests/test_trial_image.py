"""One check of whether a trial can run in its image, said by every command that sends an
experiment to a cluster (automl.trial_image)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from automl.trial_image import is_stock_image
from tests.conftest import REPO

QUICKSTART = REPO / "examples" / "quickstart" / "experiment.yaml"
SAYS = ("the trial command names examples/quickstart/train.py, a file of this project that "
        "the stock image python:3.11-slim does not hold")


def _automl(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automl", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


# command -> (exit status, the prefix of its one line on stderr)
COMMANDS = {
    "validate --katib": (["validate", "--katib", QUICKSTART], 2, "error: "),
    "run --backend katib": (["run", QUICKSTART, "--backend", "katib"], 2, "error: "),
    "run --backend katib --dry-run": (["run", QUICKSTART, "--backend", "katib", "--dry-run"],
                                      0, "warning: "),
    "compile": (["compile", QUICKSTART], 0, "warning: "),
}


@pytest.mark.parametrize("name", COMMANDS)
def test_the_quickstart_on_a_stock_image_is_one_line_naming_the_file_and_the_fix(
        name, tmp_path) -> None:
    argv, code, prefix = COMMANDS[name]
    # No cluster is reachable: a refusal comes before any connection.
    done = _automl(*argv, env={"KUBECONFIG": str(tmp_path / "none")})
    assert done.returncode == code, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(prefix) and SAYS in line
    assert "'automl pipeline image EXPERIMENT -o DIR --tag IMAGE'" in line
    assert "/workspace/examples/quickstart/train.py" in line and "trial.image" in line
    assert ("--force" in line) == (name == "run --backend katib")


def test_force_submits_past_the_check_with_a_warning(tmp_path) -> None:
    done = _automl("run", QUICKSTART, "--backend", "katib", "--force",
                   env={"KUBECONFIG": str(tmp_path / "none")})
    assert done.stderr.splitlines()[0].startswith("warning: ")
    assert done.returncode == 3  # then: no cluster


def test_an_image_of_ones_own_holding_the_file_passes(tmp_path) -> None:
    data = yaml.safe_load(QUICKSTART.read_text())
    data["trial"]["image"] = "registry.example.org/digits:1"  # automl pipeline image built it
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(data))
    done = _automl("validate", "--katib", path)  # from the checkout: the command's path is here
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith(f"{path}: ok")


@pytest.mark.parametrize(("image", "stock"), [
    ("python:3.11-slim", True), ("python", True), ("docker.io/library/python:3.11", True),
    ("library/python:3.11", True), ("python@sha256:" + "0" * 64, True),
    ("docker.io/python:3.11-slim", True), ("index.docker.io/python", True),
    ("docker.io/me/tune:1", False),
    ("registry.example.org/tune:1", False), ("localhost:5000/tune", False),
    ("kubeflowkatib/pytorch-mnist-cpu:latest", False), ("ghcr.io/org/img@sha256:" + "1" * 64,
                                                        False),
])
def test_only_docker_hubs_official_images_count_as_stock(image, stock) -> None:
    assert is_stock_image(image) is stock


def _spec(image: str, command: list[str], working_dir: str | None = None):
    import automl

    trial = {"image": image, "command": command}
    if working_dir:
        trial["working_dir"] = working_dir
    return automl.load({"name": "cc", "objective": {"metric": "loss", "type": "minimize"},
                        "algorithm": {"name": "random"}, "budget": {"max_trials": 4},
                        "parameters": [{"name": "x", "type": "double", "min": 0, "max": 5}],
                        "trial": trial})


def _project(tmp_path: Path) -> Path:
    for file in ("sub/train.py", "pkg/train.py", "pkg/__init__.py", "tools/__init__.py"):
        (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / file).write_text('print("loss=1")\n')
    return tmp_path


X = "--x=${trialParameters.x}"
# spelling -> (image, command, working_dir, the file the one sentence names)
SPELLINGS = {
    "relative path": ("python:3.11-slim", ["python", "sub/train.py", X], None, "sub/train.py"),
    "absolute path of a project file": ("python:3.11-slim", ["python", "{here}/sub/train.py", X],
                                        None, "{here}/sub/train.py"),
    "sh -c script": ("python:3.11-slim", ["sh", "-c", f"python sub/train.py {X}"], None,
                     "sub/train.py"),
    "bash -ec script": ("python:3.11-slim",
                        ["/bin/bash", "-ec", f"cd . && python sub/train.py {X}"],
                        None, "sub/train.py"),
    "python -m module file": ("python:3.11-slim", ["python", "-m", "pkg.train", X], None,
                              "module pkg.train (pkg/train.py)"),
    "python -u -m package": ("python:3.11-slim", ["python3", "-u", "-m", "tools", X], None,
                             "module tools (tools/)"),
    "working_dir of the project": ("python:3.11-slim", ["python", "train.py", X], "sub",
                                   "train.py in its working_dir sub"),
    "docker.io/ without owner": ("docker.io/python:3.11-slim", ["python", "sub/train.py", X],
                                 None, "sub/train.py"),
    "index.docker.io/ without owner": ("index.docker.io/python", ["python", "sub/train.py", X],
                                       None, "sub/train.py"),
}


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_project_file_named_in_any_spelling_is_refused_on_a_stock_image(
        spelling, tmp_path) -> None:
    from automl.trial_image import trial_image_problems

    here = _project(tmp_path)
    image, command, working_dir, names = SPELLINGS[spelling]
    command = [word.replace("{here}", str(here)) for word in command]
    (problem,) = trial_image_problems(_spec(image, command, working_dir), here)
    assert f"the trial command names {names.replace('{here}', str(here))}, a file of this " \
           f"project that the stock image {image} does not hold" in problem


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_an_image_of_ones_own_passes_whatever_the_spelling(spelling, tmp_path) -> None:
    from automl.trial_image import trial_image_problems

    here = _project(tmp_path)
    _, command, working_dir, _ = SPELLINGS[spelling]
    command = [word.replace("{here}", str(here)) for word in command]
    for image in ("registry.example.org/tune:1", "docker.io/me/tune:1", "me/tune"):
        assert trial_image_problems(_spec(image, command, working_dir), here) == []


@pytest.mark.parametrize("command", [
    ["python", "-m", "json.tool", X], ["sh", "-c", f"python -c 'print(1)' {X}"],
    ["/usr/bin/python3", "-c", "print('loss=1')", X], ["python", "train.py", X]])
def test_system_programs_and_modules_the_image_has_pass_on_a_stock_image(
        command, tmp_path) -> None:
    from automl.trial_image import trial_image_problems

    # train.py is not here, relative to the project or to a working_dir that is no folder of it
    assert trial_image_problems(_spec("python:3.11-slim", command, "/app"),
                                _project(tmp_path)) == []
