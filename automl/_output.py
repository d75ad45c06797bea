"""Output files written whole or not at all: a failed write never harms the file it replaces.

Every file a command writes (a table, a report, Katib or pipeline YAML, TensorBoard event
files) is first written to a hidden temporary file in the same folder, flushed to disk, then
renamed over its destination, which is atomic: a full disk, a file size limit or a crash
leaves either the old file or the new one, never half of one. A failed write removes its
temporary files.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

from automl.errors import AutomlError

__all__ = ["OutputError", "Outputs", "check_file", "check_folder", "check_kind", "check_not_input",
           "outputs", "write_file"]

Content = str | bytes | Callable[[Path], object]
"""Text (UTF-8), bytes, or a function that writes the file at the path it is given."""

# A wrong path is a mistake in the command line (exit 2); anything else (no permission, a
# read-only or full disk) is the machine's (exit 1).
_BAD_PATH = {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.ELOOP}


class OutputError(AutomlError):
    """An output path that cannot be written; ``exit_code`` is the CLI's status for it."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def check_file(path: Path) -> None:
    """Refuse an output file path that cannot be right, before any work is done for it.

    Raises:
        OutputError: When ``path`` is a folder, or its folder is missing or is not a folder
            (exit status 2). A missing folder is taken for a typo, not created.
    """
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder; give a file name", 2)
    parent = path.parent
    if not parent.exists():
        raise OutputError(f"cannot write {path}: the folder {parent} does not exist", 2)
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: {parent} is not a folder", 2)


def check_not_input(path: Path, inputs: Mapping[Path, str]) -> None:
    """Refuse an output file that is one of the command's inputs, before anything is written.

    ``automl compile exp.yaml -o exp.yaml`` would replace the experiment with its Katib
    YAML, ``report -o train.py`` a trial's program with HTML: the same file is found by
    inode (a hard or symbolic link to it too), or by resolved path when one is missing.

    Args:
        path: The output file.
        inputs: Each file the command reads (or the experiment runs), with what it is in
            words (``the experiment file``).

    Raises:
        OutputError: Naming the file and what it is (exit status 2).
    """
    for source, what in inputs.items():
        try:
            same = os.path.samefile(path, source)
        except OSError:  # one is missing: the same only by name
            same = path.resolve() == source.resolve()
        if same:
            raise OutputError(f"cannot write {path}: it is {what}, which this command reads; "
                              "give another output file", 2)


def check_kind(path: Path, kind: str, suffixes: Collection[str]) -> None:
    """Refuse replacing an existing file whose name says it holds something else.

    ``trials --format csv -o exp.yaml`` would replace an experiment (which that command
    does not read, so :func:`check_not_input` cannot know it) with a table. A new file, or
    one without a suffix, may be anything.

    Args:
        path: The output file.
        kind: What is written, in words (``CSV``).
        suffixes: The suffixes a file of that kind has (``.csv``).

    Raises:
        OutputError: When ``path`` exists with another suffix (exit status 2).
    """
    if path.suffix and path.suffix.lower() not in suffixes and path.exists():
        raise OutputError(f"cannot write {path}: it exists and its name says it holds no "
                          f"{kind} ({', '.join(suffixes)}); give a new file or one named so", 2)


def check_folder(path: Path) -> None:
    """Refuse an output folder path that is a file or lies under one (exit status 2).

    Missing folders are fine: they are created, as TensorBoard's own writers do.

    Raises:
        OutputError: When ``path`` or one of its parents is not a folder.
    """
    for folder in (path, *path.parents):
        if folder.exists():
            if not folder.is_dir():
                where = "it is" if folder == path else f"{folder} is"
                raise OutputError(f"cannot write to {path}: {where} not a folder", 2)
            return


class Outputs:
    """Files written to temporary files, renamed into place together by :func:`outputs`."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []
        self._made: list[Path] = []

    def folder(self, path: Path) -> None:
        """Create the folder ``path`` (and its parents) if missing; removed again on failure."""
        missing = []
        while not path.exists():
            missing.append(path)
            path = path.parent
        for folder in reversed(missing):
            folder.mkdir()
            self._made.append(folder)

    def add(self, path: Path, content: Content) -> None:
        """Write ``content`` for ``path`` to a temporary file beside it."""
        if path.is_symlink():  # write where the link points, as a shell redirect does
            path = path.resolve()
        temp = path.with_name(f".tmp-{secrets.token_hex(4)}-{path.name}")
        # Created here, so that it has the mode a new file would get (umask applies), or the
        # mode of the file it replaces; then left to ``content`` to fill.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        self._pending.append((temp, path))
        try:
            with suppress(FileNotFoundError):
                os.fchmod(fd, stat.S_IMODE(path.stat().st_mode))
            if not callable(content):
                data = memoryview(content.encode() if isinstance(content, str) else content)
                while data:
                    data = data[os.write(fd, data):]
        finally:
            os.close(fd)
        if callable(content):
            content(temp)

    def _commit(self) -> None:
        # On disk before the renames, or a crash could leave empty files in place: one file
        # is synced alone; many (a TensorBoard run per trial) with one sync of them all.
        if len(self._pending) == 1:
            fd = os.open(self._pending[0][0], os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        elif self._pending:
            os.sync()
        for temp, path in self._pending:
            os.replace(temp, path)
        self._pending.clear()

    def _abort(self) -> None:
        for temp, _ in self._pending:
            temp.unlink(missing_ok=True)
        for folder in reversed(self._made):
            with suppress(OSError):  # not empty: someone else wrote there meanwhile
                folder.rmdir()


@contextmanager
def outputs(shown: Path) -> Iterator[Outputs]:
    """Write files together: all renamed into place at the end, or none when one fails.

    Args:
        shown: The path named in an error (the file, or the folder of several).

    Raises:
        OutputError: When a file cannot be written (exit status 2 for a wrong path, 1 for an
            I/O failure such as no permission or a full disk); no file is changed then.
    """
    out = Outputs()
    try:
        yield out
        out._commit()
    except OSError as exc:
        out._abort()
        code = 2 if exc.errno in _BAD_PATH else 1
        raise OutputError(f"cannot write {shown}: {exc.strerror or exc}", code) from None
    except BaseException:
        out._abort()
        raise


def write_file(path: Path, content: Content) -> Path:
    """Write one file whole, or leave what was there untouched.

    Args:
        path: The file; its folder must exist.
        content: Text (UTF-8), bytes, or a function that writes the file at the path given.

    Returns:
        ``path``.

    Raises:
        OutputError: When ``path`` is wrong (:func:`check_file`) or the write fails.
    """
    path = Path(path)
    check_file(path)
    with outputs(path) as out:
        out.add(path, content)
    return path
