"""``automl pipeline image``: the build context of the tuning step's container image.

The context holds a Dockerfile, automl as a wheel built from this checkout (or pinned at
the installed version when automl came from an index), the files the experiment's trials
name with the modules they import (only the project folder's, unless more are allowed; never
a system program, which the image has itself), a ``requirements.txt`` pinning what those
files import at the versions installed here, and ``automl-image.json``, which ``pipeline
compile --context`` reads to know what the image ships. Nothing is written outside it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from automl._fs import copy_tree, join_under
from automl.errors import AutomlError
from automl.local.trial_files import read_bounded
from automl.pipelines.files import (
    WORKDIR,
    pipeline_experiments,
    requirements,
    system_programs,
    trial_files,
)
from automl.spec.source import MAX_SPEC_BYTES

if TYPE_CHECKING:
    from automl.pipelines.compile import PipelineSource

__all__ = ["MANIFEST", "BuildContext", "build_context", "read_manifest"]

MANIFEST = "automl-image.json"
_INSTALL = "/opt/automl"
_SOURCES = ("pyproject.toml", "README.md", "automl", "search_spaces")
"""What of the checkout the wheel is built from (pyproject.toml's packages and readme)."""


@dataclass
class BuildContext:
    """A written build context.

    Attributes:
        folder: Where it is.
        image: The image name it is meant for (``docker build -t``).
        experiments: The experiments it was built for.
        files: Path in the image → the file copied into the context.
        requirements: What ``requirements.txt`` pins.
        own: The system programs the trials name, not copied: the image has its own.
    """

    folder: Path
    image: str
    experiments: list[str]
    files: dict[str, Path] = field(default_factory=dict)
    requirements: list[str] = field(default_factory=list)
    own: list[str] = field(default_factory=list)

    def commands(self) -> list[str]:
        """The commands that build and push the image."""
        return [f"docker build -t {self.image} {self.folder}", f"docker push {self.image}"]


def build_context(source: PipelineSource, folder: Path, *, image: str,
                  base_image: str = "python:3.11-slim", cwd: Path | None = None,
                  allow_outside: Sequence[Path] = ()) -> BuildContext:
    """Write the tuning step's image build context for ``source`` into ``folder``.

    Args:
        source: An experiment file, a pipeline file, or a compiled pipeline.
        folder: The context folder; created, and it must be empty if it exists.
        image: The image the context is built into (``registry/automl-tune:1``).
        base_image: The image it starts from (it needs Python 3.10 or newer and pip).
        cwd: The project folder: where the trials' relative paths start, and the only
            files shipped (default: the current folder).
        allow_outside: Files or folders outside ``cwd`` whose files the trials name and
            the image may ship all the same.

    Returns:
        What was written (only under ``folder``), with the docker commands to run.

    Raises:
        AutomlError: When ``folder`` holds files, the source has no experiment, a trial
            names a file outside the project (nothing is written then), a file cannot be
            read, or the automl wheel cannot be built.

    Example:
        >>> context = build_context("examples/pipeline/pipeline.py", Path("build"),
        ...                         image="registry.example.org/automl-tune:1")
        >>> context.commands()[0]
        'docker build -t registry.example.org/automl-tune:1 build'
    """
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise AutomlError(f"{folder}: not empty; give a new or empty folder for the context")
    experiments = pipeline_experiments(source)
    if not experiments:
        raise AutomlError(f"{source}: no tuning step with an experiment in it")
    here = Path(cwd or Path.cwd())
    files: dict[str, Path] = {}
    for spec in experiments:
        files.update(trial_files(spec, here, allow_outside))
    own = sorted({word for spec in experiments for word in system_programs(spec)})
    folder.mkdir(parents=True, exist_ok=True)
    for inside, local in files.items():
        target = join_under(folder / "files", PurePosixPath(inside).relative_to("/"),
                            "image path")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(local, target)
        except OSError as exc:
            error = AutomlError(f"cannot copy {local} into the context as {inside}: "
                                f"{exc.strerror or exc}")
            error.exit_code = 1  # this machine's, not the command line's
            raise error from None
    automl = _automl(folder / "wheels")
    pins = sorted({*requirements(list(files.values())), f"kfp=={metadata.version('kfp')}"},
                  key=str.lower)
    (folder / "requirements.txt").write_text("".join(f"{p}\n" for p in pins))
    (folder / "Dockerfile").write_text(_dockerfile(base_image, automl, bool(files),
                                                   [s.name for s in experiments]))
    context = BuildContext(folder, image, [s.name for s in experiments], files, pins, own)
    (folder / MANIFEST).write_text(json.dumps({
        "image": image, "base_image": base_image, "automl": automl,
        "experiments": context.experiments, "workdir": WORKDIR, "files": sorted(files),
        "requirements": pins}, indent=2) + "\n")
    return context


def read_manifest(folder: Path) -> dict:
    """What a context written by :func:`build_context` ships (its ``automl-image.json``).

    Raises:
        AutomlError: When the folder holds no readable manifest.
    """
    path = Path(folder) / MANIFEST
    try:
        return json.loads(read_bounded(path, MAX_SPEC_BYTES))
    except (OSError, ValueError) as exc:
        raise AutomlError(f"{path}: not a build context written by 'automl pipeline image' "
                          f"({exc})") from None


def _automl(wheels: Path) -> str:
    """automl for the image: a wheel of this checkout, or ``automl==<version>``."""
    checkout = Path(__file__).resolve().parents[2]
    version = metadata.version("automl")
    if not (checkout / "pyproject.toml").is_file():
        return f"automl=={version}"
    wheels.mkdir(parents=True, exist_ok=True)
    # Built from a copy inside the context: setuptools writes build/ and automl.egg-info/
    # beside the sources it builds, and nothing is written outside the context.
    with tempfile.TemporaryDirectory(dir=wheels.parent, prefix=".automl-source-") as tmp:
        for name in _SOURCES:
            if (checkout / name).is_dir():
                copy_tree(checkout / name, Path(tmp) / name)
            else:
                shutil.copy2(checkout / name, Path(tmp) / name)
        built = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
             "-w", str(wheels), tmp], capture_output=True, text=True, check=False)
    found = sorted(wheels.glob("automl-*.whl"))
    if built.returncode != 0 or not found:
        raise AutomlError("cannot build the automl wheel: "
                          + (built.stderr.strip().splitlines() or ["pip wheel failed"])[-1])
    return f"{_INSTALL}/wheels/{found[0].name}"


def _dockerfile(base_image: str, automl: str, files: bool, experiments: list[str]) -> str:
    lines = [
        f"# The tuning step's image for {', '.join(experiments)}, written by "
        "'automl pipeline image'.",
        f"FROM {base_image}",
        f"WORKDIR {WORKDIR}",
    ]
    if automl.startswith(_INSTALL):
        lines.append(f"COPY wheels/ {_INSTALL}/wheels/")
    lines += [
        f"COPY requirements.txt {_INSTALL}/requirements.txt",
        f"RUN python -m pip install --no-cache-dir {automl} -r {_INSTALL}/requirements.txt",
    ]
    if files:  # the trials' files, at the paths their commands name
        lines.append("COPY files/ /")
    return "\n".join(lines) + "\n"
