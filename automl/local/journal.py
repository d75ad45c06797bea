"""Optuna's journal file, read past damaged records and never left with a record cut short.

Optuna's own reader stops at the first line it cannot parse and raises at the next, so one
damaged record (a disk error, a line edited by hand, two records glued by a torn write) hid
every trial after it, and every later write was unreadable too. Here a damaged line is
skipped with a warning naming the file and line; what Optuna replays stays consistent.
Optuna numbers studies and trials by their order of creation in the journal, so a damaged
record that created one is replaced by a stand-in (a study or a running trial) rather than
dropped: the records after it then still reach the trial they were written for.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from optuna.storages.journal import BaseJournalBackend

from automl.local.lock import FileLock, is_held

__all__ = ["JOURNAL_START", "JournalFile", "one_write"]

logger = logging.getLogger(__name__)

JOURNAL_START = b'{"op_code":'  # how Optuna writes every record (compact JSON, op_code first)
_WORKER = "automl-damaged-record"  # the worker id of stand-ins, no real worker's
_CREATE_STUDY, _CREATE_TRIAL = 0, 4
# The keys Optuna's replay reads from each operation without a default.
_KEYS: dict[int, tuple[str, ...]] = {
    0: ("study_name", "directions"), 1: ("study_id",), 2: ("study_id", "user_attr"),
    3: ("study_id", "system_attr"), 4: ("study_id", "datetime_start"),
    5: ("trial_id", "param_name", "param_value_internal", "distribution"),
    6: ("trial_id", "state", "values"), 7: ("trial_id", "step", "intermediate_value"),
    8: ("trial_id", "user_attr"), 9: ("trial_id", "system_attr"), 10: (),
}
_ATTRIBUTE_OPS = (2, 3, 8, 9)  # their values are free text Optuna never interprets


class JournalFile(BaseJournalBackend):
    """The journal at ``path``: appends hold ``<journal>.flock``, reads skip damaged lines.

    Appends hold an automl.local.lock.FileLock (which dies with its holder) instead of
    Optuna's lock file, so another program appending to the same journal at the same time
    should open it here too. A write that fails part-way (disk full, a file size limit) is
    undone before the error is raised, and a record a killed process left without its
    newline is removed before the next is appended. Reading never creates or changes a file.

    Args:
        path: The journal file (created by the first append if missing).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.flock = FileLock(path.with_name(path.name + ".flock"))
        # log number -> (byte offset, line number) where reading resumes after that many
        self._resume: dict[int, tuple[int, int]] = {0: (0, 1)}
        self._warned: set[int] = set()
        self._last_study: int | None = None
        self._end = 0  # records read up to the end of the file so far
        self._pending: list[dict[str, Any]] | None = None  # appends held by batch()

    def read_logs(self, log_number_from: int) -> Iterator[dict[str, Any]]:
        """The records from number ``log_number_from`` on, damaged lines skipped or stood in for."""
        pending = self._pending or []
        start = (log_number_from if log_number_from in self._resume
                 else self._end if log_number_from > self._end else 0)
        offset, line_number = self._resume[start]
        data = self._read_from(offset)
        if data is None:
            yield from pending[log_number_from:]
            return
        number = start
        *lines, rest = data.split(b"\n")  # only "\n" ends a record ("\r" may be damage)
        for line in lines:
            for log in self._records(line, line_number):
                if number >= log_number_from:
                    yield log
                number += 1
            offset += len(line) + 1
            line_number += 1
            self._resume[number] = (offset, line_number)
        self._end = max(self._end, number)
        if rest and not self._being_written():  # cut short by a kill: the next append drops it
            self._warn(line_number, "an incomplete last record, ignored")
        # Held by batch(): Optuna reads back what it wrote before going on, numbered after
        # the file's records (no one else can append while the batch holds the lock).
        yield from (log for i, log in enumerate(pending, number) if i >= log_number_from)

    def _read_from(self, offset: int) -> bytes | None:
        """The journal from byte ``offset`` to its end; None when there is no journal.

        Optuna reads the journal before every operation, a dozen times per trial, and
        mostly finds nothing new: a look at the size then costs one system call, not six.
        """
        try:
            size = os.stat(self.path).st_size
            if size <= offset:
                return b""
            with open(self.path, "rb", buffering=0) as file:
                file.seek(offset)
                return file.readall()  # to the end, which may have grown since
        except FileNotFoundError:
            return None

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Appends made inside go to the file at the end, in one write with one fsync.

        Optuna writes one record per operation (a trial's creation, each sampled value),
        each fsynced; a trial's start is one event, so it is made durable once. The lock is
        held throughout, so no other writer's record can slip between the file and the
        records held back. If the process dies inside, none of them was written: the trial
        never started. Nested batches join the outer one.
        """
        if self._pending is not None:
            yield
            return
        self.flock.acquire()
        self._pending = []
        try:
            yield
            held, self._pending = self._pending, None
            if held:
                self._append(held)
        finally:
            self._pending = None
            self.flock.release()

    def _records(self, line: bytes, line_number: int) -> list[dict[str, Any]]:
        """What one line holds: a record, or what can be kept of a damaged one."""
        log = _parse(line)
        if log is not None:
            self._note(log)
            return [log]
        text = line.decode("utf-8", errors="replace")
        log = _parse(text)
        if log is not None and log["op_code"] in _ATTRIBUTE_OPS:
            self._warn(line_number, "invalid UTF-8 in an attribute, replaced by U+FFFD")
            return [log]
        # A record cut short by a kill, then another appended on the same line: keep the
        # whole one that follows.
        glued = line.find(JOURNAL_START, 1)
        while glued > 0 and _parse(line[glued:]) is None:
            glued = line.find(JOURNAL_START, glued + 1)
        if glued > 0:  # no stand-in: a record cut short was never read, so never counted
            self._warn(line_number, "skipped a record cut short; kept the record after it")
            return [_parse(line[glued:])]
        stand_in = self._stand_in(line, line_number)
        what = "skipped a damaged record"
        if stand_in is not None:
            made = "study" if stand_in["op_code"] == _CREATE_STUDY else "trial"
            what = f"a damaged record that created a {made}: replaced by a stand-in"
        self._warn(line_number, what)
        if stand_in is None:
            return []
        self._note(stand_in)
        return [stand_in]

    def _stand_in(self, damaged: bytes, line_number: int) -> dict[str, Any] | None:
        """A record that creates what ``damaged`` created (as far as it can be read), if it did."""
        op = _field(damaged, rb'^\{"op_code":(\d+)')
        if op == _CREATE_TRIAL:
            study = _field(damaged, rb'"study_id":(\d+)')
            study = self._last_study if study is None else study
            if study is None:
                return None
            return {"op_code": _CREATE_TRIAL, "worker_id": _WORKER, "study_id": study,
                    "datetime_start": None}
        if op == _CREATE_STUDY:
            name = re.search(rb'"study_name":"([^"\\]*)"', damaged)
            directions = re.search(rb'"directions":\[([12](?:,[12])*)\]', damaged)
            return {"op_code": _CREATE_STUDY, "worker_id": _WORKER,
                    "study_name": (name.group(1).decode("utf-8", errors="replace") if name
                                   else f"damaged-record-line-{line_number}"),
                    "directions": ([int(d) for d in directions.group(1).split(b",")]
                                   if directions else [1])}
        return None

    def _note(self, log: dict[str, Any]) -> None:
        if isinstance(log.get("study_id"), int):
            self._last_study = log["study_id"]

    def _being_written(self) -> bool:
        """Whether an append holds the journal's lock now (so its last line may be half there)."""
        return is_held(self.flock.path)

    def _warn(self, line_number: int, what: str) -> None:
        if line_number not in self._warned:  # once per line, not at every re-read
            self._warned.add(line_number)
            logger.warning("%s:%d: %s", self.path, line_number, what)

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        """Append ``logs``, one line each, fsynced; on failure the journal is as it was."""
        if self._pending is not None:
            self._pending.extend(logs)
            return
        self.flock.acquire()
        try:
            self._append(logs)
        finally:
            self.flock.release()

    def _append(self, logs: list[dict[str, Any]]) -> None:
        """Write ``logs`` under the lock the caller holds."""
        data = "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in logs).encode()
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            end = self._whole_records(fd)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, end)
                raise
        finally:
            os.close(fd)

    def _whole_records(self, fd: int) -> int:
        """The journal's size without a last record cut short (which is removed)."""
        size = os.fstat(fd).st_size
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return size
        end = size
        while end > 0:
            start = max(0, end - 65536)
            newline = os.pread(fd, end - start, start).rfind(b"\n")
            if newline >= 0:
                end = start + newline + 1
                break
            end = start
        os.ftruncate(fd, end)
        logger.warning("%s: removed an incomplete last record (%d bytes)", self.path, size - end)
        return end


def _parse(line: bytes | str) -> dict[str, Any] | None:
    """The record on ``line``, or None when it is not one Optuna's replay can apply."""
    try:
        log = json.loads(line)
    except ValueError:  # bad JSON, or bytes that are not UTF-8
        return None
    if not isinstance(log, dict) or not isinstance(log.get("worker_id"), str):
        return None
    op = log.get("op_code")
    keys = _KEYS.get(op) if type(op) is int else None
    if keys is None or any(k not in log for k in keys):
        return None
    return log


def _field(data: bytes, pattern: bytes) -> int | None:
    found = re.search(pattern, data)
    return int(found.group(1)) if found else None


def one_write(storage: Any) -> contextlib.AbstractContextManager[None]:
    """``JournalFile.batch()`` of a journal storage; other storages write as they do."""
    backend = getattr(storage, "_backend", None)  # where Optuna's JournalStorage keeps it
    return backend.batch() if isinstance(backend, JournalFile) else contextlib.nullcontext()
