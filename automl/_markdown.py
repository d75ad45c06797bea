"""Markdown tables whose cells hold any text: a value never breaks the table it stands in."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["cell", "table"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def cell(value: object) -> object:
    """``value`` as a Markdown table cell: ``|`` escaped, line breaks as ``<br>``.

    A backslash is escaped too, so that one ending a value cannot escape the ``|`` after it.
    Anything but a text is left to the table writer.

    Example:
        >>> cell("a|b\\\\")
        'a\\\\|b\\\\\\\\'
    """
    if not isinstance(value, str):
        return value
    return _LINE_BREAK.sub("<br>", value.replace("\\", "\\\\").replace("|", "\\|"))


def table(frame: pd.DataFrame, **options: Any) -> str:
    """``frame`` as a Markdown (pipe) table, its texts and column names made :func:`cell` s,
    a missing value an empty cell.

    Args:
        frame: The table.
        **options: Passed to ``DataFrame.to_markdown`` (``floatfmt``...).
    """
    shown = frame.copy()
    texts = shown.select_dtypes(include=["object", "string"]).columns
    shown[texts] = shown[texts].map(cell)
    shown.columns = [cell(str(c)) for c in shown.columns]
    # a missing value (None, NaN, pd.NA, NaT) is an empty cell, not ``nan`` or ``<NA>``
    shown = shown.astype(object).where(shown.notna(), None)
    return shown.to_markdown(index=False, missingval="", **options)
