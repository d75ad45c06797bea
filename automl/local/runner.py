"""Trial runners: the plug point that runs one trial and reports what became of it."""

from __future__ import annotations

import abc
import contextlib
import ctypes
import math
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from automl.local.job import TrialJob
from automl.local.metrics import MetricsError, Observation, reduce_observations

__all__ = ["SubprocessRunner", "TrialOutcome", "TrialRunner", "Watcher", "conclude"]

_GRACE_SECONDS = 5.0
_POLL_SECONDS = 0.1


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


class SubprocessRunner(TrialRunner):
    """Runs the trial's command as a child process (an argument list, never a shell).

    stdout and stderr go to ``stdout.log`` and ``stderr.log`` in the trial's folder and, for
    the StdOut collector, are parsed line by line as they arrive (Katib parses both, since it
    redirects ``2>&1``). The child gets its own process group, which is signalled as a whole
    on early stop, deadline or cancel, and it is killed if this process dies.
    """

    def run(self, job: TrialJob, cancel: threading.Event,
            on_observation: Callable[[str, Observation], None] | None = None) -> TrialOutcome:
        watcher = Watcher(job, on_observation)
        start = time.time()
        try:
            with open(job.run_dir / "stdout.log", "wb") as out, \
                    open(job.run_dir / "stderr.log", "wb") as err:
                proc = subprocess.Popen(job.argv, cwd=job.cwd, env=job.env,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, preexec_fn=_child_setup)
                readers = [threading.Thread(target=_pump, args=(proc.stdout, out, watcher),
                                            daemon=True),
                           threading.Thread(target=_pump, args=(proc.stderr, err, watcher),
                                            daemon=True)]
                for reader in readers:
                    reader.start()
                ended = self._wait(proc, job, cancel, watcher, start)
                for reader in readers:
                    reader.join()
        except OSError as exc:
            return TrialOutcome("Failed", f"cannot start {job.argv[0]!r}: {exc.strerror or exc}",
                                start_time=start, end_time=time.time())
        watcher.finish()
        outcome = TrialOutcome("", observations=watcher.observations,
                               exit_code=proc.returncode, start_time=start, end_time=time.time())
        return conclude(outcome, ended, job, watcher)

    def _wait(self, proc: subprocess.Popen, job: TrialJob, cancel: threading.Event,
              watcher: Watcher, start: float) -> str:
        # A blocking wait in its own thread sees the exit at once; Popen.wait(timeout) polls
        # with sleeps of up to 50 ms, which is most of a short trial's overhead.
        exited = threading.Event()
        threading.Thread(target=lambda: (proc.wait(), exited.set()), daemon=True).start()
        while True:
            if exited.wait(_POLL_SECONDS):
                return "exited"
            watcher.poll_file()
            stop = watcher.stop_reason(cancel, start)
            if stop is not None:
                _terminate(proc)
                return stop


class Watcher:
    """Feeds a trial's output to its collector and checks the medianstop rule."""

    def __init__(self, job: TrialJob,
                 on_observation: Callable[[str, Observation], None] | None) -> None:
        self.job = job
        self.on_observation = on_observation
        self.observations: list[Observation] = []
        self.objective_values: list[float] = []
        self.early_stop = False
        self.error: str | None = None
        self.lock = threading.Lock()
        self.file_offset = 0
        self.partial = b""

    def line(self, raw: bytes) -> None:
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        try:
            found = list(self.job.collector.line(text))
        except MetricsError as exc:
            self.error = str(exc)
            return
        with self.lock:
            for obs in found:
                self.observations.append(obs)
                if self.on_observation is not None:
                    self.on_observation(self.job.name, obs)
                if obs.metric == self.job.objective and obs.number is not None:
                    self.objective_values.append(obs.number)
                    rule = self.job.rule
                    if rule is not None and rule.should_stop(self.objective_values):
                        self.early_stop = True

    def stop_reason(self, cancel: threading.Event, start: float) -> str | None:
        """Why the trial must stop now (``killed``, ``early``, ``deadline``), or None."""
        if cancel.is_set():
            return "killed"
        if self.early_stop:
            return "early"
        if self.job.deadline and time.time() - start > self.job.deadline:
            return "deadline"
        return None

    def poll_file(self) -> None:
        path = self.job.watch_file
        if self.job.watch != "file" or path is None or not path.exists():
            return
        with open(path, "rb") as file:
            file.seek(self.file_offset)
            chunk = file.read()
        self.file_offset += len(chunk)
        data = self.partial + chunk
        *lines, self.partial = data.split(b"\n")
        for raw in lines:
            self.line(raw)

    def finish(self) -> None:
        self.poll_file()
        if self.partial:
            self.line(self.partial)
            self.partial = b""
        if self.error is None:
            try:
                for obs in self.job.collector.after_exit(self.job.run_dir):
                    self.observations.append(obs)
            except MetricsError as exc:
                self.error = str(exc)


def _pump(stream: IO[bytes], sink: IO[bytes], watcher: Watcher) -> None:
    for raw in iter(stream.readline, b""):
        sink.write(raw)
        if watcher.job.watch == "stdout":
            watcher.line(raw)
    sink.flush()
    stream.close()


def conclude(outcome: TrialOutcome, ended: str, job: TrialJob,
             watcher: Watcher) -> TrialOutcome:
    """The trial's Katib condition from how it ended and what it reported."""
    if ended == "killed":
        outcome.status, outcome.reason = "Killed", "stopped by the experiment"
        return outcome
    if ended == "deadline":
        outcome.status = "Failed"
        outcome.reason = f"deadline of {job.deadline:g}s passed (activeDeadlineSeconds)"
        return outcome
    if ended == "early":
        outcome.status = "EarlyStopped"
        outcome.reason = (f"medianstop: best {job.objective} after {job.rule.start_step} "
                          f"reports is worse than {job.rule.value:.6g}")
        return outcome
    code = outcome.exit_code
    if code != 0:
        outcome.status = "Failed"
        outcome.reason = (f"killed by signal {-code}" if code is not None and code < 0
                          else f"exit status {code}")
        return outcome
    values = reduce_observations(watcher.observations, [job.objective])
    value = values[job.objective]
    if watcher.error is not None:
        outcome.status, outcome.reason = "MetricsUnavailable", watcher.error
    elif value.latest is None:
        outcome.status = "MetricsUnavailable"
        outcome.reason = f"the trial exited 0 but never reported {job.objective}"
    elif value.min is None and _non_finite(value.latest):
        # An optimiser cannot rank NaN or infinity; Katib's default regex would not even
        # match them. The trial is kept, as metrics-unavailable, with the reason.
        outcome.status = "MetricsUnavailable"
        outcome.reason = f"{job.objective} was only ever {value.latest}"
    else:
        outcome.status = "Succeeded"
    return outcome


def _non_finite(text: str) -> bool:
    try:
        return not math.isfinite(float(text))
    except ValueError:
        return False  # a non-numeric objective (a DARTS genotype) is a value of its own


def _terminate(proc: subprocess.Popen) -> None:
    """SIGTERM the trial's process group, then SIGKILL whatever is left after a grace period."""
    for sig, wait in ((signal.SIGTERM, _GRACE_SECONDS), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


_PR_SET_PDEATHSIG = 1


def _child_setup() -> None:  # runs in the child between fork and exec
    os.setsid()
    # Linux: die with the engine, so a kill -9 of the engine leaves no orphan trial.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
