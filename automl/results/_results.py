"""Results: the trials and observations of one experiment, as pandas tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from automl.spec import ExperimentSpec

__all__ = ["Results"]


@dataclass
class Results:
    """One experiment's results, the same whichever backend ran it.

    Attributes:
        spec: The experiment.
        trials: One row per trial: ``experiment``, ``trial``, ``status`` (Katib's condition
            names), ``objective``, ``params.<name>`` (typed), ``metrics.<name>`` (the value
            after the metric strategy), ``start_time``, ``completion_time`` (UTC),
            ``duration_s``, ``backend``.
        observations: One row per reported value: ``experiment``, ``trial``, ``metric``,
            ``step`` (0, 1, ... per trial and metric), ``value``, ``timestamp`` (UTC, NaT when
            the trial did not stamp it).

    Example:
        >>> results = automl.load_results("digits-svm")
        >>> results.trials.sort_values("objective").tail(3)
        >>> results.best()["params.C"]
    """

    spec: ExperimentSpec
    trials: pd.DataFrame
    _observations: pd.DataFrame | Callable[[], pd.DataFrame] = field(repr=False)

    @property
    def observations(self) -> pd.DataFrame:
        """Every reported value (read on first use: a trials table alone is faster)."""
        if callable(self._observations):
            self._observations = self._observations()
        return self._observations

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self.spec.name

    @property
    def maximize(self) -> bool:
        """True when the objective is maximised."""
        return self.spec.objective.type == "maximize"

    def best(self, k: int = 1) -> pd.DataFrame:
        """The ``k`` best trials with an objective (Succeeded or EarlyStopped), best first.

        The rule of a run's summary (automl.state.best): Katib's currentOptimalTrial, ties in
        trial order. A DARTS objective is its genotype (the ``architecture`` column), not a
        number: as in Katib, the last trial that reported one is the best.
        """
        from automl.results.accessor import best_rows

        return best_rows(self.trials, k, maximize=self.maximize,
                         algorithm=self.spec.algorithm.name)

    def to_tensorboard(self, logdir: str | Path) -> Path:
        """Write TensorBoard logs: a run per trial (scalar curves) and HParams sessions.

        Returns:
            The log folder, for ``tensorboard --logdir``.
        """
        from automl.results.tensorboard import write_tensorboard

        return write_tensorboard(self, Path(logdir))
