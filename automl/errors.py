"""The exceptions automl raises on purpose; anything else is a bug."""

from __future__ import annotations

import signal

__all__ = ["AutomlError", "Terminated"]


class AutomlError(Exception):
    """Base class of every error automl raises for bad input or a failed operation.

    The CLI prints these without a traceback; any other exception is a bug in automl.
    """


class Terminated(SystemExit):
    """SIGTERM stopped a local run: its running trials were killed and recorded as Killed.

    Raised by :func:`automl.run` and :func:`automl.tune` once every finished trial is kept and
    the study is consistent; running the same experiment again resumes it. It is a
    ``SystemExit`` with status 143 (128 + SIGTERM), so a script that does not catch it ends
    as a program stopped by SIGTERM should, after its ``finally`` blocks, and without the
    traceback a crash would print; ``automl run`` exits 143 too.
    """

    def __init__(self, message: str) -> None:
        super().__init__(128 + signal.SIGTERM)
        self.message = message

    def __str__(self) -> str:
        return self.message
