"""The best trial: one rule for the run summary, progress, status, tables, report and pipeline.

Katib's currentOptimalTrial (``updateTrialsSummary`` in Katib's
pkg/controller.v1beta1/experiment/util/status_util.go): among trials with an objective value,
the strictly smallest (minimize) or largest (maximize) wins and the first trial keeps a tie;
a value ``strconv.ParseFloat`` cannot read makes its trial the best, the last such trial
winning. Katib lets any text win; here only an objective that is a text by design does (DARTS's
``Best-Genotype``). Any other value that is not a finite number (``-``, ``abc``, ``nan``,
``inf``) cannot rank its trial: the engine records such a trial as MetricsUnavailable
(:func:`unavailable_reason`) and the rule skips it wherever it meets one (a cluster's trial).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from automl.spec import ExperimentSpec

__all__ = ["DONE", "best_of", "best_trial", "finite_number", "ranking", "ranks_as_text",
           "text_objective", "unavailable_reason"]

DONE = ("Succeeded", "EarlyStopped")
"""The conditions of trials that can be the best (early-stopped trials keep their values)."""

_Record = TypeVar("_Record", bound=Mapping[str, Any])


def text_objective(algorithm: str) -> bool:
    """True when the algorithm's objective is a text by design: DARTS reports its genotype."""
    return algorithm == "darts"


def ranks_as_text(value: Any, algorithm: str) -> bool:
    """True when ``value`` may be the best as a text: no number, of an algorithm that reports
    one (:func:`text_objective`)."""
    return isinstance(value, str) and _number(value) is None and text_objective(algorithm)


def ranking(trials: Iterable[tuple[Any, Any]], *, maximize: bool, algorithm: str) -> list[int]:
    """The positions of the trials that can be the best, best first.

    Args:
        trials: ``(status, objective)`` per trial, in trial order; an objective is a number,
            a text, or missing (None, NaN, pandas' NA).
        maximize: The objective's direction.
        algorithm: The algorithm's name (its objective may be a text: :func:`text_objective`).

    Returns:
        Texts first when the algorithm's objective is one (the last reported first, as Katib
        keeps the latest), then finite numbers best first, ties in trial order.
    """
    texts: list[int] = []
    numbers: list[tuple[float, int]] = []
    for i, (status, value) in enumerate(trials):
        if status not in DONE:
            continue
        number = finite_number(value)
        if number is not None:
            numbers.append((-number if maximize else number, i))
        elif ranks_as_text(value, algorithm):
            texts.append(i)
    return texts[::-1] + [i for _, i in sorted(numbers)]


def best_of(records: Sequence[_Record], *, maximize: bool, algorithm: str) -> _Record | None:
    """The best of ``records`` (mappings with ``status`` and ``objective``), or None."""
    order = ranking(((r.get("status"), r.get("objective")) for r in records),
                    maximize=maximize, algorithm=algorithm)
    return records[order[0]] if order else None


def best_trial(spec: ExperimentSpec, records: Sequence[Mapping[str, Any]]
               ) -> dict[str, Any] | None:
    """The best trial as a run summary names it: ``name``, ``objective``, ``params``.

    Args:
        spec: The experiment (its direction and algorithm).
        records: One mapping per trial, in trial order, with ``name``, ``status``,
            ``objective`` and ``params`` (name to the string the trial received).
    """
    best = best_of(records, maximize=spec.objective.type == "maximize",
                   algorithm=spec.algorithm.name)
    if best is None:
        return None
    return {"name": best["name"], "objective": best["objective"], "params": best["params"]}


def unavailable_reason(metric: str, value: Any, *, maximize: bool,
                       algorithm: str) -> str | None:
    """Why a finished trial's objective cannot rank it (so its metrics are unavailable).

    Returns:
        None for a finite number, or a text where the algorithm reports one; else a reason
        that names the value and says what Katib would do with it instead.
    """
    number = _number(value)
    if number is None:
        if value is None or (isinstance(value, str) and text_objective(algorithm)):
            return None
        # status_util.go: strconv.ParseFloat fails, so Katib takes the text as the best value
        hint = " (Katib's default filter reads -inf so)" if value in ("-", "+") else ""
        return (f"{metric} was {str(value)!r}, not a number{hint}; Katib would make this "
                "trial the best, as it does any text objective")
    if math.isnan(number):
        return (f"{metric} was {value}; Katib would compare NaN as a number: no trial after it "
                "would beat it if it came first")
    if math.isinf(number):
        where = "above" if (number > 0) == maximize else "below"
        return f"{metric} was {value}; Katib would rank this trial {where} every finite value"
    return None


def finite_number(value: Any) -> float | None:
    """``value`` as a number that can rank a trial (finite), else None."""
    number = _number(value)
    return number if number is not None and math.isfinite(number) else None


def _number(value: Any) -> float | None:
    """``value`` as Katib's ParseFloat reads it (NaN and infinities included), else None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
