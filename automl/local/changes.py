"""What differs between the experiment a study was run with and the one run now, in words.

A rerun under the same name with another definition is refused (as Katib's webhook refuses an
edit of anything but the budget); the refusal names the parts that differ (``a different
search space``) and the first fields with their values before and now
(``parameters[0].max: 5 → 50``), so that the user sees which edit it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from automl.spec.errors import render_path

__all__ = ["Change", "changed_fields", "describe"]

SHOWN = 3
"""How many changed fields a message lists before ``and N more``."""

_PARTS = {"parameters": "search space", "nas": "search space", "objective": "objective",
          "algorithm": "algorithm", "early_stopping": "early stopping",
          "trial": "trial template", "resume_policy": "resume policy"}
_ABSENT = object()
_LONGEST = 40  # characters of one value shown; a whole trial template would bury the rest

Change = tuple[str, str]
"""The part that differs (``search space``) and the field, ``path: before → now``."""


def changed_fields(before: dict[str, Any], now: dict[str, Any],
                   ignore: tuple[str, ...] = ()) -> list[Change]:
    """The fields of two spec dumps (``model_dump`` by alias) that differ, in ``now``'s order.

    Args:
        before: The stored spec.
        now: This run's spec.
        ignore: Top-level keys that may differ (``budget``).
    """
    return [(_PARTS.get(str(path[0]), str(path[0]).replace("_", " ")),
             f"{render_path(path)}: {_shown(old)} → {_shown(new)}")
            for path, old, new in _walk(before, now, ()) if path[0] not in ignore]


def describe(changes: list[Change]) -> str:
    """``a different search space and algorithm (parameters[0].max: 5 → 50, ...)``."""
    parts = list(dict.fromkeys(part for part, _ in changes))
    named = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    fields = [field for _, field in changes[:SHOWN]]
    if len(changes) > SHOWN:
        fields.append(f"and {len(changes) - SHOWN} more")
    return f"a different {named} ({', '.join(fields)})"


def _walk(before: Any, now: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...],
                                                                          Any, Any]]:
    if isinstance(before, dict) and isinstance(now, dict):
        for key in [*now, *(k for k in before if k not in now)]:
            yield from _walk(before.get(key, _ABSENT), now.get(key, _ABSENT), (*path, key))
    elif isinstance(before, list) and isinstance(now, list):
        for index in range(max(len(before), len(now))):
            yield from _walk(before[index] if index < len(before) else _ABSENT,
                             now[index] if index < len(now) else _ABSENT, (*path, index))
    elif _value(before) != _value(now):  # a key a study from an older automl lacks: None
        yield path, before, now


def _value(value: Any) -> Any:
    return None if value is _ABSENT else value


def _shown(value: Any) -> str:
    if value is _ABSENT or value is None:
        return "none"
    text = value if isinstance(value, str) and value.strip() == value and value else (
        json.dumps(value, separators=(", ", ": ")))
    return text if len(text) <= _LONGEST else text[:_LONGEST - 1] + "…"
