"""Trials cut short by their engine's own stop, which the budget does not count.

On Katib an experiment controller that restarts (or is killed) leaves its trials running:
they finish, and each counts toward ``maxTrialCount`` with the condition it ended in. Here
the engine's stop ends them: Ctrl-C or SIGTERM records them as Killed, and after a
``kill -9`` the next run records them as Failed. Counted, such trials would use up a budget
sized for what Katib runs (a hyperband schedule would lose its last bracket), and
``max_failed_trials`` would fail an experiment whose trials never failed. So they count
toward neither: a resumed run replaces them (a schedule runs them again in their place), and
the experiment completes as many trials as on Katib (``automl.spec.deviations``,
``cut-trials-uncounted``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["INTERRUPTED", "STOPPED", "cut_short"]

STOPPED = "stopped by the experiment"
"""The reason of a trial the engine killed when it was stopped (Ctrl-C, SIGTERM)."""
INTERRUPTED = "interrupted: the engine stopped while this trial ran"
"""The reason of a trial whose engine died while it ran (kill -9), recorded by the next run."""


def cut_short(record: Mapping[str, Any]) -> bool:
    """Whether the trial of ``record`` ended because its engine stopped, not by itself.

    Example:
        >>> cut_short({"status": "Failed", "reason": INTERRUPTED})
        True
        >>> cut_short({"status": "Failed", "reason": "exit status 1"})
        False
    """
    reason = record.get("reason") or ""
    return ((record.get("status") == "Killed" and reason.startswith(STOPPED))
            or (record.get("status") == "Failed" and reason.startswith(INTERRUPTED)))
