"""Results: the trials and observations of one experiment, as pandas tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from automl.spec import ExperimentSpec

__all__ = ["Results"]

_HIDDEN_IN_NOTEBOOK = {"experiment", "backend", "start_time", "completion_time"}
_SHORT = 60  # characters of a text objective in repr()


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
    _study: tuple[pd.DataFrame, Any] | None = field(default=None, init=False, repr=False,
                                                   compare=False)

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

    def _optuna_study(self) -> Any:
        """The trials as an in-memory Optuna study (automl.results.study.to_study), built
        once per trials table: a report draws three plots from it."""
        # Kept with the table it was built from: a table put in its place gets its own.
        if self._study is None or self._study[0] is not self.trials:
            from automl.results.study import to_study

            self._study = (self.trials, to_study(self))
        return self._study[1]

    def plot_history(self) -> Any:
        """Each trial's objective and the best so far (a plotly figure; Optuna's plot).

        Raises:
            NoFigure: When no trial has a numeric objective yet (the message says why).
        """
        from automl.results.figures import history

        return history(self)

    def plot_parallel(self) -> Any:
        """Parallel coordinates of the objective and the most important parameters."""
        from automl.results.figures import parallel

        return parallel(self)

    def plot_importance(self) -> Any:
        """Parameter importance, by the evaluator the report and ``df.automl`` use."""
        from automl.results.figures import importance

        return importance(self)

    def plot_curves(self, metric: str | None = None) -> Any:
        """Each trial's reports of ``metric`` (default: the objective) by step."""
        from automl.results.figures import curves

        return curves(self, metric)

    def plot_pareto(self, metric: str | None = None) -> Any:
        """The objective against an additional metric, with the Pareto front."""
        from automl.results.figures import pareto

        return pareto(self, metric)

    def _described(self) -> str:
        """What the experiment is and how many trials it had in each condition."""
        counts = self.trials["status"].value_counts(sort=False)
        counted = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        return (f"{self.spec.objective.type} {self.spec.objective.metric} with "
                f"{self.spec.algorithm.name}; {len(self.trials)} trials"
                f"{f' ({counted})' if counted else ''}")

    def __repr__(self) -> str:
        """One short line, for a terminal: the name, the objective, the trials, the best.

        The tables and the spec are attributes (``.trials``, ``.spec``), not printed here.
        """
        from automl.state import text_objective
        from automl.state.progress import objective_text

        best = self.best()
        value = "" if best.empty else objective_text(
            best["architecture"].iloc[0] if text_objective(self.spec.algorithm.name)
            else best["objective"].iloc[0])
        if len(value) > _SHORT:  # a DARTS genotype
            value = value[:_SHORT - 3] + "..."
        found = ("no trial with an objective yet" if best.empty else
                 f"best {best['trial'].iloc[0]} {self.spec.objective.metric}={value}")
        return f"<Results {self.name}: {self._described()}; {found}>"

    __str__ = __repr__

    def _repr_html_(self) -> str:
        """In a notebook: a summary line and the best trials as an HTML table."""
        import html

        head = (f"<p><strong>{html.escape(self.name)}</strong>: "
                f"{html.escape(self._described())}</p>")
        best = self.best(5)
        if best.empty:
            return head + "<p>No trial has an objective yet.</p>"
        from automl.results.schema import RAW_NAS_COLUMNS

        shown = best[[c for c in best.columns
                      if c not in _HIDDEN_IN_NOTEBOOK and c not in RAW_NAS_COLUMNS]]
        return (head + f"<p>The best {len(best)} (all in <code>.trials</code>):</p>"
                + shown.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.6g}"))

    def to_tensorboard(self, logdir: str | Path) -> Path:
        """Write TensorBoard logs: a run per trial (scalar curves) and HParams sessions.

        Returns:
            The log folder, for ``tensorboard --logdir``.
        """
        from automl.results.tensorboard import write_tensorboard

        return write_tensorboard(self, Path(logdir))
