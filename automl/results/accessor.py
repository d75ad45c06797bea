"""``df.automl``: best trials, Pareto fronts and parameter importance on any trials table."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from automl.state import DONE, ranking, text_objective

__all__ = ["AutomlAccessor", "best_rows"]


def best_rows(frame: pd.DataFrame, k: int, *, maximize: bool, algorithm: str = "") -> pd.DataFrame:
    """The ``k`` best rows of a trials table, best first, by the rule of automl.state.best.

    Args:
        frame: A trials table.
        k: How many rows.
        maximize: The objective's direction.
        algorithm: The experiment's algorithm: DARTS's objective is the genotype in the
            ``architecture`` column, which the float ``objective`` column cannot hold.
    """
    values = frame["objective"].tolist()
    if text_objective(algorithm) and "architecture" in frame.columns:
        values = [a if isinstance(a, str) else v
                  for a, v in zip(frame["architecture"].tolist(), values, strict=True)]
    order = ranking(zip(frame["status"].tolist(), values, strict=True), maximize=maximize,
                    algorithm=algorithm)
    return frame.iloc[order[:k]]


@pd.api.extensions.register_dataframe_accessor("automl")
class AutomlAccessor:
    """Methods on a trials table (``Results.trials`` or ``automl.compare(...)``).

    Example:
        >>> trials = automl.load_results("digits-svm").trials
        >>> trials.automl.best(3)
        >>> trials.automl.pareto(["metrics.accuracy", "metrics.train_time"],
        ...                      ["maximize", "minimize"])
        >>> trials.automl.importance()
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def _direction(self, direction: str | None) -> str:
        direction = direction or self._frame.attrs.get("automl.direction")
        if direction not in ("maximize", "minimize"):
            raise ValueError("say direction='maximize' or 'minimize' (this table does not "
                             "carry its experiment's direction)")
        return direction

    def _done(self, column: str = "objective") -> pd.DataFrame:
        f = self._frame
        return f[f["status"].isin(DONE) & f[column].notna()]

    def best(self, k: int = 1, direction: str | None = None) -> pd.DataFrame:
        """The ``k`` best trials with an objective, best first (ties keep trial order).

        The same rule as ``Results.best`` and a run's summary (automl.state.best).
        """
        return best_rows(self._frame, k, maximize=self._direction(direction) == "maximize",
                         algorithm=self._frame.attrs.get("automl.algorithm", ""))

    def pareto(self, columns: Sequence[str], directions: Sequence[str] | None = None
               ) -> pd.DataFrame:
        """Trials no other trial beats on every one of ``columns`` (the Pareto front).

        Args:
            columns: Columns to trade off, e.g. ``["metrics.accuracy", "metrics.train_time"]``.
            directions: ``maximize``/``minimize`` per column (default: the table's direction
                for all).
        """
        directions = list(directions or [self._direction(None)] * len(columns))
        if len(directions) != len(columns):
            raise ValueError("give one direction per column")
        done = self._frame[self._frame["status"].isin(DONE)].dropna(subset=list(columns))
        signs = np.array([1.0 if d == "minimize" else -1.0 for d in directions])
        points = done[list(columns)].to_numpy(dtype=float) * signs  # smaller is better
        keep = np.ones(len(points), dtype=bool)
        for i in range(0, len(points), 512):  # chunks bound the n x n comparison's memory
            block = points[i:i + 512, None, :]
            no_worse = (points[None, :, :] <= block).all(axis=2)
            better = (points[None, :, :] < block).any(axis=2)
            keep[i:i + 512] = ~(no_worse & better).any(axis=1)
        return done[keep]

    def importance(self, direction: str | None = None) -> pd.Series:
        """Each parameter's importance for the objective: the numbers the report and
        ``automl dashboard`` show (automl.results.study.param_importances: fANOVA, seeded).

        Returns:
            Importance per ``params.<name>`` column, largest first, summing to 1.
        """
        from automl.results.study import frame_to_study, param_importances, spec_distributions

        importances = param_importances(frame_to_study(
            self._frame, self._direction(direction),
            distributions=spec_distributions(self._frame.attrs.get("automl.parameters", []))))
        return pd.Series({f"params.{k}": v for k, v in importances.items()},
                         name="importance")
