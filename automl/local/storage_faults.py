"""What a failed storage operation means, said in one line: disk full, server gone, read-only.

Optuna wraps every database error in ``StorageInternalError`` whose message blames "invalid
data in the commit, e.g. exceeding max length", and SQLAlchemy's message runs for lines; the
cause is at the end of the exception's chain. :func:`diagnose` finds it there, and
:func:`storage_errors` turns it into a :class:`StorageError` (exit status 1) wherever the
engine or a reading command touches a storage. Anything it does not recognize is left to
propagate as it was: a bug shows its traceback.
"""

from __future__ import annotations

import errno
import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

from automl.errors import AutomlError
from automl.local.paths import DEFAULT_ROOT, JOURNAL

__all__ = ["Fault", "StorageError", "diagnose", "shown", "storage_command", "storage_errors"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)
# SQLSTATE classes of a connection that is gone or refused: 08 connection exception,
# 57P operator intervention (terminated, shut down, restarting, idle-session timeout).
_GONE_STATES = ("08", "57P")


class StorageError(AutomlError):
    """A storage automl cannot use: exit status 2 for a wrong path, 1 when I/O fails.

    Args:
        message: What is wrong, in one line.
        exit_code: The CLI's exit status.
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Fault:
    """A storage failure understood: what happened, and what the user can do about it."""

    cause: str
    remedy: str


def diagnose(exc: BaseException) -> Fault | None:
    """The fault behind ``exc`` (searched along its causes), or None when it is none of ours.

    Recognized: a full disk or file size limit, a read-only file, folder or file system (and
    any other failed system call), a SQLite database another process holds locked or cannot
    open, and a database server that closed, refused or lost the connection.
    """
    seen: set[int] = set()
    chain: BaseException | None = exc
    while chain is not None and id(chain) not in seen:
        seen.add(id(chain))
        fault = _one(chain)
        if fault is not None:
            return fault
        # SQLAlchemy keeps the driver's exception in .orig; Optuna raises "from" it.
        chain = getattr(chain, "orig", None) or chain.__cause__ or chain.__context__
    return None


def _one(exc: BaseException) -> Fault | None:
    if isinstance(exc, OSError) and exc.errno is not None:
        where = f" ({exc.filename})" if exc.filename else ""
        text = f"{exc.strerror or exc}{where}"
        if exc.errno in _FULL:
            return Fault(text, "make room")
        if exc.errno in _READ_ONLY:
            return Fault(text, "make the storage and its folder writable")
        return Fault(text, "check the storage's file and its disk")
    module = type(exc).__module__
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if module == "sqlite3":
        return _sqlite(detail)
    if module.startswith(("psycopg", "psycopg2", "pg8000", "asyncpg")):
        state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
        # A connection error raised by the client itself (refused, closed) has no SQLSTATE.
        if (state or "").startswith(_GONE_STATES) or (
                state is None and type(exc).__name__ in ("OperationalError", "InterfaceError")):
            return Fault(f"the database server refused or closed the connection ({detail})",
                         "check that the server is up and reachable")
    return None


def _sqlite(detail: str) -> Fault | None:
    lowered = detail.lower()
    if "disk is full" in lowered:
        return Fault(f"the disk is full ({detail})", "make room")
    if "readonly" in lowered or "read-only" in lowered:
        return Fault(f"the database file or its folder is read-only ({detail})",
                     "make the storage and its folder writable")
    if "locked" in lowered:
        return Fault(f"another process holds the database locked ({detail})",
                     "wait for it to finish, or stop it")
    if "unable to open" in lowered or "disk i/o error" in lowered:
        return Fault(f"the database file cannot be used ({detail})",
                     "check that it and its folder exist and the disk works")
    return None


@contextmanager
def storage_errors(line: str) -> Iterator[None]:
    """A storage failure inside becomes one line: ``line`` with its ``{cause}`` and ``{remedy}``.

    Args:
        line: The message, e.g. ``"cannot read storage x.db: {cause}; {remedy}"``.

    Raises:
        StorageError: With exit status 1, for a fault :func:`diagnose` recognizes.
    """
    try:
        yield
    except AutomlError:
        raise
    except Exception as exc:
        fault = diagnose(exc)
        if fault is None:
            raise
        # replace, not format: a storage path may hold braces
        raise StorageError(line.replace("{cause}", fault.cause).replace("{remedy}", fault.remedy),
                           1) from None


def storage_command(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """A command on a storage (its ``storage`` and ``root`` arguments) whose faults are one line.

    The line names the storage: ``storage <it>: <cause>; <remedy>``.
    """
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        given = bound.arguments
        storage = given.get("storage") or Path(given.get("root") or DEFAULT_ROOT) / JOURNAL
        with storage_errors(f"storage {shown(str(storage))}: {{cause}}; {{remedy}}"):
            return func(*args, **kwargs)

    return wrapper


def shown(url: str) -> str:
    """A storage ``url`` (or path) without its password, for messages."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url
