"""The embedded engine: Katib's semantics on Optuna, trials as local processes.

The names below are imported on first use, so that a light command (``automl status`` from
the engine's snapshot) does not pay for Optuna.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from automl.local.engine import LocalEngine
    from automl.local.runner import SubprocessRunner, TrialOutcome, TrialRunner
    from automl.state import RunSummary

__all__ = ["LocalEngine", "RunSummary", "SubprocessRunner", "TrialOutcome", "TrialRunner"]

_HOMES = {"LocalEngine": "automl.local.engine", "RunSummary": "automl.state",
          "SubprocessRunner": "automl.local.runner", "TrialOutcome": "automl.local.runner",
          "TrialRunner": "automl.local.runner"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
