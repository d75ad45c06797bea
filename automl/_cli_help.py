"""``automl --help`` at any width: paragraphs that wrap whole, one example a line, no
``<bool>`` beside a flag.

Typer keeps a docstring's line breaks inside a paragraph, so a terminal of 80 columns shows
each source line wrapped on its own (``... keeps`` / ``what`` / ``finished.``); epilogs say
several examples joined by ``|``, which wrap mid-example; and typer names a flag's type
(``<bool>``) though a flag takes no value. :func:`tidy_help` fixes every command of an app
at once, so that a new command cannot bring the raggedness back.
"""

from __future__ import annotations

import inspect
from typing import Any

import typer
from typer.core import TyperCommand

__all__ = ["tidy_help"]

_EXAMPLES = "  |  "
"""How an epilog joins its examples: each gets a line of its own."""


def tidy_help(app: typer.Typer) -> None:
    """Reflow the help of every command of ``app`` (and of its sub-apps) as said above."""
    for info in app.registered_commands:
        text = info.help or inspect.getdoc(info.callback) or ""
        info.help = reflow(text)
        if info.epilog:
            info.epilog = info.epilog.replace(_EXAMPLES, "\n\n")
        if info.cls in (None, TyperCommand):  # typer's own: ours says flags right
            info.cls = _FlagCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            tidy_help(group.typer_instance)


def reflow(text: str) -> str:
    """``text`` with each paragraph on one line (paragraphs apart by a blank line).

    Example:
        >>> reflow("One\\nparagraph.\\n\\nAnother.")
        'One paragraph.\\n\\nAnother.'
    """
    return "\n\n".join(" ".join(p.split()) for p in text.split("\n\n"))


class _FlagCommand(TyperCommand):
    """A command whose flags (``--quiet``, ``--help``) show no type: they take no value."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            _no_type(param)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            _no_type(option)
        return option


def _no_type(param: Any) -> None:
    if getattr(param, "is_flag", False) and param.metavar is None:
        param.metavar = ""
