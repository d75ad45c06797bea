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
    ("registry.example.org/tune:1", False), ("localhost:5000/tune", False),
    ("kubeflowkatib/pytorch-mnist-cpu:latest", False), ("ghcr.io/org/img@sha256:" + "1" * 64,
                                                        False),
])
def test_only_docker_hubs_official_images_count_as_stock(image, stock) -> None:
    assert is_stock_image(image) is stock
