"""Reading fields of a server's answer with checks: a missing or mistyped field is one
:class:`~automl._network.AnswerError` line naming it, never a KeyError or AttributeError.

An answer is parsed JSON (dicts and lists) or a generated client's model (kfp_server_api,
whose absent fields are ``None``); a path is dotted, ``"metadata.name"``.
"""

from __future__ import annotations

from typing import Any

from automl._network import EXIT_MALFORMED, AnswerError

__all__ = ["REQUIRED", "field", "records"]

REQUIRED: Any = object()
"""``field``'s default: the field must be there."""

_KINDS = {dict: "a mapping", list: "a list", str: "a text", int: "a number"}


def field(answer: Any, path: str, kind: type, default: Any = REQUIRED) -> Any:
    """The value at ``path`` in ``answer``, of type ``kind``.

    Args:
        answer: A parsed JSON answer or a client model.
        path: Dotted field names.
        kind: The type the value must have.
        default: What an absent (or null) field gives; without it, absence is an error.

    Raises:
        AnswerError: When the field is absent (and required) or of another type, or a
            field on the way to it is not a mapping (exit status 1).
    """
    value = answer
    for name in path.split("."):
        if value is None:
            break
        if isinstance(value, dict):
            value = value.get(name)
        elif isinstance(value, (str, bytes, list, int, float, bool)):
            raise AnswerError(f"the answer's {path} is inside {_kind(value)}, not a mapping",
                              EXIT_MALFORMED)
        else:  # a client model: an absent field is None
            value = getattr(value, name, None)
    if value is None:
        if default is REQUIRED:
            raise AnswerError(f"the answer has no {path}", EXIT_MALFORMED)
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise AnswerError(f"the answer's {path} is {_kind(value)}, not "
                          f"{_KINDS.get(kind, kind.__name__)}", EXIT_MALFORMED)
    return value


def records(answer: Any, path: str, *fields: str) -> list[Any]:
    """The list at ``path`` (``[]`` when absent), each item a mapping with ``fields`` as texts.

    Raises:
        AnswerError: When it is not a list, or an item is not a mapping or lacks a field.
    """
    items = field(answer, path, list, [])
    for i, item in enumerate(items):
        for name in fields:
            try:
                field(item, name, str)
            except AnswerError as exc:
                raise AnswerError(f"item {i} of {path}: {exc}", exc.exit_code) from None
    return items


def _kind(value: Any) -> str:
    return next((text for t, text in _KINDS.items()
                 if isinstance(value, t) and not isinstance(value, bool)),
                type(value).__name__)
