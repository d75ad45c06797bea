"""Can a trial run in the image it runs in? The one check of the files its command names.

A trial's command names its program as a path on this machine (``examples/quickstart/
train.py``). In a container that path exists only if the image holds the file. Where that
matters, one check answers, with one sentence per file that says what to do:

- ``validate --katib`` and ``run --backend katib`` (and a pipeline's Katib tuning step): each
  trial runs in its own ``trial.image``. A stock image (Docker Hub's official ones, such as
  ``python:3.11-slim``) holds no file of this project; another image may, so it is trusted.
- ``pipeline compile`` with the local backend: the trials run inside the tuning step's
  image, which holds what ``automl pipeline image`` copied in (its build manifest) and
  nothing else.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl._fs import is_inside
from automl.spec.trial import find_containers

if TYPE_CHECKING:
    from automl.spec import ExperimentSpec

__all__ = ["WORKDIR", "command_modules", "command_paths", "command_values", "command_words",
           "image_path", "is_stock_image",
           "is_system_program", "local_words", "step_image_problems", "trial_image_problems"]

WORKDIR = "/workspace"
"""The working directory of an image ``automl pipeline image`` builds: a relative trial path
is found under it."""

_PROGRAMS = (".py", ".sh", ".R", ".jl", ".pl", ".rb")
_HUB_LIBRARY = ("docker.io/library/", "index.docker.io/library/", "library/")
_HUB = ("docker.io/", "index.docker.io/")
"""Docker Hub's own names: ``docker.io/python`` (no owner) is its official ``library/python``."""
_SYSTEM = ("/bin", "/sbin", "/lib", "/lib64", "/usr", "/etc")
"""The operating system's folders: an image has its own (of its own distribution)."""
_INTERPRETER = re.compile(r"python[0-9.]*")
"""Any Python a trial names (a virtualenv's, pyenv's): the image's own runs the trial."""
_SHELL = re.compile(r"(ba|da|k|z|a)?sh")
_SCRIPT_FLAG = re.compile(r"-[a-z]*c[a-z]*")
"""``sh -c TEXT``, also with other one-letter flags (``bash -ec TEXT``)."""


def command_words(words: list[str]) -> list[str]:
    """The command's words, a shell's script (``sh -c "python train.py"``) split into its own
    words as the shell splits them, since the files it names are the trial's all the same."""
    if not words or _SHELL.fullmatch(posixpath.basename(words[0])) is None:
        return list(words)
    for i, word in enumerate(words[1:-1], start=1):
        if _SCRIPT_FLAG.fullmatch(word):
            try:
                script = shlex.split(words[i + 1], comments=True)
            except ValueError:  # an unclosed quote: the shell refuses it, nothing to find
                script = []
            return [*words[:i + 1], *script, *words[i + 2:]]
    return list(words)


def command_modules(words: list[str]) -> list[str]:
    """The modules a Python in the command runs (``python -m pkg.train``), a shell's script
    included."""
    words = command_words(words)
    modules = []
    for i, word in enumerate(words):
        if _INTERPRETER.fullmatch(posixpath.basename(word)) is None:
            continue
        for j, option in enumerate(words[i + 1:], start=i + 1):
            if option == "-m" and j + 1 < len(words):
                modules.append(words[j + 1])
            elif option.startswith("-m") and len(option) > 2:
                modules.append(option[2:])
            elif option in ("-W", "-X"):
                continue  # its value follows, then maybe -m
            elif not option.startswith("-") and words[j - 1] not in ("-W", "-X"):
                break  # the program's own words follow: not Python's options
    return modules


def command_values(words: list[str]) -> list[str]:
    """The words of a command that could name a file: an option's value (``--data=x``) on
    its own; none that holds a placeholder, is empty or is an option."""
    values = []
    for word in command_words(words):
        value = word.split("=", 1)[1] if word.startswith("-") and "=" in word else word
        if "${" in value or "$(" in value or not value or value.startswith("-"):
            continue
        values.append(value)
    return values


def command_paths(words: list[str], cwd: Path | None = None) -> list[str]:
    """The words of a command that are paths to files of this machine to ship.

    A word counts when it names a file under ``cwd`` (default: the current folder) or at its
    absolute path, or looks like a program (``src/train.py``) without one; an option's value
    (``--data=data/x.csv``) counts the same. A system program (:func:`is_system_program`)
    does not count: the image has its own.
    """
    here = Path(cwd) if cwd is not None else Path.cwd()
    found = [v for v in command_values(words) if not is_system_program(v)
             and ((here / v).is_file() or (v.endswith(_PROGRAMS) and "/" in v))]
    return list(dict.fromkeys(found))


def is_system_program(word: str) -> bool:
    """Whether a command word names a program the image has itself, never copied into it:
    anything in the system's folders (``/bin/sh``, ``/usr/bin/python3``) or a Python
    interpreter at any path (a virtualenv's ``.venv/bin/python``)."""
    path = posixpath.normpath(word)
    if posixpath.isabs(path) and any(path == f or path.startswith(f + "/") for f in _SYSTEM):
        return True
    return "/" in word and _INTERPRETER.fullmatch(posixpath.basename(path)) is not None


def image_path(word: str) -> str:
    """Where a path a trial names is in the image: an absolute one where it says, a relative
    one under :data:`WORKDIR` (``..`` resolved, as the trial's process resolves it there)."""
    return posixpath.normpath(posixpath.join(WORKDIR, word))


def is_stock_image(image: str) -> bool:
    """True for an official Docker Hub image (``python:3.11-slim``), which holds no project
    file: a name without a registry or an owner, also after ``docker.io/`` (as Docker reads
    ``docker.io/python``), or under ``docker.io/library/``."""
    name = image.split("@", 1)[0]
    repository = name.rsplit(":", 1)[0] if "/" not in name.rsplit(":", 1)[-1] else name
    for hub in _HUB:
        if repository.startswith(hub) and "/" not in repository[len(hub):]:
            return True
    return "/" not in repository or repository.startswith(_HUB_LIBRARY)


def trial_image_problems(spec: ExperimentSpec, cwd: Path | None = None) -> list[str]:
    """What stops the trials from running on Katib, each in its own image, as written.

    Args:
        spec: The experiment.
        cwd: The project folder, where the command's relative paths are looked up (default:
            the current folder); from the trial's ``working_dir`` when that is a folder of it.

    Returns:
        One sentence per file of this machine the primary container's command names (a
        path, absolute or relative, a shell's script's, or a module ``-m`` runs) while its
        image is a stock image, saying what to do; empty when none is found.
    """
    container = _cluster_container(spec)
    image = container.get("image") or ""
    if not image or not is_stock_image(image):
        return []  # an image of one's own may hold the files: only the cluster can tell
    project = Path(cwd) if cwd is not None else Path.cwd()
    workdir = container.get("workingDir") or ""
    here = project / workdir if workdir and (project / workdir).is_dir() and is_inside(
        project / workdir, project) else project
    words = [*(container.get("command") or []), *(container.get("args") or [])]
    named = [(word, word) for word in command_paths(words, here)
             if not word.startswith("/") or Path(word).is_file()]
    named += [(f"module {module} ({file})", file) for module in command_modules(words)
              if (file := _module_file(module, here))]
    return [f"experiment {spec.name!r}: the trial command names {word}"
            f"{f' in its working_dir {workdir}' if here != project else ''}, a file of this "
            f"{'project' if is_inside(here / file, project) else 'machine'} that the stock "
            f"image {image} does not hold, so every trial would fail on Katib: build an image "
            "with it ('automl pipeline image EXPERIMENT -o DIR --tag IMAGE' copies it to "
            f"{image_path(file)}) and set trial.image to IMAGE, or name a trial.image that "
            "holds it" for word, file in named]


def _module_file(module: str, here: Path) -> str:
    """The file or package folder of this project that ``python -m module`` runs from
    ``here`` (``pkg/train.py``, ``pkg/``), or "" when none is here."""
    path = module.replace(".", "/")
    top = module.split(".", 1)[0]
    for candidate in (f"{path}.py", f"{path}/", f"{top}/"):
        found = here / candidate
        if found.is_file() if candidate.endswith(".py") else found.is_dir():
            return candidate
    return ""


def step_image_problems(spec: ExperimentSpec, shipped: Collection[str],
                        cwd: Path | None = None) -> list[str]:
    """What stops the trials from running inside a pipeline's tuning step image, where the
    local engine runs them.

    Args:
        spec: The experiment the step tunes.
        shipped: The paths in the image that ``automl pipeline image`` copied in (empty when
            the image was not built by it).
        cwd: Where the command's relative paths are looked up (default: the current folder).

    Returns:
        One sentence per file the command names that the image does not ship.
    """
    problems = []
    for word in command_paths(local_words(spec), cwd):
        if image_path(word) not in shipped:
            how = ("'automl pipeline image', which copies it in"
                   if is_inside(Path(word), Path(cwd) if cwd is not None else Path())
                   else "'automl pipeline image --allow-outside PATH' (it is outside the "
                        "current folder, the project)")
            problems.append(
                f"experiment {spec.name!r}: the trial command names {word}, a file on this "
                f"machine that the tuning step's image does not ship: build the image with "
                f"{how}")
    return problems


def local_words(spec: ExperimentSpec) -> list[str]:
    """The command and arguments the local engine runs of a trial (primary container's, or
    ``trial.local``'s); none for a template in a ConfigMap, which names no file here."""
    from automl.errors import AutomlError
    from automl.local.job import local_container

    try:
        container = local_container(spec)
    except AutomlError:
        return []
    return [*container.get("command", []), *container.get("args", [])]


def _cluster_container(spec: ExperimentSpec) -> dict[str, Any]:
    """The primary container as Katib runs it: image, command, args (empty if unknown)."""
    trial = spec.trial
    if trial.is_container:
        return {"image": trial.image, "command": trial.command, "args": trial.args,
                "workingDir": trial.working_dir}
    for container in find_containers(trial.trial_spec or {}):
        if container.get("name") == trial.primary_container_name:
            return container
    return {}  # a template in a ConfigMap: its command is on the cluster
