"""What Katib's suggestion services draw for a parameter: each service family's rule.

Katib maps each algorithm to a service (``automl.spec.algorithms.service_of``), and each
service turns a parameter into its own library's distribution; the same ``int 1..10 step 2``
gives ``{2, 4, 6, 8, 10}`` under hyperopt and ``{1, 3, 5, 7, 9}`` under Optuna. The rules here
are Katib's (kubeflow/katib at 33c8ff4, hyperopt 0.2.5, Optuna 3.3.0), written once so that
the local engine (``automl.local.space``) draws by them and ``validate --katib`` can say
where they differ from what the user wrote. Numbers only: no sampler, no Optuna.

* hyperopt (random, tpe; ``pkg/suggestion/v1beta1/hyperopt/base_service.py``,
  create_hyperopt_domain and convert): a step (an int's is 1 when unset,
  ``internal/search_space.py`` convert_parameter) quantizes as ``round(x / step) * step``
  on a grid counted from 0, each end value drawn at the share of its half-cell inside
  [min, max]; ``logUniform`` draws ``x`` log-uniformly; ``normal``/``logNormal`` draw it from
  N((min+max)/2, (max-min)/6) (on the log scale for logNormal), unbounded.
* optuna (grid, multivariate-tpe; ``optuna/base_service.py``, _get_optuna_search_space):
  Optuna's distributions; a log scale ignores the step and clamps min to 1 (int) or 1e-10.
* goptuna (cmaes, sobol; ``goptuna/converter.go``, toGoptunaSearchSpace): ``distribution``
  is never read: every range is linear.
* skopt (bayesianoptimization; ``skopt/base_service.py``, create_optimizer): an int is
  ``Integer(min, max)`` (no step, no log), a double always ``Real(min, max, "log-uniform")``.
* hyperband (``hyperband/parsing_util.py``, parse_parameter_configs and
  parse_x_next_vector): uniform over [min, max] whatever the distribution and step; an int
  rounded; a discrete value the item (read with ``int()``) nearest a uniform draw.

Where Katib's draw is a defect (a quantized or normal value outside [min, max]) the local
engine keeps the value within [min, max] (the nearest bound); ``automl.spec.deviations``
says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy

from automl.spec.errors import Finding
from automl.spec.parameters import Parameter

if TYPE_CHECKING:
    from automl.spec.experiment import ExperimentSpec

__all__ = ["HYPERBAND_UNREADABLE", "LOG", "NORMAL_SIGMAS", "clip", "draw_findings",
           "hyperband_discrete", "hyperband_int", "hyperopt_normal", "hyperopt_set",
           "hyperopt_step", "hyperopt_value", "katib_arange", "optuna_log_low", "quantize"]

LOG = ("logUniform", "logNormal")
NORMAL_SIGMAS = 3.0
"""Katib's sigma is (max - min) / 6: [min, max] is mu ± 3 sigma, where the local draw stays."""
HYPERBAND_UNREADABLE = "Katib's hyperband service reads discrete values with int()"
_SHOWN = 12  # values a note lists before it elides the middle


def quantize(x: float, step: float) -> float:
    """hyperopt's quantization: ``numpy.round(x / step) * step`` (half to even)."""
    return float(numpy.round(x / step) * step)


def clip(p: Parameter, value: float) -> float:
    """``value`` within [min, max]: the local engine's answer to a draw Katib lets out."""
    return min(max(value, float(p.min)), float(p.max))


def hyperopt_step(p: Parameter) -> float | None:
    """The step hyperopt quantizes by: the parameter's, or 1 for an int (Katib's default)."""
    if p.step:
        return float(p.step)
    return 1.0 if p.type == "int" else None


def hyperopt_normal(p: Parameter) -> tuple[float, float]:
    """(mu, sigma) of hyperopt's normal (on the log scale for logNormal), as Katib sets them."""
    low, high = float(p.min), float(p.max)
    if p.distribution == "logNormal":
        low, high = math.log(low), math.log(high)
    return (low + high) / 2, (high - low) / (2 * NORMAL_SIGMAS)


def hyperopt_value(p: Parameter, x: float) -> int | float:
    """Katib's hyperopt value for the continuous draw ``x``, kept within [min, max].

    Args:
        p: An int or double parameter.
        x: hyperopt's draw before quantization (after ``exp`` for the log scales).
    """
    step = hyperopt_step(p)
    value = clip(p, quantize(x, step) if step else x)
    return int(value) if p.type == "int" else value  # convert: int(vals[name][0])


def hyperopt_set(p: Parameter) -> list[int | float] | None:
    """The values hyperopt draws for a quantized uniform/logUniform parameter (None: not one).

    ``k * step`` for every k whose cell ``((k - 1/2) step, (k + 1/2) step)`` meets
    (min, max): values may lie outside [min, max].
    """
    step = hyperopt_step(p)
    if step is None or p.distribution not in ("uniform", "logUniform"):
        return None
    first = math.floor(float(p.min) / step - 0.5) + 1
    last = math.ceil(float(p.max) / step + 0.5) - 1
    if last - first > 10_000:
        return None
    values = [float(numpy.float64(k) * step) for k in range(first, last + 1)]
    return [int(v) for v in values] if p.type == "int" else values


def katib_arange(p: Parameter) -> list[float]:
    """``numpy.arange(min, max + step, step)``, as Katib's grid and ENAS enumerate a double.

    The values are numpy's (``0.30000000000000004``), which the trial receives as text; the
    caller decides what to do with a last value past max (grid drops it, ENAS fails).
    """
    values = numpy.arange(float(p.min), float(p.max) + float(p.step), float(p.step))
    return [float(v) for v in values]


def optuna_log_low(p: Parameter) -> int | float:
    """The low end of Katib's Optuna log distribution: min clamped to 1 (int) or 1e-10."""
    return max(1, int(p.min)) if p.type == "int" else max(1e-10, float(p.min))


def hyperband_int(x: float) -> int:
    """hyperband's int: ``int(round(x, 0))`` of the uniform draw (half to even)."""
    return int(numpy.round(x))


def hyperband_discrete(values: list[str], x: float) -> str:
    """hyperband's discrete value: the item nearest ``x`` (the first of ties), as ``str(int)``."""
    numbers = [int(v) for v in values]
    distances = [abs(n - x) for n in numbers]
    return str(numbers[distances.index(min(distances))])


# ---- what validate --katib says -------------------------------------------------------------


def draw_findings(spec: ExperimentSpec) -> Iterator[Finding]:
    """Per parameter, the value set or distribution Katib uses where it is not what was written."""
    from automl.spec.algorithms import service_of

    service = service_of(spec.algorithm.name)
    note = _NOTES.get(service or "")
    if note is None:
        return
    for i, p in enumerate(spec.parameters):
        text = note(p, spec.algorithm.name)
        if text is not None:
            yield Finding(("parameters", i), f"{p.name}: {text}")


def _written(p: Parameter) -> list[int | float]:
    """The grid a step promises: min, min + step, ... up to max (Katib's grid search)."""
    if p.type == "int":
        return list(range(int(p.min), int(p.max) + 1, int(p.step or 1)))
    count = math.floor((p.max - p.min) / p.step + 1e-9) + 1
    return [p.min + k * p.step for k in range(count)]


def _shown(values: list[int | float]) -> str:
    texts = [str(v) for v in values]
    if len(texts) > _SHOWN:
        texts = [*texts[:_SHOWN // 2], "...", *texts[-2:]]
    return "{" + ", ".join(texts) + "}"


def _hyperopt_note(p: Parameter, algorithm: str) -> str | None:
    if not p.numeric:
        return None
    step = hyperopt_step(p)
    if p.distribution in ("normal", "logNormal"):
        mu, sigma = hyperopt_normal(p)
        scale = "log(value) " if p.distribution == "logNormal" else ""
        grid = f", rounded to a multiple of {step:g}" if step else ""
        return (f"Katib's {algorithm} draws {scale}from N({mu:g}, {sigma:g}){grid}, unbounded "
                "(about 0.3% of its values outside [min, max]; kept within here)")
    values = hyperopt_set(p)
    if values is None:
        return None
    written = _written(p)
    if len(values) == len(written) and all(
            math.isclose(a, b, abs_tol=1e-12) for a, b in zip(values, written, strict=True)):
        return None
    outside = [v for v in values if not p.min <= v <= p.max]
    text = f"Katib's {algorithm} draws {_shown(values)} (multiples of {step:g}"
    if p.distribution == "logUniform":
        text += " of a log-uniform draw"
    text += ")"
    if outside:
        text += f"; {_shown(outside)} outside [min, max] become the nearest bound here"
    return text


def _optuna_note(p: Parameter, algorithm: str) -> str | None:
    if not p.numeric:
        return None
    if p.distribution == "logUniform":
        # a min raised to Optuna's floor is a warning wherever it runs (rules.replaced)
        return (f"Katib's {algorithm} draws log-uniformly and ignores the step"
                if p.step is not None else None)
    if p.step is not None and p.step > p.max - p.min:
        return f"Katib's {algorithm} draws only min ({p.min:g}): the step is beyond max - min"
    return None


def _goptuna_note(p: Parameter, algorithm: str) -> str | None:
    if p.numeric and p.distribution != "uniform":
        return (f"Katib's {algorithm} never reads distribution: it draws uniformly on a "
                "linear scale (here too)")
    return None


def _skopt_note(p: Parameter, algorithm: str) -> str | None:
    if p.type == "int" and (p.step not in (None, 1) or p.distribution != "uniform"):
        return (f"Katib's {algorithm} draws every integer of [min, max] uniformly "
                "(Integer(min, max): step and distribution ignored)")
    if p.type == "double" and (p.step is not None or p.distribution != "logUniform"):
        return (f"Katib's {algorithm} draws log-uniformly within [min, max] "
                "(Real(min, max, 'log-uniform'): step and distribution ignored)")
    return None


def _hyperband_note(p: Parameter, algorithm: str) -> str | None:
    if p.numeric and (p.step is not None or p.distribution != "uniform"):
        rounded = ", rounded to an integer" if p.type == "int" else ""
        return (f"Katib's {algorithm} draws uniformly within [min, max]{rounded} (step and "
                "distribution ignored)")
    if p.type == "discrete" and p.values and len(p.values) > 1:
        try:
            numbers = sorted({int(v) for v in p.values})
        except ValueError:
            return None  # refused by the hyperband rules
        return (f"Katib's {algorithm} draws {_shown(numbers)}: the item nearest a uniform "
                f"draw within [{numbers[0]}, {numbers[-1]}]")
    return None


_NOTES = {"hyperopt": _hyperopt_note, "optuna": _optuna_note, "goptuna": _goptuna_note,
          "skopt": _skopt_note, "hyperband": _hyperband_note}
