"""The embedded engine: Katib's semantics on Optuna, trials as local processes."""

from automl.local.engine import LocalEngine
from automl.local.runner import SubprocessRunner, TrialOutcome, TrialRunner
from automl.state import RunSummary

__all__ = ["LocalEngine", "RunSummary", "SubprocessRunner", "TrialOutcome", "TrialRunner"]
