"""The embedded engine: Katib's semantics on Optuna, trials as local processes."""

from automl.local.engine import LocalEngine, RunSummary
from automl.local.runner import SubprocessRunner, TrialOutcome, TrialRunner

__all__ = ["LocalEngine", "RunSummary", "SubprocessRunner", "TrialOutcome", "TrialRunner"]
