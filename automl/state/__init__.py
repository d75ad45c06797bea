"""Run state every backend and every view shares; imports nothing heavier than the stdlib.

``local/``, ``katib/``, ``results/`` and ``pipelines/`` all read it, so it imports none of them:
the counts and best trial (:class:`Tally`), how a run ended (:class:`RunSummary`), a metric's
reduced value (``automl.state.metric``), the trials a stopped engine cut short
(``automl.state.cut``), Katib's float parsing (``automl.state.numbers``) and
the progress bar both backends draw (``automl.state.progress``, imported on its own).
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
from automl.state.tally import Tally

__all__ = ["DONE", "RunSummary", "Tally", "best_of", "best_trial", "finite_number", "ranking",
           "text_objective", "unavailable_reason"]
