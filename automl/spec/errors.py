"""Located spec errors: every problem names its file, line, field path and expectation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from automl.errors import AutomlError

__all__ = ["Finding", "Issue", "SpecError", "render_path"]

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Finding:
    """A problem at a field path of the spec, before it is located in a file."""

    path: Path
    message: str


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


def render_path(path: Path) -> str:
    """Render ``("parameters", 2, "max")`` as ``parameters[2].max``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
