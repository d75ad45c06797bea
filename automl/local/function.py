"""Python-function trials: each trial runs the function in a forked child process.

The child inherits everything the parent has imported (so a trial does not pay for imports
again), is killable like any trial (deadline, early stop, Ctrl-C), and writes its stdout and
stderr to the trial's logs, which the StdOut collector reads as it would a command's output.
What the function returns is reported too: a number as the objective, a mapping as metrics.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from automl.local import supervisor
from automl.local.conclusion import conclude
from automl.local.fingerprint import function_fingerprint
from automl.local.job import TrialJob
from automl.local.metrics import Observation
from automl.local.runner import TrialOutcome, TrialRunner, Watcher, wait_trial

__all__ = ["FunctionRunner"]


class FunctionRunner(TrialRunner):
    """Runs ``function(parameters)`` for each trial in a forked child process.

    The child runs under a supervisor (automl.local.supervisor) as command trials do: it
    holds none of the engine's files (its locks, its journal), and it and every process it
    starts end with the trial, or with the engine if that dies first.

    Args:
        function: Called with one dict: every tuned parameter as the string Katib would pass,
            plus the fixed values given to :func:`automl.tune`.
        fixed: Values passed to every call unchanged.
    """

    def __init__(self, function: Callable[[dict[str, Any]], Any],
                 fixed: Mapping[str, Any] | None = None) -> None:
        self.function = function
        self.fixed = dict(fixed or {})

    def identity(self) -> dict[str, str]:
        """The function's name and digest (automl.local.fingerprint)."""
        name = getattr(self.function, "__qualname__", type(self.function).__qualname__)
        return {"function": f"{name} {function_fingerprint(self.function, self.fixed)}"}

    def run(self, job: TrialJob, cancel: threading.Event,
            on_observation: Callable[[str, Observation], None] | None = None) -> TrialOutcome:
        job.watch, job.watch_file = "file", job.run_dir / "stdout.log"
        watcher = Watcher(job, on_observation)
        params = {**self.fixed, **job.assignments}
        start, began = time.time(), time.monotonic()  # when (recorded); how long (deadline)
        # fork: the child starts with the parent's modules and the function itself, whatever
        # module (or notebook) defined it.
        try:
            trial = supervisor.fork(lambda: _child(self.function, params, job))
            ended = wait_trial(trial, watcher, cancel, began)
            code = trial.result()
        except OSError as exc:  # no process could be forked (out of memory or processes)
            return TrialOutcome("Failed", f"cannot fork the trial: {exc.strerror or exc}",
                                start_time=start, end_time=time.time())
        cut = watcher.finish(cancel, began)
        outcome = TrialOutcome("", observations=watcher.observations,
                               exit_code=code, start_time=start, end_time=time.time())
        return conclude(outcome, cut or ended, job, watcher)


def _child(function: Callable[[dict[str, Any]], Any], params: dict[str, Any],
           job: TrialJob) -> None:
    """In the child: send stdout/stderr to the trial's logs, call, print what it returned."""
    os.environ.update(job.env)
    out = os.open(job.run_dir / "stdout.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    err = os.open(job.run_dir / "stderr.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(out, 1)
    os.dup2(err, 2)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    sys.stderr = os.fdopen(2, "w", buffering=1)
    try:
        result = function(params)
        for line in _result_lines(result, job.objective):
            print(line)
    except BaseException:  # the trial's own failure: its traceback goes to its log
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.flush()
    os._exit(0)


def _result_lines(result: Any, objective: str) -> list[str]:
    if result is None:
        return []
    if isinstance(result, Mapping):
        items = result.items()
    elif isinstance(result, (int, float)) and not isinstance(result, bool):
        items = [(objective, result)]
    else:
        raise TypeError(f"the trial function returned {result!r}; return a number (the "
                        f"objective), a mapping of metrics, or None (and print name=value)")
    lines = []
    for name, value in items:
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"metric {name}={value!r} is not a finite number")
        lines.append(f"{name}={number!r}")
    return lines
