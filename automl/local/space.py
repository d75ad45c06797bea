"""Katib parameters → Optuna distributions, and sampled values → the strings trials receive.

For the NAS algorithms the sampled values are an architecture's choices, and what the trial
receives is Katib's NAS assignments (see ``automl.spec.nas_assignments``).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from automl.spec import ExperimentSpec, Parameter
from automl.spec.algorithms import service_of
from automl.spec.settings import setting_text

__all__ = ["assignments", "distribution", "distributions", "enas_space", "search_space",
           "trial_value"]

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


def trial_value(value: Any, service: str | None = None) -> str:
    """A sampled value as the string Katib substitutes into the trial (``0.01``, ``3``).

    Args:
        value: The sampled value.
        service: The Katib suggestion service that would have sampled it: a double reaches
            the trial as that service writes it. The Python services use ``str``
            (``1.0``, pkg/suggestion/v1beta1/internal/trial.py, Assignment.generate); goptuna
            Go's shortest fixed-point form (``1``, ``0.00001``: strconv.FormatFloat(v, 'f', -1,
            64) in pkg/suggestion/v1beta1/goptuna/sample.go).
    """
    if isinstance(value, float):
        if service in _PYTHON_SERVICES:
            return str(value)
        if service == "goptuna":
            return numpy.format_float_positional(value, unique=True, trim="-")
    return setting_text(value)


_PYTHON_SERVICES = ("hyperopt", "optuna", "skopt", "hyperband", "pbt")


def search_space(spec: ExperimentSpec) -> dict[str, BaseDistribution]:
    """What the sampler chooses for one trial: the parameters, or an ENAS architecture.

    DARTS chooses nothing: every trial receives the same arguments. bayesianoptimization
    samples doubles on a log scale, whatever their distribution, as Katib's service does.
    """
    if spec.algorithm.name == "enas":
        return enas_space(spec)
    if spec.algorithm.name == "darts":
        return {}
    space = distributions(spec.parameters)
    if spec.algorithm.name == "bayesianoptimization":
        # Katib's scikit-optimize service samples every double as Real(min, max, "log-uniform")
        space.update({p.name: FloatDistribution(float(p.min), float(p.max), log=True)
                      for p in spec.parameters if p.type == "double"})
    return space


def assignments(spec: ExperimentSpec, params: dict[str, Any]) -> dict[str, str]:
    """Katib's parameter assignments for sampled values: name → the string the trial gets."""
    from automl.spec import nas_assignments as nas

    if spec.algorithm.name == "enas":
        return nas.enas_assignments(spec, params)
    if spec.algorithm.name == "darts":
        return nas.darts_assignments(spec)
    service = service_of(spec.algorithm.name)
    return {k: trial_value(v, service) for k, v in params.items()}


def enas_space(spec: ExperimentSpec) -> dict[str, BaseDistribution]:
    """An ENAS architecture's choices: ``layer_<i>`` (an operation id), ``skip_<i>_<j>`` (0/1).

    ``automl.spec.nas_assignments.enas_assignments`` turns them into Katib's ``architecture`` and
    ``nn_config``.
    """
    from automl.spec.nas_assignments import enas_operations

    assert spec.nas is not None and spec.nas.graph.num_layers is not None
    ids = list(range(len(enas_operations(spec.nas.operations))))
    space: dict[str, BaseDistribution] = {}
    for layer in range(spec.nas.graph.num_layers):
        space[f"layer_{layer}"] = CategoricalDistribution(ids)
        for earlier in range(layer):
            space[f"skip_{layer}_{earlier}"] = CategoricalDistribution([0, 1])
    return space
