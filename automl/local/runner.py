"""Trial runners: the plug point that runs one trial and reports what became of it."""

from __future__ import annotations

import abc
import contextlib
import math
import os
import selectors
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from automl.local import supervisor
from automl.local.conclusion import conclude
from automl.local.job import TrialJob, start_failure
from automl.local.metrics import (
    MetricsError,
    Observation,
    ReadingCut,
    StdOutCollector,
)
from automl.local.trial_files import CHUNK, UnreadableFile, describe_size, open_trial_file

__all__ = ["SubprocessRunner", "TrialOutcome", "TrialRunner", "Watcher", "wait_trial"]

_GRACE_SECONDS = 5.0
_POLL_SECONDS = 0.1
_SLICE_SECONDS = 0.2
"""How long one look at a trial's metrics file reads before its stop checks come again."""
_MAX_LINE = 1 << 20
"""Of a longer line only the first and the last ``_MAX_LINE`` bytes are parsed."""
_KEPT = 100_000
"""Observations of one metric kept in order; past that, only its min, max and latest."""
_DRAIN_SECONDS = 2.0
"""How long output is still read once the trial's processes are gone."""


@dataclass
class TrialOutcome:
    """How a trial ended, in Katib's condition names.

    Attributes:
        status: Succeeded, Failed, EarlyStopped, MetricsUnavailable or Killed.
        reason: Why, in words (empty for a plain success).
        observations: Every metric value the trial reported, in order.
        exit_code: The process's exit status, if it exited.
        start_time: Epoch seconds when it started.
        end_time: Epoch seconds when it ended.
    """

    status: str
    reason: str = ""
    observations: list[Observation] = field(default_factory=list)
    exit_code: int | None = None
    start_time: float = 0.0
    end_time: float = 0.0


class TrialRunner(abc.ABC):
    """Runs one trial to its end. Runners are called from worker threads, one trial each."""

    @abc.abstractmethod
    def run(self, job: TrialJob, cancel: threading.Event,
            on_observation: Callable[[str, Observation], None] | None = None) -> TrialOutcome:
        """Run ``job``; stop it (status Killed) as soon as ``cancel`` is set."""

    def identity(self) -> dict[str, str]:
        """What the trials run beyond the experiment's spec (a function's digest), kept with
        the study so that a run of other code under the same name is refused, not resumed."""
        return {}


class SubprocessRunner(TrialRunner):
    """Runs the trial's command as a process (an argument list, never a shell).

    stdout and stderr go to ``stdout.log`` and ``stderr.log`` in the trial's folder and, for
    the StdOut collector, are parsed line by line as they arrive (Katib parses both, since it
    redirects ``2>&1``). The trial runs under a supervisor (automl.local.supervisor), which
    passes SIGTERM to its process group on early stop, deadline or cancel, and kills every
    process the trial started once it exits, is killed, or this process dies.

    Output is read in chunks and parsed in bounded memory, so a trial that floods its output
    slows only itself. When a log cannot be written (disk full), the rest of that stream is
    still read for metrics and the trial's reason says where its log stops.
    """

    def run(self, job: TrialJob, cancel: threading.Event,
            on_observation: Callable[[str, Observation], None] | None = None) -> TrialOutcome:
        watcher = Watcher(job, on_observation)
        start, began = time.time(), time.monotonic()  # when (recorded); how long (deadline)
        with contextlib.ExitStack() as stack:
            try:
                logs = [_Log(stack.enter_context(open(job.run_dir / name, "wb", buffering=0)),
                             name, watcher) for name in ("stdout.log", "stderr.log")]
            except OSError as exc:
                return TrialOutcome("Failed", f"cannot write the trial's logs in {job.run_dir}: "
                                    f"{exc.strerror or exc}", start_time=start,
                                    end_time=time.time())
            unpassable = _unpassable(job)
            if unpassable is not None:
                return TrialOutcome("Failed", unpassable, start_time=start, end_time=time.time())
            try:
                trial = supervisor.spawn(job.argv, job.cwd, job.env)
            except OSError as exc:
                return _not_started(job, exc, start)
            gone = threading.Event()
            pump = threading.Thread(target=_pump, args=([trial.stdout, trial.stderr], logs,
                                                        gone), daemon=True)
            pump.start()
            ended = wait_trial(trial, watcher, cancel, began)
            try:
                code = trial.result()
            except OSError as exc:
                code = exc
            gone.set()
            pump.join()
        if isinstance(code, OSError):
            return _not_started(job, code, start)
        cut = watcher.finish(cancel, began)
        outcome = TrialOutcome("", observations=watcher.observations,
                               exit_code=code, start_time=start, end_time=time.time())
        return conclude(outcome, cut or ended, job, watcher)


def wait_trial(trial: supervisor.Supervised, watcher: Watcher, cancel: threading.Event,
               began: float) -> str:
    """Watch a trial until it exits (``exited``) or must stop (Watcher.stop_reason).

    A trial told to stop gets SIGTERM, then ``_GRACE_SECONDS`` to end before it and all its
    processes are killed.

    Args:
        trial: The trial under its supervisor.
        watcher: Its output's watcher.
        cancel: Set when the experiment stops.
        began: ``time.monotonic()`` when it started.
    """
    # A blocking wait in its own thread sees the exit at once; polling with sleeps would be
    # most of a short trial's overhead.
    exited = threading.Event()
    threading.Thread(target=lambda: (trial.wait_exit(), exited.set()), daemon=True).start()
    while True:
        if exited.wait(_POLL_SECONDS):
            return "exited"
        watcher.poll_file()
        stop = watcher.stop_reason(cancel, began)
        if stop is not None:
            trial.stop()
            if not exited.wait(_GRACE_SECONDS):
                trial.kill()
            return stop


def _not_started(job: TrialJob, exc: OSError, start: float) -> TrialOutcome:
    return TrialOutcome("Failed", start_failure(job, exc), start_time=start,
                        end_time=time.time())


class Watcher:
    """Feeds a trial's output to its collector and checks the medianstop rule.

    Memory stays bounded whatever the trial writes: lines are cut at ``_MAX_LINE`` bytes
    (their first and last part are parsed), and past ``_KEPT`` observations of a metric only
    its minimum, maximum and latest are kept, which is all a metric strategy reads.
    """

    def __init__(self, job: TrialJob,
                 on_observation: Callable[[str, Observation], None] | None) -> None:
        self.job = job
        self.on_observation = on_observation
        self.objective_values: list[float] = []
        self.early_stop = False
        self.error: str | None = None
        self.log_errors: list[str] = []
        self.lock = threading.Lock()
        self.file_offset = 0
        self.file_size = 0
        # why the watched file cannot be read (not a regular file, too large), if so
        self.file_problem: str | None = None
        # The StdOut and File TEXT collectors examine only lines naming a metric, so other
        # output need not even be cut into lines.
        collector = job.collector
        self.needles = (tuple(m.encode() for m in collector.metrics)
                        if isinstance(collector, StdOutCollector) else None)
        self.file_lines = _Lines(self.line, self.needles)
        self._kept: list[Observation] = []
        self._counts: dict[str, int] = {}
        # metric -> "min" | "max" | "latest" -> (its count, the observation, its number)
        self._extremes: dict[str, dict[str, tuple[int, Observation, float | None]]] = {}

    @property
    def observations(self) -> list[Observation]:
        """What the trial reported, in order; past the cap, each metric's extremes last."""
        with self.lock:
            extra = {id(item): item for held in self._extremes.values()
                     for item in held.values()}
            return self._kept + [item[1] for item in sorted(extra.values(),
                                                             key=lambda item: item[0])]

    def line(self, raw: bytes) -> None:
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        try:
            found = list(self.job.collector.line(text))
        except MetricsError as exc:
            self.error = str(exc)
            return
        with self.lock:
            for obs in found:
                number = obs.number
                self._add(obs, number)
                if self.on_observation is not None:
                    self.on_observation(self.job.name, obs)
                if (obs.metric == self.job.objective and number is not None
                        and len(self.objective_values) < _KEPT):
                    self.objective_values.append(number)
                    rule = self.job.rule
                    if rule is not None and rule.should_stop(self.objective_values):
                        self.early_stop = True

    def _add(self, obs: Observation, number: float | None) -> None:
        """Keep ``obs`` in order, or, past the cap, only if it is an extreme or the latest."""
        count = self._counts.get(obs.metric, 0)
        self._counts[obs.metric] = count + 1
        if count < _KEPT:
            self._kept.append(obs)
            return
        # The choices reduce_observations makes: finite numbers for min and max, the newest
        # timestamp (then the later report) for latest.
        held = self._extremes.setdefault(obs.metric, {})
        item = (count, obs, number)
        latest = held.get("latest")
        if latest is None or (obs.timestamp or 0.0) >= (latest[1].timestamp or 0.0):
            held["latest"] = item
        if number is None or not math.isfinite(number):
            return
        low, high = held.get("min"), held.get("max")
        if low is None or number < low[2]:
            held["min"] = item
        if high is None or number > high[2]:
            held["max"] = item

    def stop_reason(self, cancel: threading.Event, began: float) -> str | None:
        """Why the trial must stop now (``killed``, ``early``, ``deadline``), or None.

        Args:
            cancel: Set when the experiment stops.
            began: ``time.monotonic()`` when the trial started: a deadline counts the time
                that passed, which a step of the wall clock (NTP, a suspended laptop's
                resume, a manual change) does not alter.
        """
        if self.early_stop and not cancel.is_set():
            return "early"
        return self._cut(cancel, began)

    def _cut(self, cancel: threading.Event, began: float) -> str | None:
        """``killed`` or ``deadline`` when the trial's time is up, else None."""
        if cancel.is_set():
            return "killed"
        if self.job.deadline and time.monotonic() - began > self.job.deadline:
            return "deadline"
        return None

    def poll_file(self) -> bool:
        """Read what the trial added to its watched file; True once all of it is read.

        A look reads for at most ``_SLICE_SECONDS``, so that a huge file cannot keep the
        caller from its deadline and cancel checks. A path that is not a regular file, or
        a file over the size limit, is not read (``file_problem`` says why) until a later
        look finds it readable.
        """
        path = self.job.watch_file
        if self.job.watch != "file" or path is None:
            return True
        try:
            file = open_trial_file(path)
        except FileNotFoundError:
            self.file_problem = None
            return True
        except UnreadableFile as exc:
            self.file_problem = str(exc)
            return True
        self.file_problem = None
        with file:
            # Up to the size seen now, so that a trial writing faster than this reads cannot
            # keep the caller reading.
            end = os.fstat(file.fileno()).st_size
            file.seek(self.file_offset)
            until = time.monotonic() + _SLICE_SECONDS
            while self.file_offset < end:
                chunk = file.read(min(CHUNK, end - self.file_offset))
                if not chunk:
                    break
                self.file_offset += len(chunk)
                self.file_lines.feed(chunk)
                if time.monotonic() > until:
                    self.file_size = end
                    return False
        return True

    def finish(self, cancel: threading.Event, began: float) -> str | None:
        """Read the rest of what the trial wrote, once it has exited, within its time
        (``began``: ``time.monotonic()`` when it started).

        Returns:
            ``killed`` or ``deadline`` when cancel or the trial's deadline came first
            (a note in ``log_errors`` says where reading stopped), else None.
        """
        while not self.poll_file():
            cut = self._cut(cancel, began)
            if cut is not None:
                self.log_errors.append(f"reading {self.job.watch_file} stopped at "
                                       f"{describe_size(self.file_offset)} of "
                                       f"{describe_size(self.file_size)}")
                return cut
        self.file_lines.close()
        if self.error is not None or self.file_problem is not None:
            return None
        until = began + self.job.deadline if self.job.deadline else None
        try:
            found = list(self.job.collector.after_exit(self.job.run_dir, until))
        except ReadingCut as exc:
            self.log_errors.append(str(exc))
            return "deadline"
        except MetricsError as exc:
            self.error = str(exc)
            return None
        self.log_errors.extend(self.job.collector.skipped)
        with self.lock:
            for obs in found:
                self._add(obs, obs.number)
        return None


class _Lines:
    """Cuts a byte stream into lines for a collector, in bounded memory.

    Args:
        emit: Called with each line to parse, without its newline.
        needles: When given, only lines containing one of these are emitted, and a chunk
            without any is skipped whole, which is what makes a flood of output cheap.
    """

    def __init__(self, emit: Callable[[bytes], None], needles: tuple[bytes, ...] | None) -> None:
        self.emit = emit
        self.needles = needles
        self.head = bytearray()  # the line so far, or its first _MAX_LINE bytes
        self.tail = bytearray()  # past _MAX_LINE: its last _MAX_LINE bytes
        self.long = False

    def feed(self, data: bytes) -> None:
        first = data.find(b"\n")
        if first < 0:
            self._extend(data)
            return
        self._extend(data[:first])
        self._end_line()
        last = data.rfind(b"\n")
        if last > first:
            middle = data[first + 1:last]
            if self.needles is None or any(n in middle for n in self.needles):
                for line in middle.split(b"\n"):
                    self._emit(line)
        self._extend(data[last + 1:])

    def close(self) -> None:
        """The stream ended: its last line, if it had no newline."""
        self._end_line()

    def _extend(self, part: bytes) -> None:
        if not self.long:
            room = _MAX_LINE - len(self.head)
            if len(part) <= room:
                self.head += part
                return
            self.head += part[:room]
            part = part[room:]
            self.long = True
        self.tail += part
        if len(self.tail) > _MAX_LINE:
            del self.tail[:-_MAX_LINE]

    def _end_line(self) -> None:
        # A long line's end matters most: a progress bar redraws itself with \r on one line,
        # and a message printed through it (tqdm.write) lands at the end of that line.
        self._emit(bytes(self.head))
        if self.long:
            self._emit(bytes(self.tail))
        self.head.clear()
        self.tail.clear()
        self.long = False

    def _emit(self, line: bytes) -> None:
        if line and (self.needles is None or any(n in line for n in self.needles)):
            self.emit(line)


class _Log:
    """One output stream of a trial: copied to its log file and, if watched, parsed."""

    def __init__(self, file: BinaryIO, name: str, watcher: Watcher) -> None:
        self.file: BinaryIO | None = file
        self.name = name
        self.watcher = watcher
        self.written = 0
        self.lines = (_Lines(watcher.line, watcher.needles)
                      if watcher.job.watch == "stdout" else None)

    def write(self, data: bytes) -> None:
        if self.file is not None:
            view = memoryview(data)
            try:
                while view:
                    n = self.file.write(view)
                    self.written += n
                    view = view[n:]
            except OSError as exc:
                # Disk full, or a file size limit: the log stops here, but the output is
                # still read, so the trial's metrics are not lost with its log.
                self.file = None
                self.watcher.log_errors.append(
                    f"{self.name} stops at {self.written} bytes "
                    f"({exc.strerror or exc}); its metrics were still read")
        if self.lines is not None:
            self.lines.feed(data)

    def close(self) -> None:
        if self.lines is not None:
            self.lines.close()


def _pump(fds: list[int], logs: list[_Log], gone: threading.Event) -> None:
    """Copy the trial's stdout and stderr to their logs until both close.

    Once ``gone`` is set (the trial and its processes were killed), reading goes on for at
    most ``_DRAIN_SECONDS``: only a process its supervisor could not kill (it was killed
    itself) could still hold a pipe open.
    """
    selector = selectors.DefaultSelector()
    for fd, log in zip(fds, logs, strict=True):
        selector.register(fd, selectors.EVENT_READ, log)
    deadline = None
    try:
        while selector.get_map():
            if deadline is None and gone.is_set():
                deadline = time.monotonic() + _DRAIN_SECONDS
            if deadline is not None and time.monotonic() > deadline:
                break
            for key, _ in selector.select(_POLL_SECONDS):
                data = os.read(key.fd, CHUNK)
                if data:
                    key.data.write(data)
                else:
                    selector.unregister(key.fileobj)
    finally:
        selector.close()
        for fd, log in zip(fds, logs, strict=True):
            os.close(fd)
            log.close()


def _unpassable(job: TrialJob) -> str | None:
    """Why no process can be started with the job's arguments or environment, if so.

    A NUL byte ends a C string, so no operating system passes one in an argument or a
    variable (on a cluster the container fails to start); neither can a variable name hold
    '='. Such values reach here from a categorical value or the trial template.
    """
    for i, arg in enumerate(job.argv):
        if "\0" in arg:
            return f"argument {i} ({arg!r}) holds a NUL byte, which no process can receive"
    for key, value in job.env.items():
        if "\0" in key or "=" in key:
            return f"environment variable name {key!r} cannot be passed to a process"
        if "\0" in value:
            return (f"environment variable {key}={value!r} holds a NUL byte, which no "
                    "process can receive")
    if "\0" in str(job.cwd):
        return f"working folder {str(job.cwd)!r} holds a NUL byte"
    return None


