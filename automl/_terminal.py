"""Text from trials and experiment files, made safe to show on a terminal.

Parameter values, metric texts (a DARTS genotype), trial reasons and names are data: Rich must
not read ``[red]`` or ``[/]`` in them as markup (a stray closing tag raises ``MarkupError``),
and the terminal must not obey an escape sequence in them (``\\x1b[31m`` recolours everything
after it, ``\\x1b]0;...\\x07`` retitles the window, ``\\r`` overwrites the line). Every display
path passes such text through :func:`visible` (plain output) or :func:`plain` (Rich).
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

__all__ = ["plain", "visible"]

_KEPT = "\n\t"  # they lay text out; they cannot restyle the terminal


def visible(value: object) -> str:
    """``str(value)`` with control characters written as ``repr`` writes them (``\\x1b``).

    Example:
        >>> visible("\\x1b[31mred\\r")
        '\\\\x1b[31mred\\\\r'
    """
    text = str(value)
    if text.isprintable():
        return text
    return "".join(repr(c)[1:-1] if c not in _KEPT and unicodedata.category(c) == "Cc" else c
                   for c in text)


def plain(value: object, style: str = "") -> Text:
    """A Rich Text of :func:`visible` ``value``: shown as written, never read as markup."""
    from rich.text import Text

    return Text(visible(value), style=style)
