"""Metric values as numbers, read as Katib's Go code reads them (``strconv.ParseFloat``).

Katib stores every reported value as text; its trial controller
(pkg/controller.v1beta1/trial/trial_controller_util.go ``getMetrics``) takes min and max over
the values ``strconv.ParseFloat(value, 64)`` accepts. Python's ``float`` accepts more: spaces
around the number (``" 0.5"``, which a JSON metrics file can carry), digit separators
(``1_000``), and ``1e400`` (Go: out of range, an error), so it is not used directly.
"""

from __future__ import annotations

import re

__all__ = ["parse_float"]

_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_HEX = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+",
                  re.ASCII)
_SPECIAL = {"inf": float("inf"), "+inf": float("inf"), "-inf": float("-inf"),
            "infinity": float("inf"), "+infinity": float("inf"), "-infinity": float("-inf"),
            "nan": float("nan")}


def parse_float(text: str) -> float | None:
    """``text`` as a float64 when Go's ``strconv.ParseFloat`` accepts it, else None.

    Example:
        >>> parse_float("-7.53e-05"), parse_float(" 0.5"), parse_float("1e400")
        (-7.53e-05, None, None)
    """
    special = _SPECIAL.get(text.lower())
    if special is not None:
        return special
    if _DECIMAL.fullmatch(text):
        value = float(text)
    elif _HEX.fullmatch(text):
        try:
            value = float.fromhex(text)
        except OverflowError:
            return None
    else:
        return None
    # Go returns ±Inf with ErrRange for a finite text too large for a float64.
    return None if value in (float("inf"), float("-inf")) else value
