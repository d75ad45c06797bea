"""How a trial ended, in Katib's terms: its condition and a reason a person can act on.

A failed trial's reason ends with the last lines of its standard error and where its log is;
one that never reported its objective says what it did report.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING

from automl.local.job import KATIB_STDOUT
from automl.local.metrics import StdOutCollector, reduce_observations
from automl.local.trial_files import open_trial_file, tail_bytes
from automl.spec.filters import DEFAULT_FILTER, compile_filter
from automl.state.cut import STOPPED

if TYPE_CHECKING:
    from automl.local.job import TrialJob
    from automl.local.runner import TrialOutcome, Watcher

__all__ = ["conclude"]

_SAID = 200  # characters of a failed trial's last stderr lines in its reason


def conclude(outcome: TrialOutcome, ended: str, job: TrialJob,
             watcher: Watcher) -> TrialOutcome:
    """The trial's Katib condition from how it ended and what it reported."""
    _condition(outcome, ended, job, watcher)
    if watcher.log_errors:
        outcome.reason = "; ".join([r for r in [outcome.reason] if r] + watcher.log_errors)
    return outcome


def _condition(outcome: TrialOutcome, ended: str, job: TrialJob, watcher: Watcher) -> None:
    if ended == "killed":
        outcome.status, outcome.reason = "Killed", STOPPED
        return
    if ended == "deadline":
        outcome.status = "Failed"
        outcome.reason = f"deadline of {job.deadline:g}s passed (activeDeadlineSeconds)"
        return
    if ended == "early":
        outcome.status = "EarlyStopped"
        outcome.reason = (f"medianstop: best {job.objective} after {job.rule.start_step} "
                          f"reports is worse than {job.rule.value:.6g}")
        return
    code = outcome.exit_code
    if code != 0:
        outcome.status = "Failed"
        outcome.reason = (f"killed by signal {-code} ({_signal_name(-code)})"
                          if code is not None and code < 0 else f"exit status {code}")
        outcome.reason += _last_words(job)
        return
    if watcher.file_problem is not None:
        # Katib's file collector (cmd/metricscollector/v1beta1/file-metricscollector/main.go
        # reportMetrics) reads the file with os.Open and ReadAll: a folder fails ReadAll and
        # klog.Fatalf ends the collector container in error, which fails the pod, its Job
        # and the trial; a FIFO blocks os.Open until activeDeadlineSeconds fails the Job (or
        # for ever); a file larger than the collector's memory limit gets it OOM-killed.
        # Failed in every case, here at once, with the reason.
        outcome.status = "Failed"
        outcome.reason = (f"the metrics file cannot be read: {watcher.file_problem} "
                          "(Katib's metrics collector fails such a trial)")
        return
    file_failure = _file_collector_failure(job, watcher)
    if file_failure is not None:
        outcome.status, outcome.reason = "Failed", file_failure
        return
    values = reduce_observations(watcher.observations, [job.objective])
    value = values[job.objective]
    if watcher.error is not None:
        outcome.status, outcome.reason = "MetricsUnavailable", watcher.error
    elif value.latest is None:
        outcome.status = "MetricsUnavailable"
        outcome.reason = (f"the trial exited 0 but never reported {job.objective} "
                          f"({_reported(job, watcher)})")
    else:
        outcome.status = "Succeeded"


def _file_collector_failure(job: TrialJob, watcher: Watcher) -> str | None:
    """Why Katib's File collector would fail this trial, which exited 0, or None.

    That collector (cmd/metricscollector/v1beta1/file-metricscollector/main.go) reads the file
    once the training process has ended; ``CollectObservationLog`` returns os.Open's error
    for a file never written and json.Unmarshal's for a line that is no JSON object
    (``parseLogsInJsonFormat``), and main ends in ``klog.Fatalf``: the collector container
    exits in error, which fails the pod, its Job and so the trial.
    """
    if job.collector.kind != "File" or job.watch_file is None:
        return None
    if not job.watch_file.exists():
        return (f"the trial never wrote its metrics file {job.watch_file} "
                "(Katib's file metrics collector fails such a trial)")
    if watcher.error is not None:
        return f"{watcher.error} (Katib's file metrics collector fails such a trial)"
    return None


def _last_words(job: TrialJob) -> str:
    """The end of a failed trial's stderr and where the rest is: ``; stderr: ...; log: ...``."""
    path = job.run_dir / "stderr.log"
    shared = job.watch_file is not None and (job.watch_file.name == KATIB_STDOUT
                                             or not path.exists())
    if shared:  # under sh -c, both streams went to one file
        path = job.watch_file
    lines = _tail_lines(path, 2)
    said = f"; stderr: {' | '.join(lines)[-_SAID:]}" if lines else ""
    return f"{said}; log: {path}"


def _reported(job: TrialJob, watcher: Watcher) -> str:
    """What a trial that never reported its objective reported instead, in a few words."""
    names = list(dict.fromkeys(o.metric for o in watcher.observations))
    if not names and isinstance(job.collector, StdOutCollector):
        # Katib's default filter on the last lines: the names the trial printed values for
        output = job.watch_file or job.run_dir / "stdout.log"
        found = compile_filter(DEFAULT_FILTER).findall("\n".join(_tail_lines(output, 200)))
        names = list(dict.fromkeys(m[0] for m in found))
    if not names:
        return "it reported no metric"
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"it reported {shown}"


def _tail_lines(path: Path, count: int) -> list[str]:
    """The last ``count`` non-empty lines of ``path`` (from its last 16 KiB)."""
    try:
        with open_trial_file(path, max_bytes=None) as file:
            text = tail_bytes(file, 16384).decode("utf-8", errors="replace")
    except OSError:  # none, or not a file (automl.local.trial_files): no last words
        return []
    return [line.strip() for line in text.splitlines() if line.strip()][-count:]


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown signal"
