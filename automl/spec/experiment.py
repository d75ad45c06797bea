"""ExperimentSpec: the one in-memory description of an experiment."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from automl.spec._base import SpecModel
from automl.spec.algorithm import AlgorithmSpec, EarlyStoppingSpec
from automl.spec.algorithms import get_algorithm
from automl.spec.defaults import PARALLEL_TRIALS
from automl.spec.nas import NasConfig
from automl.spec.objective import Objective
from automl.spec.parameters import Parameter
from automl.spec.trial import TrialParameter, TrialTemplate

__all__ = ["Budget", "ExperimentSpec"]


class Budget(SpecModel):
    """How many trials to run (Katib's maxTrialCount, parallelTrialCount, maxFailedTrialCount).

    Attributes:
        max_trials: Completed trials after which the experiment succeeds.
        parallel_trials: Trials running at once (Katib's default: 3).
        max_failed_trials: Failed (or metrics-unavailable) trials after which it fails.
    """

    max_trials: int | None = None
    parallel_trials: int = PARALLEL_TRIALS
    max_failed_trials: int | None = None


class ExperimentSpec(SpecModel):
    """An experiment: what to optimise, over which space, with which algorithm, running what.

    Build one from a file with :func:`automl.load`, from a Katib Experiment with
    :func:`automl.from_katib`, or directly. The model is structural; Katib's rules (the
    admission webhook and each suggestion service's checks) are applied by
    :func:`automl.spec.check`, which :func:`automl.load` and :func:`automl.to_katib` call.

    Example:
        >>> spec = ExperimentSpec(
        ...     name="digits-svm",
        ...     objective={"metric": "accuracy", "type": "maximize"},
        ...     algorithm={"name": "tpe"},
        ...     budget={"max_trials": 20, "parallel_trials": 2},
        ...     parameters=[{"name": "C", "type": "double", "min": 0.01, "max": 100,
        ...                  "distribution": "logUniform"}],
        ...     trial={"image": "python:3.11-slim",
        ...            "command": ["python", "train.py", "--C=${trialParameters.C}"]},
        ... )
    """

    name: str
    namespace: str | None = None
    objective: Objective
    algorithm: AlgorithmSpec = Field(default_factory=lambda: AlgorithmSpec(name="random"))
    early_stopping: EarlyStoppingSpec | None = None
    budget: Budget = Field(default_factory=Budget)
    parameters: list[Parameter] = Field(default_factory=list)
    nas: NasConfig | None = None
    trial: TrialTemplate
    resume_policy: Literal["Never", "LongRunning", "FromVolume"] = "Never"

    @model_validator(mode="after")
    def _drop_default_trial_parameters(self) -> ExperimentSpec:
        if self.trial.trial_parameters == self.default_trial_parameters():
            trial = self.trial.model_copy(update={"trial_parameters": None})
            object.__setattr__(self, "trial", trial)
        return self

    @property
    def assignment_names(self) -> list[str]:
        """What the algorithm assigns each trial: parameter names, or NAS assignment names."""
        if self.nas is not None:
            algorithm = get_algorithm(self.algorithm.name)
            return list(algorithm.assignments) if algorithm is not None else []
        return [p.name for p in self.parameters]

    def default_trial_parameters(self) -> list[TrialParameter]:
        """One trial parameter per assignment, named like it."""
        return [TrialParameter(name=n, reference=n) for n in self.assignment_names]

    @property
    def trial_parameters(self) -> list[TrialParameter]:
        """The trial parameters in effect (explicit, else the defaults)."""
        if self.trial.trial_parameters is not None:
            return self.trial.trial_parameters
        return self.default_trial_parameters()
