"""Katib's experiment conditions, computed from the trial records.

The experiment controller's order (``status_util.go``, ``experiment_controller.go``): goal
reached, then too many failed trials, then max trials completed; and how many more trials it
may create.
"""

from __future__ import annotations

from automl.spec import ExperimentSpec
from automl.state import Tally

__all__ = ["COMPLETED", "FAILED", "free_slots", "verdict"]

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
    failed = tally.count(*FAILED)
    max_failed = spec.budget.max_failed_trials
    # status_util.go: failed != 0 && failed >= max, so 0 fails at the first failed trial
    if max_failed is not None and failed and failed >= max_failed:
        return "Failed", f"ExperimentFailed: {failed} trials failed (max {max_failed})"
    max_trials = spec.budget.max_trials
    if max_trials is not None and tally.count(*COMPLETED) >= max_trials:
        return "Succeeded", f"ExperimentMaxTrialsReached: {max_trials} trials completed"
    return None


def free_slots(spec: ExperimentSpec, tally: Tally, running: int) -> int:
    """How many trials Katib would create now: free parallel slots within max trials."""
    free = spec.budget.parallel_trials - running
    max_trials = spec.budget.max_trials
    if max_trials is not None:
        free = min(free, max_trials - tally.count(*_CREATION_COMPLETED) - running)
    return max(free, 0)
