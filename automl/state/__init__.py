"""Run state every backend and every view shares; imports nothing heavier than the stdlib.

``local/``, ``katib/``, ``results/`` and ``pipelines/`` all read it, so it imports none of them.
"""

from automl.state.best import (
    DONE,
    best_of,
    best_trial,
    finite_number,
    ranking,
    text_objective,
    unavailable_reason,
)
from automl.state.summary import RunSummary

__all__ = ["DONE", "RunSummary", "best_of", "best_trial", "finite_number", "ranking",
           "text_objective", "unavailable_reason"]
