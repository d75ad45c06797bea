"""User-named paths on disk: joined under a folder without leaving it, trees copied as they are.

A path a user (or a trial) names is joined under a folder automl writes to: a pipeline image's
build context, a trial's own folder, a folder of trial logs. :func:`join_under` refuses one
that would land outside (absolute, ``..``, through a symlink leading out), so that a command
word such as ``--notes=../../../important.txt`` can never make automl write where it was not
asked to. :func:`copy_tree` copies a folder a trial wrote (a pbt checkpoint) without ever
following a symlink, and skips what cannot be copied as a file.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
from pathlib import Path, PurePath

from automl.errors import AutomlError

__all__ = ["PathEscape", "copy_tree", "is_inside", "join_under", "remove_tree"]

logger = logging.getLogger(__name__)


class PathEscape(AutomlError):
    """A user-named path that would lead out of the folder it is joined under (exit 2)."""

    exit_code = 2


def is_inside(path: Path, folder: Path) -> bool:
    """Whether ``path``, its symlinks followed, is ``folder`` or lies under it (followed too).

    A symlink loop is left as it is (``os.path.realpath``), never raised.
    """
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))


def join_under(folder: Path, relative: str | PurePath, what: str = "path") -> Path:
    """``folder / relative``, refused when it would leave ``folder``.

    Args:
        folder: The folder the path must stay in.
        relative: The user-named part.
        what: What ``relative`` is, for the error (``"trial name"``, ``"file"``).

    Returns:
        The joined path (its symlinks not resolved).

    Raises:
        PathEscape: When ``relative`` is absolute, has a ``..`` part, or leads through a
            symlink to outside ``folder``.
    """
    parts = PurePath(relative).parts
    if PurePath(relative).is_absolute() or ".." in parts or not parts:
        raise PathEscape(f"{what} {str(relative)!r} is not a relative path inside {folder}: "
                         "it may not be empty, absolute or contain '..'")
    path = Path(folder).joinpath(*parts)
    if not is_inside(path, folder):
        raise PathEscape(f"{what} {str(relative)!r} leads out of {folder} through a symlink "
                         f"(to {os.path.realpath(path)}); remove the link")
    return path


def copy_tree(source: Path, target: Path) -> list[str]:
    """Copy the folder ``source`` to the new folder ``target``, never following a symlink.

    A symlink is copied as a link: a relative one as it is, an absolute one into ``source`` made
    to point to the same place in ``target`` (so a link to a large dataset is not copied in
    full, and a dangling or looping link copies like any other). What cannot be copied as a
    file (a FIFO, socket or device, a file or folder that cannot be read) is skipped with a
    warning naming it: the folder copied is a trial's output (a pbt checkpoint), and an entry
    that cannot be copied now never can, so refusing would make every child of that trial
    fail, on every resume. Modes and times are kept, as ``shutil.copytree`` keeps them.

    Args:
        source: The folder to copy.
        target: Where the copy goes; it must not exist (its parents are made).

    Returns:
        One line per skipped entry, naming it and why (each also logged as a warning).

    Raises:
        OSError: When writing the copy fails (e.g. a full disk), with the path it failed on.
    """
    skipped: list[str] = []
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    _copy_folder(Path(source), Path(target), Path(source), Path(target), skipped)
    for line in skipped:
        logger.warning("not copied: %s", line)
    return skipped


def _copy_folder(source: Path, target: Path, top: Path, copy: Path, skipped: list[str]) -> None:
    target.mkdir()
    try:
        entries = sorted(os.scandir(source), key=lambda e: e.name)
    except OSError as exc:  # an empty folder stands for it, with the mode a new one gets
        skipped.append(f"{source}: {exc.strerror or exc}")
        return
    for entry in entries:
        here, there = Path(entry.path), target / entry.name
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError as exc:  # gone meanwhile
            skipped.append(f"{here}: {exc.strerror or exc}")
            continue
        if stat.S_ISLNK(mode):
            link = os.readlink(here)
            if os.path.isabs(link) and Path(link).is_relative_to(top):
                link = str(copy / Path(link).relative_to(top))
            os.symlink(link, there)
        elif stat.S_ISDIR(mode):
            _copy_folder(here, there, top, copy, skipped)
        elif stat.S_ISREG(mode):
            _copy_file(here, there, skipped)
        else:
            skipped.append(f"{here}: a {_kind(mode)}, not a file")
    # after its entries: a read-only folder is copied read-only, as shutil.copytree does
    shutil.copystat(source, target, follow_symlinks=False)


def _copy_file(source: Path, target: Path, skipped: list[str]) -> None:
    try:  # O_NOFOLLOW: an entry made a link since it was listed is not followed either
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        skipped.append(f"{source}: {exc.strerror or exc}")
        return
    with open(fd, "rb") as reader, open(target, "xb") as writer:
        try:
            shutil.copyfileobj(reader, writer)
        except OSError as exc:  # named: copyfileobj's own error names no file
            raise OSError(exc.errno, exc.strerror, str(target)) from None
    shutil.copystat(source, target, follow_symlinks=False)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "special file"


def remove_tree(path: Path) -> None:
    """Remove ``path`` if it is there: a folder with all in it (read-only sub-folders too), a
    symlink or a file; a symlink is removed, never followed.

    Raises:
        OSError: When something in it cannot be removed.
    """
    if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
        os.unlink(path)
        return
    if not os.path.lexists(path):
        return
    # A folder a trial made read-only cannot lose its entries until it is writable again.
    _unlock(path)
    for root, folders, _ in os.walk(path):
        for name in folders:
            _unlock(os.path.join(root, name))
    shutil.rmtree(path)


def _unlock(folder: str | Path) -> None:
    if os.path.islink(folder):
        return
    mode = stat.S_IMODE(os.lstat(folder).st_mode)
    if mode & stat.S_IRWXU != stat.S_IRWXU:
        os.chmod(folder, mode | stat.S_IRWXU)
