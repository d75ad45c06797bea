"""automl pipeline image: a build context whose install steps and step command work here, and
pipeline compile warnings about what would fail on a cluster.

No Docker daemon runs here: the Dockerfile is carried out by hand. COPY copies into a folder
standing for the image's root, RUN's pip install runs in a fresh virtualenv, then the tuning
step's work runs from the image's working directory with that virtualenv's Python.
"""

from __future__ import annotations

import json
import shlex
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

import automl
from automl.pipelines.image import MANIFEST, build_context
from tests.conftest import REPO

QUICKSTART = REPO / "examples" / "quickstart" / "experiment.yaml"


@pytest.fixture(scope="module")
def context(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("context") / "build"
    built = build_context(QUICKSTART, folder, image="registry.example.org/tune:1", cwd=REPO)
    assert built.commands() == [f"docker build -t registry.example.org/tune:1 {folder}",
                                "docker push registry.example.org/tune:1"]
    return folder


def test_the_context_ships_the_trial_program_automl_and_pinned_imports(context) -> None:
    manifest = json.loads((context / MANIFEST).read_text())
    assert manifest["files"] == ["/workspace/examples/quickstart/train.py"]
    assert (context / "files/workspace/examples/quickstart/train.py").read_bytes() == (
        REPO / "examples/quickstart/train.py").read_bytes()
    pins = (context / "requirements.txt").read_text().split()
    assert any(p.startswith("scikit-learn==") for p in pins)  # train.py imports sklearn
    assert any(p.startswith("kfp==") for p in pins)  # the version the step was compiled by
    assert [w.name for w in (context / "wheels").iterdir()] == ["automl-0.1.0-py3-none-any.whl"]


def _install(context: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Carry out the Dockerfile: the image's root folder and the venv's Python."""
    image_root, venv = tmp_path / "rootfs", tmp_path / "venv"
    python = _venv_seeing_this_environment(venv)
    workdir = None
    for line in (context / "Dockerfile").read_text().splitlines():
        word, _, rest = line.partition(" ")
        if word == "WORKDIR":
            workdir = rest
        elif word == "COPY":
            source, target = rest.split()
            _copy(context / source, image_root / target.lstrip("/"))
        elif word == "RUN":
            argv = shlex.split(rest)
            assert argv[:4] == ["python", "-m", "pip", "install"]
            argv = [str(image_root / a.lstrip("/")) if a.startswith("/") else a
                    for a in argv[4:]]
            subprocess.run([str(python), "-m", "pip", "install", "-q", "--force-reinstall",
                            "--no-deps", *argv], check=True, capture_output=True)
    assert workdir == "/workspace"
    # automl's own requirements are met (a venv's old setuptools upsets only torch's)
    checked = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True,
                             text=True, check=False).stdout
    assert not [line for line in checked.splitlines() if line.startswith("automl ")]
    return image_root, python


def _venv_seeing_this_environment(venv: Path) -> Path:
    """A new venv that sees the packages this test runs with; its Python.

    This environment has automl's dependencies: the venv sees them, and only automl (the
    same version, installed here from the checkout) must come from the context's wheel.
    ``--system-site-packages`` alone would not do inside a virtualenv: it reaches the base
    interpreter's packages, not this one's. So this environment's site folders are added
    to the venv's path (a ``.pth`` file), after the venv's own, where the wheel goes.
    """
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True)
    python = venv / "bin" / "python"
    inner = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path("
                            "'purelib'))"], capture_output=True, text=True, check=True)
    # Plain folder lines, not site.addsitedir: this checkout's editable install (a .pth of
    # its own there) must not be imported instead of the wheel's automl.
    (Path(inner.stdout.strip()) / "outer-environment.pth").write_text(
        "".join(f"{folder}\n" for folder in [*site.getsitepackages(), site.getusersitepackages()]))
    return python


def test_the_example_pipelines_context_installs(tmp_path) -> None:
    source = REPO / "examples" / "pipeline" / "pipeline.py"
    build_context(source, tmp_path / "build", image="r/t:1", cwd=REPO)
    _, python = _install(tmp_path / "build", tmp_path)
    done = subprocess.run([str(python), "-c", "import automl.pipelines.step, sklearn, kfp"],
                          capture_output=True, text=True, check=False,
                          env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr


def test_the_dockerfile_installs_and_the_step_runs_from_the_image_workdir(context,
                                                                          tmp_path) -> None:
    image_root, python = _install(context, tmp_path)
    venv = python.parent.parent
    spec = _spec_json()
    spec["budget"]["max_trials"] = 3  # its max_failed_trials
    run = ("import json, sys, automl; from automl.pipelines.step import run_tuning; "
           "r = run_tuning(sys.argv[1], trials_path='out/trials.csv', tensorboard_dir='out/tb',"
           " summary_path='out/summary.md', root='.automl'); "
           "print(json.dumps({'file': automl.__file__, 'trials': r.trials}))")
    done = subprocess.run([str(python), "-c", run, json.dumps(spec)],
                          cwd=image_root / "workspace", capture_output=True, text=True,
                          timeout=300, env={"PATH": f"{venv / 'bin'}:/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["trials"] == 3
    assert result["file"].startswith(str(venv))  # the wheel's automl, not this checkout's
    table = (image_root / "workspace" / "out" / "trials.csv").read_text()
    assert table.count("Succeeded") == 3  # train.py ran from the shipped path


def _spec_json() -> dict:
    import automl

    return json.loads(automl.load(QUICKSTART).model_dump_json(by_alias=True))


def _copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def _compile(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automl", "pipeline", "compile", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=180)


def test_compile_warns_of_what_fails_on_a_cluster_and_strict_refuses(tmp_path) -> None:
    done = _compile(str(QUICKSTART), "-o", str(tmp_path / "p.yaml"))
    assert done.returncode == 0 and (tmp_path / "p.yaml").exists()
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 3
    assert "image python:3.11-slim has no automl" in warnings[0]
    assert "names examples/quickstart/train.py" in warnings[1]
    assert "backend='katib'" in warnings[2]
    refused = _compile(str(QUICKSTART), "-o", str(tmp_path / "q.yaml"), "--strict")
    assert refused.returncode == 2 and not (tmp_path / "q.yaml").exists()
    assert refused.stderr.count("error: ") == 3


def test_compile_with_the_built_image_and_context_warns_of_nothing(context, tmp_path) -> None:
    done = _compile(str(QUICKSTART), "-o", str(tmp_path / "p.yaml"), "--image",
                    "registry.example.org/tune:1", "--context", str(context), "--strict")
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr
    assert "image: registry.example.org/tune:1" in (tmp_path / "p.yaml").read_text()


def test_an_image_other_than_the_contexts_is_named(context, tmp_path) -> None:
    done = _compile(str(QUICKSTART), "-o", str(tmp_path / "p.yaml"), "--image", "other:2",
                    "--context", str(context))
    assert "runs other:2, but the build context was made for registry.example.org/tune:1" \
        in done.stderr


def test_the_katib_backend_needs_the_trial_files_in_the_trial_image_not_the_steps(
        tmp_path) -> None:
    from automl.pipelines import compile_pipeline, tuning_pipeline
    from automl.pipelines.check import cluster_problems
    from automl.trial_image import trial_image_problems

    package = compile_pipeline(tuning_pipeline(QUICKSTART, backend="katib",
                                               image="registry.example.org/tune:1"),
                               tmp_path / "k.yaml")
    problems = cluster_problems(package)
    assert len(problems) == 2 and "has no automl" in problems[0]
    # The same sentence validate --katib and run --backend katib say: trials run in their image.
    assert problems[1:] == trial_image_problems(automl.load(QUICKSTART))


def test_the_context_folder_must_be_new_or_empty(tmp_path) -> None:
    from automl.errors import AutomlError

    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "notes.txt").write_text("mine")
    with pytest.raises(AutomlError, match="not empty"):
        build_context(QUICKSTART, tmp_path / "build", image="x:1", cwd=REPO)
    assert (tmp_path / "build" / "notes.txt").read_text() == "mine"


def test_the_example_pipelines_context_ships_its_trial_program_at_the_path_it_names(
        tmp_path) -> None:
    import automl
    from automl.pipelines.files import pipeline_experiments

    source = REPO / "examples" / "pipeline" / "pipeline.py"
    # run from elsewhere, the program is outside the project folder: shipped when allowed
    built = build_context(source, tmp_path / "build", image="r/t:1", cwd=tmp_path,
                          allow_outside=[REPO / "examples"])
    (experiment,) = pipeline_experiments(source)
    program = experiment.trial.command[1]  # an absolute path: kfp.local runs from anywhere
    assert list(built.files) == [program]
    assert built.files[program] == Path(program)
    assert (tmp_path / "build" / "files" / program.lstrip("/")).is_file()
    assert any(p.startswith("scikit-learn==") for p in built.requirements)
    assert isinstance(experiment, automl.ExperimentSpec)


def test_a_trial_program_brings_the_modules_it_imports_from_beside_it() -> None:
    import automl
    from automl.pipelines.files import requirements, trial_files

    spec = automl.load(REPO / "examples" / "nas-darts" / "experiment.yaml")
    files = trial_files(spec, REPO)
    assert sorted(files) == ["/workspace/examples/nas-darts/supernet.py",
                             "/workspace/examples/nas-darts/trial.py"]
    pins = requirements(list(files.values()))
    assert any(p.startswith("torch==") for p in pins)  # imported by both, pinned once
    assert not any(p.startswith("supernet") for p in pins)


def test_the_files_are_those_of_the_command_the_local_engine_runs() -> None:
    import automl
    from automl.pipelines.files import trial_paths

    spec = automl.load({
        "name": "t", "objective": {"metric": "accuracy", "type": "maximize"},
        "parameters": [{"name": "C", "type": "double", "min": 0.1, "max": 10}],
        "trial": {"image": "registry.example.org/svm:1",
                  "command": ["python", "/opt/svm/train.py", "--C=${trialParameters.C}"],
                  "local": {"command": ["python", "examples/quickstart/train.py",
                                        "--C=${trialParameters.C}"]}}})
    # /opt/svm/train.py is in the trial's own image: the local engine never runs it
    assert trial_paths(spec, REPO) == ["examples/quickstart/train.py"]
