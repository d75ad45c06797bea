"""Typed algorithm settings: Katib passes every setting as a string; each service parses it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Setting", "choice", "floating", "integer", "setting_text", "text"]


def setting_text(value: Any) -> str:
    """A value as Katib's manifests write it: a string, numbers without a needless ``.0``."""
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


@dataclass(frozen=True)
class Setting:
    """One algorithm setting: how to parse it and what values the Katib service accepts.

    Attributes:
        parse: Turns the written value (a string from Katib, or a YAML scalar) into the typed
            value; raises ValueError when it cannot.
        accepts: True when the typed value is allowed.
        expected: What is allowed, in words, for error messages.
        required: The service refuses the experiment without it.
        none_allowed: The literal string ``None`` is accepted (some ENAS/DARTS settings).
    """

    parse: Callable[[Any], Any]
    accepts: Callable[[Any], bool]
    expected: str
    required: bool = False
    none_allowed: bool = False

    def problem(self, value: Any) -> str | None:
        """Return what is wrong with ``value``, or None when the service accepts it."""
        if self.none_allowed and value == "None":
            return None
        try:
            typed = self.parse(value)
        except (TypeError, ValueError):
            return f"expected {self.expected}, got {value!r}"
        if not self.accepts(typed):
            return f"expected {self.expected}, got {value!r}"
        return None

    def typed(self, value: Any) -> Any:
        """``value`` parsed to its type when possible, else returned unchanged."""
        if self.none_allowed and value == "None":
            return value
        try:
            return self.parse(value)
        except (TypeError, ValueError):
            return value


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("bool")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not an integer")
        return int(value)
    return int(str(value).strip())


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("bool")
    number = float(str(value).strip()) if isinstance(value, str) else float(value)
    if not math.isfinite(number):
        raise ValueError("not finite")
    return number


def integer(minimum: int | None = None, *, required: bool = False,
            none_allowed: bool = False) -> Setting:
    """An integer, optionally at least ``minimum``."""
    expected = "an integer" if minimum is None else f"an integer >= {minimum}"
    if none_allowed:
        expected += " or None"
    return Setting(_int, lambda v: minimum is None or v >= minimum, expected, required,
                   none_allowed)


def floating(low: float | None = None, high: float | None = None, *, low_open: bool = False,
             high_open: bool = False, required: bool = False,
             none_allowed: bool = False) -> Setting:
    """A float in a range; open ends exclude the bound."""

    def accepts(v: float) -> bool:
        if low is not None and (v <= low if low_open else v < low):
            return False
        return not (high is not None and (v >= high if high_open else v > high))

    if low is not None and high is not None:
        opening, closing = "(" if low_open else "[", ")" if high_open else "]"
        expected = f"a number in {opening}{low:g}, {high:g}{closing}"
    elif low is not None:
        expected = f"a number {'>' if low_open else '>='} {low:g}"
    else:
        expected = "a number"
    if none_allowed:
        expected += " or None"
    return Setting(_float, accepts, expected, required, none_allowed)


def choice(*options: str) -> Setting:
    """One of ``options`` (compared as strings)."""
    return Setting(str, lambda v: v in options, "one of " + ", ".join(options))


def text(*, required: bool = False) -> Setting:
    """Any non-empty string."""
    return Setting(str, lambda v: bool(v.strip()), "a non-empty string", required)
