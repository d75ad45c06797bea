"""Reading a file a trial wrote, bounded: never blocking, never past a size limit.

A trial can leave anything at a path automl reads: a FIFO (a plain ``open()`` waits for a
writer, and no deadline, SIGTERM or Ctrl-C ends that wait), a socket, a device, a folder,
a symbolic link to a file that does not exist, or a sparse file of 20 GB (read to its end:
a minute of zeros, or all of memory). Every reader of a trial's files (the metrics
collectors, ``automl logs``, a failed trial's last words, the results readers) opens it here:
the path is examined before it is opened (a device is never opened, which on some devices
does something), opened with ``O_NONBLOCK`` (a FIFO opens at once), and examined again once
open, so that what is read is what was examined. Anything but a regular file, or a file over
the reader's size limit, is refused with :class:`UnreadableFile`, whose message names the file
and says why in one line. Time limits are the callers': they read in slices and check their
deadline between them. A file a user names as input (an experiment, a pipeline) can be any of
these too, and is read whole through :func:`read_bounded`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from automl.errors import AutomlError

__all__ = ["CHUNK", "MAX_BYTES", "UnreadableFile", "describe_size", "not_regular",
           "open_trial_file", "read_bounded", "read_lines", "tail_bytes"]

CHUNK = 1 << 20
"""Bytes read at a time."""
MAX_BYTES = 1 << 30
"""The size limit of a metrics file, an event file or ``observations.jsonl``: 1 GiB.

Katib's collectors read such a file whole into a container limited to 100 MiB of memory
(1 GiB for TensorFlowEvent), so on a cluster a larger file fails its trial too.
"""

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


class UnreadableFile(AutomlError, OSError):
    """A file a trial wrote is not one automl reads: the message names it and says why.

    It is an ``OSError`` too, so that a reader for which any unreadable file means "no
    data" handles it as it handles a missing one.

    Args:
        path: The file.
        reason: Why it is not read (``reason``, for a caller that names the file its way).
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.reason = reason


def open_trial_file(path: Path, *, max_bytes: int | None = MAX_BYTES) -> BinaryIO:
    """Open a file a trial wrote for reading, without ever waiting.

    Args:
        path: The file (a symbolic link is followed).
        max_bytes: Refuse a file larger than this; None: no limit (the caller reads a
            bounded part of it).

    Returns:
        The open file, unbuffered, at offset 0.

    Raises:
        FileNotFoundError: Nothing is at ``path``.
        UnreadableFile: It is not a regular file (a folder, FIFO, socket or device, or a
            symbolic link to nothing), it is larger than ``max_bytes``, or it cannot be read.
    """
    try:
        _check(path, os.stat(path), max_bytes)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        if os.path.islink(path):
            raise UnreadableFile(path, f"a symbolic link to {os.readlink(path)}, which "
                                       "does not exist") from None
        raise
    except UnreadableFile:
        raise
    except OSError as exc:
        raise UnreadableFile(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        # Again on what was opened: the path may have been replaced since it was examined.
        _check(path, os.fstat(fd), max_bytes)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb", buffering=0)


def not_regular(mode: int) -> str | None:
    """What a file of ``mode`` (``os.stat``'s) is when not a regular file (``a FIFO (named
    pipe)``, ``a folder``), None for a regular file: opening one to read may wait forever."""
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "an unusual file")


def _check(path: Path, info: os.stat_result, max_bytes: int | None) -> None:
    kind = not_regular(info.st_mode)
    if kind is not None:
        raise UnreadableFile(path, f"{kind}, not a regular file")
    if max_bytes is not None and info.st_size > max_bytes:
        raise UnreadableFile(path, _too_large(describe_size(info.st_size), max_bytes))


def _too_large(size: str, max_bytes: int) -> str:
    return f"{size}, more than the {describe_size(max_bytes)} automl reads of such a file"


def read_bounded(path: Path, max_bytes: int) -> bytes:
    """The whole of a file a user named as input (an experiment or a pipeline file), bounded.

    Examined and opened as :func:`open_trial_file` does (a FIFO, a device such as
    ``/dev/zero``, a folder or a file over ``max_bytes`` is refused before anything is read),
    and read to at most ``max_bytes``: a file whose size says nothing (``/proc``) or that
    grows while read is refused too.

    Raises:
        FileNotFoundError: Nothing is at ``path``.
        UnreadableFile: As :func:`open_trial_file`.
    """
    with open_trial_file(path, max_bytes=max_bytes) as file:
        data = _read_to(file, max_bytes + 1)
    if len(data) > max_bytes:
        raise UnreadableFile(path, _too_large("larger than its size said", max_bytes))
    return data



def describe_size(size: int) -> str:
    """``size`` bytes in words: ``20.0 GiB``, ``512 bytes``."""
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024:
            return f"{value:.1f} {unit}"
    return f"{value / 1024:.1f} TiB"


def tail_bytes(file: BinaryIO, count: int) -> bytes:
    """The last ``count`` bytes of an open file (fewer if it is shorter)."""
    size = os.fstat(file.fileno()).st_size
    file.seek(max(0, size - count))
    return _read_to(file, size)


def _read_to(file: BinaryIO, end: int) -> bytes:
    """From the file's offset up to ``end``, in chunks (an unbuffered read may be short)."""
    parts = []
    position = file.tell()
    while position < end:
        data = file.read(min(CHUNK, end - position))
        if not data:
            break
        parts.append(data)
        position += len(data)
    return b"".join(parts)


def read_lines(file: BinaryIO, max_line: int) -> Iterator[tuple[int, bytes, bool]]:
    """The lines of an open file: (number from 1, the line without its newline, whole).

    Memory stays bounded: a line longer than ``max_line`` comes as its first ``max_line``
    bytes with ``whole`` False. The last line is not whole when it has no newline (a
    writer stopped in the middle of it).
    """
    number, line, long = 0, bytearray(), False
    while True:
        data = file.read(CHUNK)
        if not data:
            break
        start = 0
        while True:
            end = data.find(b"\n", start)
            part = data[start:] if end < 0 else data[start:end]
            room = max_line - len(line)
            if len(part) > room:
                long = True
            line += part[:room]
            if end < 0:
                break
            number += 1
            yield number, bytes(line), not long
            line, long = bytearray(), False
            start = end + 1
    if line or long:
        yield number + 1, bytes(line), False
