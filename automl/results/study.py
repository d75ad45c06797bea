"""Results → an in-memory Optuna study, for Optuna's plots and importance evaluators."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from automl.spec._base import as_number
from automl.state import finite_number

if TYPE_CHECKING:
    import pandas as pd

    from automl.results._results import Results
    from automl.spec import Parameter

__all__ = ["frame_to_study", "importance_evaluator", "importance_target", "param_importances",
           "spec_distributions", "to_study"]

# Katib's condition → Optuna's state, for a trial that has an objective. Without one a trial
# is FAIL, unless it has not finished yet.
_STATES = {"Succeeded": TrialState.COMPLETE, "EarlyStopped": TrialState.PRUNED,
           "Running": TrialState.RUNNING, "Pending": TrialState.WAITING}


def to_study(results: Results) -> optuna.Study:
    """An in-memory Optuna study holding the trials of ``results``, in trial order.

    The parameters keep the spec's ranges and scales (log for ``logUniform``), and each trial
    the objective metric's reports as intermediate values. States are those of
    :func:`frame_to_study`.

    Args:
        results: One experiment's results.

    Returns:
        A study named like the experiment, in the objective's direction.

    Example:
        >>> study = to_study(automl.load_results("digits-svm"))
        >>> optuna.visualization.plot_optimization_history(study).show()
        >>> optuna.importance.get_param_importances(study)
    """
    spaces = {p.name: _distribution(p) for p in results.spec.parameters}
    return frame_to_study(_choices(results), results.spec.objective.type, name=results.name,
                          distributions=spaces, curves=_curves(results))


def _choices(results: Results) -> pd.DataFrame:
    """The trials with a NAS experiment's choices as parameters.

    Katib's NAS assignments are texts unique to each trial: as parameters they would say
    nothing. An ENAS architecture becomes one parameter per layer (its operation in words) and
    per possible skip; DARTS's arguments, the same for every trial, are left out.
    """
    trials = results.trials
    if results.spec.nas is None:
        return trials
    from automl.spec.nas_assignments import enas_choices

    out = trials.drop(columns=[c for c in trials.columns if c.startswith("params.")])
    if {"params.architecture", "params.nn_config"} <= set(trials.columns):
        rows = [enas_choices(a, n) if isinstance(a, str) and isinstance(n, str) else {}
                for a, n in zip(trials["params.architecture"], trials["params.nn_config"],
                                strict=True)]
        for key in dict.fromkeys(k for row in rows for k in row):
            out[f"params.{key}"] = [row.get(key) for row in rows]
    return out


def frame_to_study(frame: pd.DataFrame, direction: str, name: str = "trials",
                   distributions: dict[str, BaseDistribution] | None = None,
                   curves: dict[str, dict[int, float]] | None = None) -> optuna.Study:
    """An in-memory Optuna study holding the rows of a trials table, in row order.

    Works from the table alone, so the trials of any backend (local, Katib, KFP) can be
    plotted by ``optuna.visualization`` or scored by ``optuna.importance``. Succeeded trials
    with an objective become COMPLETE, EarlyStopped ones PRUNED (keeping their objective, as
    Optuna does), Running and Pending ones RUNNING and WAITING, every other trial FAIL. Each
    trial keeps its name and status as the user attributes ``trial`` and ``status``.

    Args:
        frame: A trials table (``Results.trials`` or a selection of its rows).
        direction: ``minimize`` or ``maximize``.
        name: The study's name.
        distributions: Parameter name → distribution; a ``params.<name>`` column without one
            gets the observed range (int or float columns) or the observed values (others).
        curves: Trial name → {step: value} of the objective, as intermediate values.

    Returns:
        The study, in memory.

    Example:
        >>> study = frame_to_study(results.trials.head(50), "maximize")
        >>> optuna.importance.get_param_importances(study)
    """
    study_direction = (StudyDirection.MAXIMIZE if direction == "maximize"
                       else StudyDirection.MINIMIZE)
    # Quietly: a study that only lives for one plot is not news (Optuna logs each creation).
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(study_name=name, direction=study_direction)
    finally:
        optuna.logging.set_verbosity(verbosity)
    spaces = {**_observed(frame), **(distributions or {})}
    curves = curves or {}
    study.add_trials([_trial(row, spaces, curves.get(str(row["trial"]), {}))
                      for row in frame.to_dict("records")])
    return study


def _observed(frame: pd.DataFrame) -> dict[str, BaseDistribution]:
    """Name → a distribution covering the values of each ``params.<name>`` column."""
    import pandas as pd

    out: dict[str, BaseDistribution] = {}
    for column in frame.columns:
        values = frame[column].dropna()
        if not column.startswith("params.") or values.empty:
            continue
        name = column.removeprefix("params.")
        if pd.api.types.is_integer_dtype(values):
            out[name] = IntDistribution(int(values.min()), int(values.max()))
        elif pd.api.types.is_float_dtype(values):
            out[name] = FloatDistribution(float(values.min()), float(values.max()))
        else:  # categorical, or NAS assignments: a choice among the values received
            out[name] = CategoricalDistribution(sorted({str(v) for v in values}))
    return out


def spec_distributions(parameters: list[dict[str, Any]]) -> dict[str, BaseDistribution]:
    """Name → distribution of parameters given as the spec writes them (a table's attrs)."""
    from automl.spec import Parameter

    return {p.name: _distribution(p) for p in map(Parameter.model_validate, parameters)}


def _distribution(p: Parameter) -> BaseDistribution:
    """The distribution of one spec parameter, on its scale.

    Unlike automl.local.space, no step: the study describes values already sampled, and a
    grid would only reject values that went through Katib's string form.
    """
    if p.type == "discrete":
        # numbers, as the table holds them (the trial got the list's text)
        return CategoricalDistribution([_number(v) for v in p.values or []])
    if p.type == "categorical":
        return CategoricalDistribution(list(p.values or []))
    log = p.distribution in ("logUniform", "logNormal")
    if p.type == "int":
        return IntDistribution(int(p.min), int(p.max), log=log)
    return FloatDistribution(float(p.min), float(p.max), log=log)


def _curves(results: Results) -> dict[str, dict[int, float]]:
    """Trial → {step: value} of the objective metric's reports."""
    obs = results.observations
    obs = obs[(obs["metric"] == results.spec.objective.metric) & obs["value"].notna()]
    curves: dict[str, dict[int, float]] = {}
    for trial, step, value in zip(obs["trial"], obs["step"], obs["value"], strict=True):
        curves.setdefault(str(trial), {})[int(step)] = float(value)
    return curves


def _trial(row: dict[str, Any], spaces: dict[str, BaseDistribution],
           curve: dict[int, float]) -> FrozenTrial:
    params: dict[str, Any] = {}
    for name, dist in spaces.items():
        value = _param(row.get(f"params.{name}"), dist)
        if value is not None:  # a trial cut off before it was assigned keeps no value
            params[name] = value
    objective = row.get("objective")
    state = _STATES.get(str(row["status"]), TrialState.FAIL)
    scored = state in (TrialState.COMPLETE, TrialState.PRUNED)
    number = finite_number(objective)  # what can rank a trial (automl.state.best)
    if scored and number is None:
        state, scored = TrialState.FAIL, False
    return optuna.trial.create_trial(
        state=state, value=number if scored else None,
        params=params, distributions={k: spaces[k] for k in params},
        user_attrs={"trial": str(row["trial"]), "status": str(row["status"])},
        intermediate_values=curve)


def _param(value: Any, dist: BaseDistribution) -> Any:
    """The value as the distribution holds it, or None when missing or outside it."""
    if _missing(value):
        return None
    if isinstance(dist, CategoricalDistribution):
        # The table holds discrete values as floats and categorical ones as strings: return
        # the choice itself (3, not 3.0).
        matches = [c for c in dist.choices if c == value or str(c) == str(value)]
        return matches[0] if matches else None
    number = int(value) if isinstance(dist, IntDistribution) else float(value)
    return number if dist.low <= number <= dist.high else None


def _number(text: str) -> Any:
    """A discrete list item as a number (3, 0.1), or its text when it is none."""
    try:
        number = as_number(text)
    except ValueError:
        return text
    return int(number) if float(number).is_integer() else number


def _missing(value: Any) -> bool:
    """True for None, NaN and pandas' NA."""
    import pandas as pd

    return bool(pd.isna(value))


def param_importances(study: optuna.Study) -> dict[str, float]:
    """Each parameter's importance for the objective, the numbers the report,
    ``df.automl.importance()`` and ``automl dashboard`` all show.

    :func:`importance_evaluator` on the objective turned to "lower is better" (the target
    optuna-dashboard hands its evaluator), and equal shares when it finds nothing to tell
    the parameters apart, as the dashboard does.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # what Optuna flags as experimental
        found = optuna.importance.get_param_importances(
            study, evaluator=importance_evaluator(), target=importance_target(study))
    if not found:
        names = sorted({n for t in study.get_trials(deepcopy=False) for n in t.distributions})
        found = dict.fromkeys(names, 1 / len(names)) if names else {}
    return found


def importance_target(study: optuna.Study) -> Callable[[FrozenTrial], float]:
    """The objective with lower better, as optuna-dashboard hands it to its evaluator."""
    if study.direction == StudyDirection.MAXIMIZE:
        return lambda t: -float(t.value)  # type: ignore[arg-type]
    return lambda t: float(t.value)  # type: ignore[arg-type]


def importance_evaluator() -> Any:
    """Optuna's fANOVA with a fixed seed, so that every view repeats the same numbers; when
    scikit-learn (which fANOVA needs) is missing, PED-ANOVA, which needs nothing beyond Optuna.

    fANOVA rather than PED-ANOVA, optuna-dashboard's own choice: PED-ANOVA compares the best
    10% of the trials with the rest, which for a dozen trials is one trial, and it then
    ranks a parameter that barely moves the objective first. ``automl dashboard`` serves the
    dashboard with this evaluator instead (automl.results.dashboard).
    """
    from optuna.importance import FanovaImportanceEvaluator, PedAnovaImportanceEvaluator

    try:
        import sklearn  # noqa: F401
    except ImportError:
        return PedAnovaImportanceEvaluator()
    return FanovaImportanceEvaluator(seed=0)
