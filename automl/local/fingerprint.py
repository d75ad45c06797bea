"""What a Python-function trial runs, as a short digest the study keeps.

A notebook user edits the function and calls :func:`automl.tune` again with the same name.
The experiment file of a command trial changes with its command, which the study compares;
a function's trial template is the same whatever the function does, so the study keeps this
digest beside it and a changed function is refused instead of answered from old trials.

The digest covers the function's source (its bytecode where no source can be read), the
fixed values given to every call, and the plain values it reads from its closure, defaults
and module globals (numbers, text, and lists, tuples or dicts of them). Other objects it
reads, and functions it calls, are not followed: their ``repr`` may change from run to run
(an address), and following every call would compare the world.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import textwrap
import types
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["function_fingerprint"]

_PLAIN = (int, float, complex, str, bytes, bool, type(None))


def function_fingerprint(function: Callable[..., Any], fixed: Mapping[str, Any]) -> str:
    """A digest of ``function`` and ``fixed``: equal for the same code and plain values.

    Args:
        function: The trial function (a ``def``, a lambda, a ``functools.partial``, or a
            callable object).
        fixed: The values :func:`automl.tune` passes to every call.
    """
    parts: list[str] = [_plain_text(dict(fixed))]
    parts += _describe(function)
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def _describe(function: Any) -> list[str]:
    if isinstance(function, functools.partial):
        return [*_describe(function.func), _plain_text(list(function.args)),
                _plain_text(dict(function.keywords))]
    target = function
    if not isinstance(function, (types.FunctionType, types.MethodType)):
        target = type(function).__call__  # a callable object: its class's method
    code = getattr(inspect.unwrap(target), "__code__", None)
    parts = [_source(target, code)]
    if code is not None:
        inner = inspect.unwrap(target)
        parts.append(_plain_text(getattr(inner, "__defaults__", None)))
        parts.append(_plain_text(getattr(inner, "__kwdefaults__", None)))
        cells = getattr(inner, "__closure__", None) or ()
        parts.append(_plain_text([_cell(c) for c in cells]))
        namespace = getattr(inner, "__globals__", {})
        parts.append(_plain_text({n: namespace[n] for n in sorted(_names(code))
                                  if n in namespace and _is_plain(namespace[n])}))
    return parts


def _source(function: Any, code: types.CodeType | None) -> str:
    try:
        return textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):  # typed at a prompt: no file to read the source from
        return _code_text(code) if code is not None else type(function).__qualname__


def _code_text(code: types.CodeType) -> str:
    """The bytecode and constants, without file names or line numbers (which move)."""
    consts = [_code_text(c) if isinstance(c, types.CodeType) else repr(c)
              for c in code.co_consts]
    return f"{code.co_code.hex()}|{consts}|{code.co_names}|{code.co_varnames}"


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _cell(cell: types.CellType) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # a cell not yet filled
        return None


def _is_plain(value: Any) -> bool:
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_is_plain(k) and _is_plain(v) for k, v in value.items())
    return False


def _plain_text(value: Any) -> str:
    """``value`` as text where it is plain; another object only by its type."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{_plain_text(k)}:{_plain_text(v)}"
                              for k, v in sorted(value.items(), key=lambda kv: repr(kv[0]))) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_plain_text(v) for v in value) + "]"
    if isinstance(value, _PLAIN):
        return repr(value)
    return f"<{type(value).__qualname__}>"
