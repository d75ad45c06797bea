"""Settings Katib accepts but replaces, or that a local run has to replace: warnings."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

from automl.spec.algorithms import ALGORITHMS
from automl.spec.draws import optuna_log_low
from automl.spec.errors import Finding

if TYPE_CHECKING:
    from automl.spec.experiment import ExperimentSpec

__all__ = ["SEEDS", "replaced_settings"]


def replaced_settings(spec: ExperimentSpec) -> Iterator[Finding]:
    """Values Katib accepts but replaces, or that a local run must replace (warnings)."""
    settings = spec.algorithm.settings
    name = spec.algorithm.name
    here = ("algorithm", "settings")
    if name == "hyperband" and _number(settings.get("eta", 3)) <= 0:
        yield Finding((*here, "eta"), "Katib's hyperband service replaces an eta <= 0 by 3 "
                                      "(so does a local run)")
    if name == "cmaes":
        seed = _number(settings.get("random_state", 0))
        if math.isfinite(seed) and not 0 <= seed < SEEDS:
            yield Finding((*here, "random_state"),
                          f"Katib's goptuna seeds with it; a local run seeds with "
                          f"{int(seed) % SEEDS} (Optuna takes 0 to 2**32 - 1)")
        if _number(settings.get("sigma", 1)) <= 0:
            yield Finding((*here, "sigma"),
                          "Katib's goptuna starts CMA-ES with it; a local run cannot (Optuna "
                          "needs sigma > 0) and starts from Optuna's default")
    if ALGORITHMS.get(name) is not None and ALGORITHMS[name].service == "optuna":
        for i, p in enumerate(spec.parameters):
            if (p.numeric and p.distribution == "logUniform" and p.min is not None
                    and optuna_log_low(p) != p.min):
                yield Finding(("parameters", i, "min"),
                              f"Katib's Optuna service raises min to {optuna_log_low(p):g} on "
                              "a log scale (so does a local run)")


SEEDS = 2**32
"""Seeds Optuna's samplers take: numpy's, 0 to 2**32 - 1."""


def _number(value: object) -> float:
    try:
        return float(str(value))
    except ValueError:
        return math.nan  # the setting rules say what is wrong
