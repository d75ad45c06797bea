"""The suggestion algorithm and the early-stopping algorithm, named as in Katib."""

from __future__ import annotations

from pydantic import Field

from automl.spec._base import Scalar, SpecModel

__all__ = ["AlgorithmSpec", "EarlyStoppingSpec"]


class AlgorithmSpec(SpecModel):
    """Katib's ``AlgorithmSpec``: an algorithm name and its settings.

    Attributes:
        name: A Katib algorithm name: random, grid, tpe, multivariate-tpe, cmaes, sobol,
            bayesianoptimization, hyperband, pbt, enas or darts.
        settings: Katib's ``algorithmSettings`` as a mapping; names are Katib's and are
            checked per algorithm (see ``automl.spec.algorithms``).

    Example:
        >>> AlgorithmSpec(name="tpe", settings={"n_EI_candidates": 24, "random_state": 7})
    """

    name: str
    settings: dict[str, Scalar] = Field(default_factory=dict)


class EarlyStoppingSpec(SpecModel):
    """Katib's ``EarlyStoppingSpec``; Katib ships one algorithm, ``medianstop``.

    Example:
        >>> EarlyStoppingSpec(name="medianstop", settings={"min_trials_required": 3})
    """

    name: str
    settings: dict[str, Scalar] = Field(default_factory=dict)
