"""What a pipeline's tuning step needs on a cluster: its experiments and their trials' files.

A trial's command names its program as a path on this machine (``examples/quickstart/
train.py``). Inside the step's container that path exists only if the image ships the file.
These functions find the experiments a pipeline tunes, the files their trials name (and
the modules those files import from beside them), and the packages those files import.

Only files of the project (the folder the trials' relative paths start from) are shipped: a
file the command names outside it (an absolute path, ``..``, a symlink leading out) could be
anything on this machine (a key, a host's binary), so it is refused unless the user allows
its folder. A system program (``/bin/sh``, ``python``) is never copied: the image has its own.
"""

from __future__ import annotations

import ast
import json
import os
import posixpath
import sys
import tempfile
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from automl._fs import PathEscape, is_inside
from automl.local.trial_files import read_bounded
from automl.spec.source import MAX_SPEC_BYTES, read_first_document
from automl.trial_image import (
    WORKDIR,
    command_paths,
    command_values,
    image_path,
    is_system_program,
    local_words,
)

if TYPE_CHECKING:
    from automl.pipelines.compile import PipelineSource
    from automl.spec import ExperimentSpec

__all__ = ["WORKDIR", "image_path", "is_system_program", "pipeline_experiments", "requirements",
           "system_programs", "trial_files", "trial_paths"]


def pipeline_experiments(source: PipelineSource) -> list[ExperimentSpec]:
    """The experiments a pipeline's tuning steps run, as the compiled pipeline carries them.

    Args:
        source: What :func:`automl.pipelines.load_pipeline` reads, or a compiled pipeline.
    """
    from automl._api import load
    from automl.pipelines.compile import compile_pipeline

    path = Path(source) if not callable(source) else None
    if path is not None and path.suffix in (".yaml", ".yml", ".json"):
        data = read_first_document(path)
        if not (isinstance(data, dict) and "pipelineInfo" in data):
            return [load(path)]
        return _from_package(data)
    with tempfile.TemporaryDirectory() as tmp:
        package = compile_pipeline(source, Path(tmp) / "pipeline.yaml")
        return _from_package(read_first_document(package))


def _from_package(data: dict) -> list[ExperimentSpec]:
    from automl._api import load

    parameters = data.get("root", {}).get("inputDefinitions", {}).get("parameters", {})
    found = parameters.get("spec_json", {}).get("defaultValue")
    return [load(json.loads(found))] if found else []


def system_programs(spec: ExperimentSpec) -> list[str]:
    """The words of the trial's command that name a system program (:func:`is_system_program`)."""
    return list(dict.fromkeys(w for w in command_values(local_words(spec))
                              if is_system_program(w)))


def trial_paths(spec: ExperimentSpec, cwd: Path | None = None) -> list[str]:
    """The words of the command the local engine runs that are paths to files to ship.

    That command is the primary container's, or ``trial.local``'s when given
    (automl.local.job.local_container); a path as :func:`automl.trial_image.command_paths`
    finds it (a system program does not count).
    """
    return command_paths(local_words(spec), cwd)


def trial_files(spec: ExperimentSpec, cwd: Path, allow_outside: Sequence[Path] = ()
                ) -> dict[str, Path]:
    """Path in the image → the file here, for every file the trials name that exists here.

    A relative path lands under :data:`WORKDIR`, an absolute one at the same path; a Python
    program brings the modules it imports from its own folder (``supernet.py`` beside
    ``trial.py``), a symlinked one as the file it leads to.

    Args:
        spec: The experiment.
        cwd: The project folder: where relative paths start, and what may be shipped.
        allow_outside: Files or folders outside ``cwd`` that may be shipped all the same.

    Raises:
        PathEscape: Naming every file (or the file a symlink leads to) outside ``cwd`` and
            ``allow_outside``.
    """
    shipped: dict[str, Path] = {}
    outside: list[str] = []
    for word in trial_paths(spec, cwd):
        local = cwd / word  # an absolute word stays itself
        if not local.is_file():
            continue
        folder = posixpath.dirname(image_path(word))
        for extra, file in _with_neighbours(local):
            if not any(is_inside(file, f) for f in (cwd, *allow_outside)):
                shown = file.relative_to(cwd) if file.is_relative_to(cwd) else file
                outside.append(f"{shown} (a link to {os.path.realpath(file)})"
                               if file.is_symlink() else str(shown))
                continue
            shipped[posixpath.join(folder, extra)] = file
    if outside:
        raise PathEscape(
            f"experiment {spec.name!r}: the trial command names files outside the project "
            f"folder {cwd}: {', '.join(dict.fromkeys(outside))}; the image ships only the "
            "project's files: move them into it, or ship them with --allow-outside PATH")
    return shipped


def _with_neighbours(program: Path) -> Iterator[tuple[str, Path]]:
    """The program, then each module it imports from its folder, recursively: each as its
    path beside the program in the image, and the file here.

    The folder is the one of the file the program's symlinks lead to, where Python looks for
    its imports; a module is named as its folder has it, a symlink too.
    """
    folder = Path(os.path.realpath(program)).parent
    yield program.name, program
    seen: set[Path] = set()
    todo = [program]
    while todo:
        file = todo.pop()
        if file.suffix != ".py":
            continue
        for name in sorted(_imports(file)):
            for candidate in (folder / f"{name}.py", folder / name / "__init__.py"):
                if candidate.is_file() and candidate not in seen and candidate != program:
                    seen.add(candidate)
                    todo.append(candidate)
                    yield str(candidate.relative_to(folder)), candidate


def _imports(file: Path) -> set[str]:
    """The top-level names a Python file imports (absolute imports only)."""
    try:
        tree = ast.parse(read_bounded(file, MAX_SPEC_BYTES).decode("utf-8"), filename=str(file))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def requirements(files: list[Path]) -> list[str]:
    """Pinned requirements (``scikit-learn==1.6.1``) for what ``files`` import.

    A module of the standard library, or one shipped beside the files, needs nothing; an
    installed package is pinned at the version installed here, where the trials ran; a
    module found nowhere is left to the user (the image build will say).
    """
    shipped = {f.stem for f in files}
    owners = metadata.packages_distributions()
    pinned = set()
    for file in files:
        if file.suffix != ".py":
            continue
        for name in _imports(file) - shipped - set(sys.stdlib_module_names):
            for distribution in owners.get(name, []):
                pinned.add(f"{distribution}=={metadata.version(distribution)}")
    return sorted(pinned, key=str.lower)
