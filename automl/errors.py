"""The exceptions automl raises on purpose; anything else is a bug."""

from __future__ import annotations

__all__ = ["AutomlError"]


class AutomlError(Exception):
    """Base class of every error automl raises for bad input or a failed operation.

    The CLI prints these without a traceback; any other exception is a bug in automl.
    """
