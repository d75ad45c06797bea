"""Katib's rule for changing the budget of an experiment that already ran."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from automl.spec.errors import Finding

if TYPE_CHECKING:
    from automl.spec.experiment import ExperimentSpec

__all__ = ["MAX_TRIALS_REACHED", "restart_findings"]

_RESTARTABLE_POLICIES = ("LongRunning", "FromVolume")
MAX_TRIALS_REACHED = "ExperimentMaxTrialsReached"
"""Katib's reason when maxTrialCount trials completed (the one end that may continue)."""


def restart_findings(spec: ExperimentSpec, *, status: str, reason: str,
                     trials: int) -> Iterator[Finding]:
    """Why Katib's webhook would refuse ``spec``'s budget on an experiment that ran before.

    Katib's ``ValidateExperiment`` (pkg/webhook/v1beta1/experiment/validator/validator.go)
    with ``IsCompletedExperimentRestartable`` (pkg/controller.v1beta1/experiment/util/
    status_util.go): a completed experiment may continue only when it Succeeded by reaching
    max trials and its resume policy is LongRunning or FromVolume; and a changed budget's
    max trials must exceed the trials so far. Call it only when the budget changed.

    Args:
        spec: The experiment with its new budget.
        status: The stored experiment's condition (``Succeeded``, ``Failed``, ``Running``).
        reason: Its reason, starting with Katib's reason name.
        trials: How many trials it has (Katib's ``status.trials``).

    Example:
        >>> [f.message for f in restart_findings(spec, status="Succeeded",
        ...                                      reason="ExperimentGoalReached", trials=8)]
        ["the experiment is completed (Succeeded, ExperimentGoalReached): ..."]
    """
    completed = status in ("Succeeded", "Failed")
    restartable = (status == "Succeeded" and reason.startswith(MAX_TRIALS_REACHED)
                   and spec.resume_policy in _RESTARTABLE_POLICIES)
    if completed and not restartable:
        yield Finding(("resume_policy",),
                      f"the experiment is completed ({status}, {reason.split(':')[0]}) and "
                      f"resume_policy is {spec.resume_policy}: as on Katib, a completed "
                      "experiment continues only when it Succeeded by reaching max trials with "
                      "resume_policy LongRunning or FromVolume (and a larger max trials)")
    max_trials = spec.budget.max_trials
    if max_trials is not None and max_trials <= trials:
        yield Finding(("budget", "max_trials"),
                      f"{max_trials} must be greater than the {trials} trials the experiment "
                      "has (Katib's status.trials)")
