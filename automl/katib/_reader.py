"""Walking a Katib Experiment while remembering which Katib field each of our fields came from."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from automl.spec.errors import NAME, Finding, Path

__all__ = ["KatibReader"]


class KatibReader:
    """Collects the origin of every converted field and the problems found on the way.

    Attributes:
        origin: Our field path → the Katib field path it came from (also for absent fields,
            so that "required" errors point at the Katib name).
        findings: Problems in Katib terms (field paths of the Katib object).
    """

    def __init__(self) -> None:
        self.origin: dict[Path, Path] = {}
        self.findings: list[Finding] = []

    def mapping(self, value: Any, at: Path, allowed: Iterable[str] = ()) -> dict[str, Any]:
        """``value`` as a mapping ({} when absent), with unknown keys reported."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.findings.append(Finding(at, f"expected a mapping, got {value!r}"))
            return {}
        allowed = list(allowed)
        if allowed:
            for key in value:
                if key not in allowed:
                    close = difflib.get_close_matches(str(key), allowed, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    self.findings.append(
                        Finding((*at, key), f"unknown field{hint}; Katib ignores it. Expected "
                                            f"one of: {', '.join(allowed)}"))
        return value

    def sequence(self, value: Any, at: Path) -> list[Any]:
        """``value`` as a list ([] when absent)."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.findings.append(Finding(at, f"expected a list, got {value!r}"))
            return []
        return value

    def copy(self, src: dict[str, Any], key: str, out: dict[str, Any], ours: Path,
             katib: Path) -> None:
        """Copy ``src[key]`` to ``out[ours[-1]]`` when present; record the origin always."""
        self.origin[ours] = (*katib, key)
        if key in src:
            out[ours[-1]] = src[key]

    def named_values(self, value: Any, at: Path, ours: Path) -> dict[str, Any]:
        """Katib's ``[{name, value}]`` lists (settings, metric strategies) as a mapping."""
        result: dict[str, Any] = {}
        for i, item in enumerate(self.sequence(value, at)):
            entry = self.mapping(item, (*at, i), ("name", "value"))
            name = entry.get("name")
            if not isinstance(name, str) or not name:
                self.findings.append(Finding((*at, i, "name"), "required"))
                continue
            if name in result:
                self.findings.append(Finding((*at, i, "name"), f"{name!r} is given twice"))
            result[name] = entry.get("value")
            self.origin[(*ours, name)] = (*at, i, "value")
            self.origin[(*ours, name, NAME)] = (*at, i, "name")
        return result
