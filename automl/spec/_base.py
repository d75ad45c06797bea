"""The pydantic base of every spec model and the small value types they share."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainValidator

__all__ = ["Number", "Scalar", "SpecModel", "as_number", "is_number"]


class SpecModel(BaseModel):
    """Immutable, strict about unknown keys (a typo is an error, not silently ignored)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        coerce_numbers_to_str=True,
    )


def as_number(value: Any) -> int | float:
    """Parse an int or float from a number or a numeric string (Katib writes numbers as strings).

    Raises:
        ValueError: For anything that is not a finite number.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"expected a number, got {value!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    return value


def is_number(value: Any) -> bool:
    """Whether :func:`as_number` reads ``value`` (a number, or a numeric string)."""
    try:
        as_number(value)
    except ValueError:
        return False
    return True


def _scalar(value: Any) -> str | int | float:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"expected a string or a number, got {value!r}")
    return value


Number = Annotated[int | float, PlainValidator(as_number)]
"""An int or float; numeric strings such as Katib's ``"0.01"`` are parsed."""

Scalar = Annotated[str | int | float, PlainValidator(_scalar)]
"""A string or a number, as Katib's list values and algorithm settings are."""
