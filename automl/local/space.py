"""Katib parameters → Optuna distributions, and sampled values → the strings trials receive."""

from __future__ import annotations

import logging
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from automl.katib.to_katib import katib_str
from automl.spec import Parameter

__all__ = ["distribution", "distributions", "short_value", "trial_value"]

logger = logging.getLogger(__name__)


def distribution(p: Parameter) -> BaseDistribution:
    """The Optuna distribution that samples ``p`` as Katib's services do.

    double/int: uniform, or log scale for logUniform (a step is then ignored, as in Katib's
    Optuna service); discrete/categorical: a choice among the list. ``normal`` and
    ``logNormal`` (Katib's hyperopt services only) are sampled uniformly / log-uniformly
    within [min, max], which Optuna's samplers support; a warning says so.
    """
    if p.type in ("discrete", "categorical"):
        return CategoricalDistribution(list(p.values or []))
    log = p.distribution in ("logUniform", "logNormal")
    if p.distribution in ("normal", "logNormal"):
        logger.warning("parameter %s: %s is sampled %suniformly within [min, max] locally",
                       p.name, p.distribution, "log-" if log else "")
    step = None if log else p.step
    if p.type == "int":
        return IntDistribution(int(p.min), int(p.max), log=log, step=int(step or 1))
    if step is not None and step > p.max - p.min:
        step = None
    return FloatDistribution(float(p.min), float(p.max), log=log, step=step)


def distributions(parameters: list[Parameter]) -> dict[str, BaseDistribution]:
    """Name → distribution for every parameter."""
    return {p.name: distribution(p) for p in parameters}


def short_value(value: str) -> str:
    """A parameter value for display: numbers to 4 significant digits."""
    try:
        number = float(value)
    except ValueError:
        return value
    return value if number.is_integer() and "." not in value else f"{number:.4g}"


def trial_value(value: Any) -> str:
    """A sampled value as the string Katib substitutes into the trial (``0.01``, ``3``)."""
    return katib_str(value)
