"""automl pipeline image ships only the project's files and writes nothing outside -o.

Each case is a real project folder in tmp_path, with real symlinks, run by the real CLI in a
process of its own from the project folder (its default project).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import automl
from automl._fs import PathEscape
from automl.pipelines.files import system_programs, trial_files, trial_paths
from tests.conftest import REPO

BASE = ["python", "train.py", "--x=${trialParameters.x}"]


def _project(tmp_path: Path, command: list[str]) -> Path:
    """tmp_path/home/me/proj with train.py (importing helper) and exp.yaml; files outside."""
    project = tmp_path / "home" / "me" / "proj"
    project.mkdir(parents=True)
    (project / "train.py").write_text("import helper\nprint('loss=0.5')\n")
    (project / "helper.py").write_text("STEP = 1\n")
    (tmp_path / "important.txt").write_text("do not overwrite")
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "id_rsa").write_text("secret")
    (tmp_path / "keys" / "helper.py").write_text("SECRET = 1\n")
    (project / "exp.yaml").write_text(yaml.safe_dump({
        "name": "t", "objective": {"metric": "loss", "type": "minimize"},
        "parameters": [{"name": "x", "type": "double", "min": 0, "max": 1}],
        "trial": {"command": command}}))
    return project


def _image(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automl", "pipeline", "image", "exp.yaml",
                           "-o", "build", *args], cwd=project, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


@pytest.mark.parametrize(("escape", "named"), [
    ("dotdot", "../../../important.txt"),
    ("absolute", "{tmp}/keys/id_rsa"),
    ("program link", "link.py (a link to {tmp}/keys/helper.py)"),
    ("module link", "helper.py (a link to {tmp}/keys/helper.py)"),
])
def test_a_file_outside_the_project_is_named_and_refused_with_nothing_written(
        tmp_path, escape, named) -> None:
    extra = {"dotdot": ["--notes=../../../important.txt"],
             "absolute": [f"--key={tmp_path}/keys/id_rsa"],
             "program link": ["link.py"], "module link": []}[escape]
    project = _project(tmp_path, BASE + extra)
    (project / "link.py").symlink_to(tmp_path / "keys" / "helper.py")
    if escape == "module link":
        (project / "helper.py").unlink()
        (project / "helper.py").symlink_to(tmp_path / "keys" / "helper.py")
    before = _files(tmp_path)
    done = _image(project)
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: experiment 't': the trial command names files outside "
                           f"the project folder {project}: ")
    assert named.format(tmp=tmp_path) in line and "--allow-outside PATH" in line
    assert not (project / "build").exists()
    assert _files(tmp_path) == before


def test_allowed_files_outside_land_inside_the_context_and_system_programs_stay_the_images(
        tmp_path) -> None:
    project = _project(tmp_path, ["/bin/sh", "-c", "python train.py", "--",
                                  *BASE, "--notes=../../../important.txt",
                                  f"--key={tmp_path}/keys/id_rsa"])
    before, checkout = _files(tmp_path), _stamps(REPO)
    done = _image(project, "--allow-outside", str(tmp_path / "important.txt"),
                  "--allow-outside", str(tmp_path / "keys"))
    assert done.returncode == 0, done.stderr
    assert "  /bin/sh: not copied, the image's own" in done.stdout.splitlines()
    build = project / "build"
    # where the trial's process finds them in the image (cwd /workspace), under -o here
    assert _files(build / "files") == {
        "important.txt": b"do not overwrite", f"{tmp_path}/keys/id_rsa".lstrip("/"): b"secret",
        "workspace/train.py": (project / "train.py").read_bytes(),
        "workspace/helper.py": b"STEP = 1\n"}
    assert {k: v for k, v in _files(tmp_path).items()
            if not k.startswith("home/me/proj/build/")} == before
    assert _stamps(REPO) == checkout  # the wheel is built from a copy inside -o


def _stamps(checkout: Path) -> dict[Path, int]:
    """When the checkout's top folder, and what a wheel build there writes, last changed."""
    return {p: p.stat().st_mtime_ns
            for p in [checkout, *checkout.glob("*.egg-info/*"), *checkout.glob("build/*")]}


def test_a_symlinked_module_inside_the_project_ships_as_its_name_with_the_file_it_leads_to(
        tmp_path) -> None:
    project = _project(tmp_path, ["sh", "-c", "true", "/usr/bin/python3", *BASE])
    (project / "common").mkdir()
    (project / "common" / "helper.py").write_text("SHARED = 1\n")
    (project / "helper.py").unlink()
    (project / "helper.py").symlink_to("common/helper.py")
    spec = automl.load(project / "exp.yaml")
    assert trial_files(spec, project) == {"/workspace/train.py": project / "train.py",
                                          "/workspace/helper.py": project / "helper.py"}
    assert system_programs(spec) == ["/usr/bin/python3"]


@pytest.mark.parametrize("program", ["/bin/sh", "/usr/bin/python3", ".venv/bin/python",
                                     "/opt/conda/bin/python3.11"])
def test_a_system_program_is_never_a_file_to_ship(tmp_path, program) -> None:
    project = _project(tmp_path, [program, *BASE[1:]])
    (project / ".venv" / "bin").mkdir(parents=True)
    (project / ".venv" / "bin" / "python").write_text("an interpreter")
    spec = automl.load(project / "exp.yaml")
    assert trial_paths(spec, project) == ["train.py"]
    assert system_programs(spec) == [program]


def test_refused_in_the_api_with_the_same_error(tmp_path) -> None:
    project = _project(tmp_path, [*BASE, "../../../keys/../important.txt"])
    with pytest.raises(PathEscape, match=r"keys/\.\./important\.txt") as refused:
        trial_files(automl.load(project / "exp.yaml"), project)
    assert refused.value.exit_code == 2
    assert trial_files(automl.load(project / "exp.yaml"), project,
                       allow_outside=[tmp_path / "important.txt"])[
        "/important.txt"] == project / "../../../keys/../important.txt"


def test_a_fifo_a_dangling_and_a_looping_link_named_by_the_command_are_not_shipped(
        tmp_path) -> None:
    project = _project(tmp_path, [*BASE, "src/fifo.py", "src/loop.py", "src/gone.py"])
    (project / "src").mkdir()
    os.mkfifo(project / "src" / "fifo.py")  # read, it would block the build for ever
    (project / "src" / "loop.py").symlink_to("loop.py")
    (project / "src" / "gone.py").symlink_to(tmp_path / "missing.py")
    spec = automl.load(project / "exp.yaml")
    assert trial_files(spec, project) == {"/workspace/train.py": project / "train.py",
                                          "/workspace/helper.py": project / "helper.py"}


def test_compile_says_how_to_ship_a_file_outside_the_project_and_never_asks_for_bin_sh(
        tmp_path, monkeypatch) -> None:
    from automl.pipelines import compile_pipeline
    from automl.pipelines.check import cluster_problems

    project = _project(tmp_path, ["/bin/sh", "-c", "true", "--", *BASE,
                                  "--notes=../../../important.txt"])
    monkeypatch.chdir(project)
    problems = cluster_problems(compile_pipeline(project / "exp.yaml", tmp_path / "p.yaml"))
    unshipped = [p for p in problems if "does not ship" in p]
    assert unshipped == [
        "experiment 't': the trial command names train.py, a file on this machine that the "
        "tuning step's image does not ship: build the image with 'automl pipeline image', "
        "which copies it in",
        "experiment 't': the trial command names ../../../important.txt, a file on this "
        "machine that the tuning step's image does not ship: build the image with 'automl "
        "pipeline image --allow-outside PATH' (it is outside the current folder, the project)"]
