"""Katib's experiment conditions, computed from the trial records.

The experiment controller's order (``status_util.go``, ``experiment_controller.go``): goal
reached, then too many failed trials, then max trials completed; and how many more trials it
may create. A trial its engine's stop cut short counts toward neither budget
(:mod:`automl.state.cut`): on Katib it would have run on to its end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from automl.spec import ExperimentSpec
from automl.spec.rules.restart import MAX_TRIALS_REACHED
from automl.state import Tally

if TYPE_CHECKING:
    from automl.local.schedule import Schedule

__all__ = ["COMPLETED", "FAILED", "concluded", "free_slots", "verdict"]

COMPLETED = ("Succeeded", "Failed", "EarlyStopped", "MetricsUnavailable", "Killed")
"""The trial conditions Katib counts as completed for maxTrialCount."""
FAILED = ("Failed", "MetricsUnavailable")
"""The trial conditions Katib counts against maxFailedTrialCount."""
# What Katib's experiment controller counts as completed when it decides how many trials to
# create (ReconcileTrials in experiment_controller.go): MetricsUnavailable is left out, so such
# a trial is replaced and the experiment can create more than maxTrialCount trials.
_CREATION_COMPLETED = ("Succeeded", "Failed", "EarlyStopped", "Killed")


def verdict(spec: ExperimentSpec, tally: Tally) -> tuple[str, str] | None:
    """Katib's order: goal reached, then max failed, then max trials; None = keep going."""
    goal = spec.objective.goal
    best = tally.best
    if goal is not None and best is not None and isinstance(best["objective"], float):
        value = best["objective"]
        if (value >= goal) if spec.objective.type == "maximize" else (value <= goal):
            return "Succeeded", f"ExperimentGoalReached: {spec.objective.metric}={value:.6g}"
    failed = tally.counted(*FAILED)
    max_failed = spec.budget.max_failed_trials
    # status_util.go: failed != 0 && failed >= max, so 0 fails at the first failed trial
    if max_failed is not None and failed and failed >= max_failed:
        return ("Failed",
                f"ExperimentFailed: {failed} trials failed (max {max_failed}){_uncounted(tally)}")
    max_trials = spec.budget.max_trials
    if max_trials is not None and tally.counted(*COMPLETED) >= max_trials:
        return ("Succeeded",
                f"{MAX_TRIALS_REACHED}: {max_trials} trials completed{_uncounted(tally)}")
    return None


def free_slots(spec: ExperimentSpec, tally: Tally, running: int) -> int:
    """How many trials Katib would create now: free parallel slots within max trials."""
    free = spec.budget.parallel_trials - running
    max_trials = spec.budget.max_trials
    if max_trials is not None:
        free = min(free, max_trials - tally.counted(*_CREATION_COMPLETED) - running)
    return max(free, 0)


def concluded(ended: tuple[str, str], schedule: Schedule | None,
              tally: Tally) -> tuple[str, str]:
    """The condition and reason an experiment ends with, once its last trials are recorded.

    ``ended`` is its :func:`verdict`; when max trials ended a schedule (hyperband) before it
    ran in full, the reason goes on to say what it did not run.
    """
    status, reason = ended
    if schedule is None or not reason.startswith(MAX_TRIALS_REACHED):
        return ended
    left = schedule.unfinished(tally.records)
    return (status, f"{reason}; {left}") if left else ended


def _uncounted(tally: Tally) -> str:
    """`` (3 more cut short by a stopped engine, not counted)``, or nothing."""
    cut = sum(tally.cut.values())
    return f" ({cut} more cut short by a stopped engine, not counted)" if cut else ""
