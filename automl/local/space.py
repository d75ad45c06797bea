"""Katib parameters → Optuna distributions, and sampled values → the strings trials receive.

For the NAS algorithms the sampled values are an architecture's choices, and what the trial
receives is Katib's NAS assignments (see ``automl.spec.nas_assignments``).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from automl.spec import ExperimentSpec, Parameter, draws
from automl.spec.algorithms import service_of
from automl.spec.settings import setting_text

__all__ = ["Domain", "assignments", "domain", "domains", "enas_space", "search_space",
           "trial_value"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Domain:
    """How Katib's service for an algorithm draws one parameter, as the local engine runs it.

    Attributes:
        raw: What the Optuna sampler samples (e.g. hyperopt's continuous draw before
            quantization, or a normal's quantile).
        value: The raw draw → the value Katib's service gives the trial (a number, or the
            list's text), kept within [min, max] (``automl.spec.draws``).
    """

    raw: BaseDistribution
    value: Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


def _choice(p: Parameter) -> Domain:
    # every service draws a list item uniformly and hands the trial its text
    return Domain(CategoricalDistribution(list(p.values or [])), _same)


def _hyperopt(p: Parameter) -> Domain:
    """hyperopt's domain (random, tpe): a continuous draw, then Katib's rounding."""
    if not p.numeric:
        return _choice(p)
    if p.distribution in ("normal", "logNormal"):
        # the normal's quantile, within mu ± 3 sigma = [min, max] (Katib's is unbounded)
        mu, sigma = draws.hyperopt_normal(p)
        edge = NormalDist().cdf(draws.NORMAL_SIGMAS)
        if sigma <= 0:
            return Domain(FloatDistribution(0.5, 0.5), lambda u: draws.hyperopt_value(
                p, math.exp(mu) if p.distribution == "logNormal" else mu))
        normal = NormalDist(mu, sigma)

        def from_quantile(u: float) -> int | float:
            z = normal.inv_cdf(min(max(u, 1 - edge), edge))
            return draws.hyperopt_value(p, math.exp(z) if p.distribution == "logNormal" else z)

        return Domain(FloatDistribution(1 - edge, edge), from_quantile)
    raw = FloatDistribution(float(p.min), float(p.max), log=p.distribution == "logUniform")
    return Domain(raw, lambda x: draws.hyperopt_value(p, float(x)))


def _optuna(p: Parameter) -> Domain:
    """Katib's Optuna service's distributions (grid, multivariate-tpe)."""
    if not p.numeric:
        return _choice(p)
    log = p.distribution in draws.LOG
    if p.type == "int":
        if log:
            return Domain(IntDistribution(int(draws.optuna_log_low(p)), int(p.max), log=True),
                          _same)
        return Domain(IntDistribution(int(p.min), int(p.max), step=int(p.step or 1)), _same)
    if log:
        return Domain(FloatDistribution(float(draws.optuna_log_low(p)), float(p.max), log=True),
                      _same)
    # a step beyond max - min leaves min alone, as Optuna's FloatDistribution makes it
    return Domain(FloatDistribution(float(p.min), float(p.max), step=p.step), _same)


def _goptuna(p: Parameter) -> Domain:
    """goptuna's (cmaes, sobol): ``distribution`` is never read, every range is linear."""
    if not p.numeric:
        return _choice(p)
    if p.type == "int":
        return Domain(IntDistribution(int(p.min), int(p.max), step=int(p.step or 1)), _same)
    return Domain(FloatDistribution(float(p.min), float(p.max), step=p.step), _same)


def _skopt(p: Parameter) -> Domain:
    """scikit-optimize's (bayesianoptimization): Integer(min, max); Real log-uniform."""
    if not p.numeric:
        return _choice(p)
    if p.type == "int":
        return Domain(IntDistribution(int(p.min), int(p.max)), _same)
    return Domain(FloatDistribution(float(p.min), float(p.max), log=True), _same)


def _hyperband(p: Parameter) -> Domain:
    """hyperband's: uniform within [min, max]; an int rounded; a discrete item the nearest."""
    if p.type == "categorical":
        return _choice(p)  # one-hot of uniform draws, argmax: each item alike
    if p.type == "discrete":
        numbers = [int(v) for v in p.values or []]
        values = list(p.values or [])
        return Domain(FloatDistribution(float(min(numbers)), float(max(numbers))),
                      lambda x: draws.hyperband_discrete(values, float(x)))
    raw = FloatDistribution(float(p.min), float(p.max))
    if p.type == "int":
        return Domain(raw, lambda x: draws.hyperband_int(float(x)))
    return Domain(raw, lambda x: float(x))


def _listed(p: Parameter) -> Domain:
    """A parameter a schedule sets (pbt): its own range, any value the schedule gives."""
    if not p.numeric:
        return _choice(p)
    log = p.distribution in draws.LOG
    step = None if log else p.step
    if p.type == "int":
        return Domain(IntDistribution(int(p.min), int(p.max), log=log, step=int(step or 1)),
                      _same)
    if step is not None and step > p.max - p.min:
        step = None
    return Domain(FloatDistribution(float(p.min), float(p.max), log=log, step=step), _same)


_FAMILIES: dict[str, Callable[[Parameter], Domain]] = {
    "hyperopt": _hyperopt, "optuna": _optuna, "goptuna": _goptuna, "skopt": _skopt,
    "hyperband": _hyperband,
}


def domain(p: Parameter, service: str | None) -> Domain:
    """How Katib's ``service`` draws ``p`` (pbt's and unknown services: its own range)."""
    with warnings.catch_warnings():
        # Optuna says when a step does not divide max - min; Katib's service says nothing
        warnings.simplefilter("ignore", UserWarning)
        return _FAMILIES.get(service or "", _listed)(p)


def domains(spec: ExperimentSpec) -> dict[str, Domain]:
    """Name → Domain of every parameter, for the service Katib runs the algorithm on."""
    service = service_of(spec.algorithm.name)
    return {p.name: domain(p, service) for p in spec.parameters}


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

    DARTS chooses nothing: every trial receives the same arguments.
    """
    if spec.algorithm.name == "enas":
        return enas_space(spec)
    if spec.algorithm.name == "darts":
        return {}
    return {name: d.raw for name, d in domains(spec).items()}


def assignments(spec: ExperimentSpec, params: dict[str, Any]) -> dict[str, str]:
    """Katib's parameter assignments for sampled values: name → the string the trial gets.

    Args:
        spec: The experiment.
        params: The sampler's raw draws (``Optuna trial.params``), by parameter name.
    """
    from automl.spec import nas_assignments as nas

    if spec.algorithm.name == "enas":
        return nas.enas_assignments(spec, params)
    if spec.algorithm.name == "darts":
        return nas.darts_assignments(spec)
    service = service_of(spec.algorithm.name)
    found = domains(spec)
    out = {}
    for name, raw in params.items():
        value = found[name].value(raw) if name in found else raw
        out[name] = trial_value(value, service)
    if service == "hyperband":
        # the resource is written str(int(r)) whatever the parameter's type
        # (pkg/suggestion/v1beta1/hyperband/service.py, _make_master_bracket, _copy_trials)
        resource = str(spec.algorithm.settings.get("resource_name"))
        if resource in out:
            out[resource] = str(int(float(out[resource])))
    return out


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
