"""Results: one pandas schema from every backend, comparison, TensorBoard, reports."""

from automl.results import accessor as _accessor  # noqa: F401 - registers df.automl
from automl.results._results import Results
from automl.results.compare import compare
from automl.results.local import load_results
from automl.results.schema import OBSERVATION_COLUMNS, STATUSES, TRIAL_COLUMNS

__all__ = ["OBSERVATION_COLUMNS", "STATUSES", "TRIAL_COLUMNS", "Results", "compare",
           "load_results"]
