"""``automl --help`` at any width: paragraphs that wrap whole, one example a line, no
``<bool>`` beside a flag.

Typer keeps a docstring's line breaks inside a paragraph, so a terminal of 80 columns shows
each source line wrapped on its own (``... keeps`` / ``what`` / ``finished.``); epilogs say
several examples joined by ``|``, which wrap mid-example; and typer names a flag's type
(``<bool>``) though a flag takes no value. :func:`tidy_help` fixes every command of an app
at once, so that a new command cannot bring the raggedness back.

Rich's boxes are for a terminal: help sent to a pipe or a file (``automl --help | less``), and
a usage error whose stderr is not a terminal, are Click's plain text (``Usage: ...`` /
``Error: ...``), as every other line automl prints to a pipe.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.models import DefaultPlaceholder

__all__ = ["on_terminal", "tidy_help"]

_EXAMPLES = "  |  "
"""How an epilog joins its examples: each gets a line of its own."""


def tidy_help(app: typer.Typer) -> None:
    """Reflow the help of every command of ``app`` (and of its sub-apps) as said above."""
    cls = app.info.cls
    if isinstance(cls, DefaultPlaceholder) or cls in (None, TyperGroup):  # typer's own
        app.info.cls = _FlagGroup
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


class _Flags:
    """What a command and a group share: flags (``--quiet``, ``--help``) show no type, since
    they take no value; the help is in Rich's boxes on a terminal only."""

    rich_markup_mode: Any
    params: list[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            _no_type(param)
        self.boxed = self.rich_markup_mode

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            _no_type(option)
        return option

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.rich_markup_mode = self.boxed if on_terminal(sys.stdout) else None
        super().format_help(ctx, formatter)  # type: ignore[misc]


class _FlagCommand(_Flags, TyperCommand):
    """A command as :class:`_Flags` says."""


class _FlagGroup(_Flags, TyperGroup):
    """A group of commands as :class:`_Flags` says; it runs them, so it also chooses how a
    usage error is said: in a box only when stderr is a terminal."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # typer says a usage error with the markup mode of the command it runs
        self.rich_markup_mode = self.boxed if on_terminal(sys.stderr) else None
        return super().main(*args, **kwargs)


def on_terminal(stream: Any) -> bool:
    """Whether ``stream`` ends on a terminal, where Rich's boxes are read (not parsed)."""
    return stream.isatty()


def _no_type(param: Any) -> None:
    if getattr(param, "is_flag", False) and param.metavar is None:
        param.metavar = ""
