"""What ``automl status`` shows, kept by the engine beside the trials: read without a replay.

Reading an experiment from its journal means replaying every record of every trial: about a
second per 10,000 trials before anything is shown. The engine already knows the counts, the
best trials and those running (automl.state.Tally), so it writes them to ``status.json`` in the
experiment's runs folder (automl.local.paths.runs_folder) whenever they change, with the
journal's size at that moment and its checksum. The snapshot is used only while it is provably
current: the journal's first bytes are those it was taken of, and nothing written after them
concerns this experiment. Every record that changes a study names its ``study_id`` (a new
trial, the study's attributes, its deletion), and a finished trial cannot change any more, so
records naming neither the study nor one of the trials still running leave the snapshot as true
as it was. Anything else (an engine killed between a write and its snapshot, another program
writing to the study) and ``status`` replays the journal as before. The file is a cache:
failing to write it only costs speed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from automl.local.trial_files import open_trial_file

__all__ = ["SNAPSHOT", "SnapshotWriter", "load_snapshot"]

logger = logging.getLogger(__name__)

SNAPSHOT = "status.json"
_VERSION = 2


class SnapshotWriter:
    """Saves the status views of one journal's experiment, each with the journal's checksum.

    The checksum (CRC-32 of the journal up to its size at the save) is carried forward over
    the bytes appended since the last save, so a save costs what was appended, not the
    journal's size; the reader checks it over the whole file (a few milliseconds for
    10,000 trials), which catches a journal edited or damaged in the middle.

    Args:
        journal: The experiment's journal file.
    """

    def __init__(self, journal: Path) -> None:
        self.journal = journal
        self._path = str(journal.resolve())
        self._fd: int | None = None  # the journal, open while the engine runs
        self._size = 0
        self._crc = 0

    def close(self) -> None:
        """Close the journal (the writer opens it again if used after)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            self._size = self._crc = 0

    def save(self, run_dir: Path, view: Mapping[str, Any], study_id: int,
             running_ids: Sequence[int]) -> None:
        """Write ``view`` (what status shows) as current up to the journal's present size.

        Call it after the journal writes it reflects. ``running_ids`` are the Optuna trial
        ids of the trials still running (their end will change the view).
        """
        try:
            if self._fd is None:
                self._fd = os.open(self.journal, os.O_RDONLY | os.O_CLOEXEC)
            size = os.fstat(self._fd).st_size
            if size < self._size:  # a torn last record was cut off: start over
                self._size = self._crc = 0
            while self._size < size:
                chunk = os.pread(self._fd, min(size - self._size, 1 << 24), self._size)
                if not chunk:
                    break
                self._crc = zlib.crc32(chunk, self._crc)
                self._size += len(chunk)
            size = self._size
            data = {"version": _VERSION, "study_id": study_id, "running_ids": list(running_ids),
                    "journal": {"path": self._path, "size": size,
                                "crc32": self._crc},
                    "view": view}
            temporary = run_dir / f".{SNAPSHOT}.tmp"
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
            try:
                text = memoryview(json.dumps(data, separators=(",", ":")).encode())
                while text:
                    text = text[os.write(fd, text):]
            finally:
                os.close(fd)
            os.replace(temporary, run_dir / SNAPSHOT)  # a reader sees the old or the new, whole
        except (OSError, TypeError, ValueError) as exc:
            logger.debug("status snapshot not written in %s: %s", run_dir, exc)


def load_snapshot(run_dir: Path, journal: Path) -> dict[str, Any] | None:
    """The view saved in ``run_dir`` if it is still true of ``journal``, else None."""
    try:
        with open_trial_file(run_dir / SNAPSHOT) as file:  # a trial can write here too
            data = json.loads(file.read())
        saved = data["journal"]
        study_id, running = int(data["study_id"]), [int(i) for i in data["running_ids"]]
        if data["version"] != _VERSION or saved["path"] != str(journal.resolve()):
            return None
        with open_trial_file(journal, max_bytes=None) as file:  # a FIFO there: no wait
            content = file.readall()
        view, size, crc = data["view"], int(saved["size"]), saved["crc32"]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # none, unreadable, or of another version: replay the journal instead
    if len(content) < size or zlib.crc32(memoryview(content)[:size]) != crc:
        return None  # not the journal the snapshot was taken of, or changed since
    later = content[size:]
    if later and not later.endswith(b"\n"):
        return None  # a record being written, or cut short: the journal's reader says which
    return None if _concerns(later, study_id, running) else view


def _concerns(records: bytes, study_id: int, running: Sequence[int]) -> bool:
    """Whether any of the journal's ``records`` names the study or a running trial.

    Keys are searched in the raw bytes: a key inside a text value would have its quotes
    escaped, so a match is always a record's own field.
    """
    if not records:
        return False
    trials = "|".join(str(i) for i in running)
    pattern = rf'"study_id"\s*:\s*{study_id}\s*[,}}]'
    if trials:
        pattern += rf'|"trial_id"\s*:\s*(?:{trials})\s*[,}}]'
    return re.search(pattern.encode(), records) is not None
