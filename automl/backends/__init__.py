"""The backends an experiment runs on, by name: ``local`` and ``katib``.

Example:
    >>> from automl.backends import get_backend
    >>> get_backend("katib", namespace="kubeflow").print_status(None)
"""

from __future__ import annotations

from typing import Any

from automl.backends._base import Backend
from automl.backends._katib import KatibBackend
from automl.backends._local import LocalBackend
from automl.errors import AutomlError

__all__ = ["BACKENDS", "Backend", "KatibBackend", "LocalBackend", "backend_class",
           "get_backend"]

BACKENDS: dict[str, type[Backend]] = {"local": LocalBackend, "katib": KatibBackend}


def backend_class(name: str) -> type[Backend]:
    """The backend registered as ``name``.

    Raises:
        AutomlError: For a name not registered (the message lists those that are).
    """
    try:
        return BACKENDS[name]
    except KeyError:
        raise AutomlError(f"unknown backend {name!r}; expected one of: "
                          f"{', '.join(BACKENDS)}") from None


def get_backend(name: str, **options: Any) -> Backend:
    """The backend ``name``, built from the options it takes; the others are ignored.

    Callers pass every option the user gave (``storage`` and ``namespace`` alike), so that
    one call site serves every backend; options left at None keep the backend's default.
    """
    cls = backend_class(name)
    return cls(**{k: v for k, v in options.items() if k in cls.options and v is not None})
