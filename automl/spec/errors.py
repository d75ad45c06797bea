"""Located spec errors: every problem names its file, line, field path and expectation."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from automl.errors import AutomlError

__all__ = ["Finding", "Issue", "SpecError", "SpecWarning", "field_ref", "render_path",
           "resolve_refs"]

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Finding:
    """A problem at a field path of the spec, before it is located in a file."""

    path: Path
    message: str

    @property
    def text(self) -> str:
        """The message with references to other fields written as automl paths."""
        return resolve_refs(self.message, render_path)

    def __str__(self) -> str:
        return f"{render_path(self.path) or '(top level)'}: {self.text}"


@dataclass(frozen=True)
class Issue:
    """A problem located in the source the spec came from.

    Attributes:
        path: The field path as the user wrote it, e.g. ``parameters[2].max`` (or the Katib
            path, e.g. ``spec.parameters[2].feasibleSpace.max``, for a Katib Experiment).
        message: What is wrong and what was expected.
        file: The file the field came from, if it came from a file.
        line: The 1-based line in that file.
    """

    path: str
    message: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file or "<spec>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.path or '(top level)'}: {self.message}"


class SpecError(AutomlError, ValueError):
    """An experiment spec that Katib (or automl) would refuse.

    Attributes:
        issues: Every problem found, each with its file, line and field path.
    """

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))

    def __reduce__(self) -> tuple[type[SpecError], tuple[list[Issue]]]:
        # Rebuilt from its issues, not its message, when it crosses a process boundary.
        return type(self), (self.issues,)


class SpecWarning(UserWarning):
    """A spec Katib accepts that will likely not do what was meant (a Python warning).

    Attributes:
        issue: What, where: file, line and field path.
    """

    def __init__(self, issue: Issue) -> None:
        self.issue = issue
        super().__init__(str(issue))


def render_path(path: Path) -> str:
    """Render ``("parameters", 2, "max")`` as ``parameters[2].max``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_REF = re.compile("\x1f(.*?)\x1f")


def field_ref(*path: str | int) -> str:
    """A reference to another field inside a message, shown as the user's source names it.

    ``f"must be <= {field_ref('budget', 'max_trials')}"`` reads ``budget.max_trials`` for an
    automl file and ``spec.maxTrialCount`` for a Katib Experiment.
    """
    return "\x1f" + json.dumps(path) + "\x1f"


def resolve_refs(message: str, show: Callable[[Path], str]) -> str:
    """Replace each :func:`field_ref` in ``message`` by ``show(path)``."""
    return _REF.sub(lambda m: show(tuple(json.loads(m.group(1)))), message)
