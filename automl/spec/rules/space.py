"""Rules on the search space: parameters (HPO) or nas (architecture search)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from automl.spec._base import is_number
from automl.spec.errors import Finding, Path
from automl.spec.parameters import Parameter

if TYPE_CHECKING:
    from automl.spec.experiment import ExperimentSpec

__all__ = ["list_advice", "parameter_findings", "space_findings"]

_MAX_STEPS = 10**27  # Optuna rounds to a step in 28-digit decimals (Katib's service too)


def space_findings(spec: ExperimentSpec) -> Iterator[Finding]:
    """Katib's rule 'exactly one of parameters and nasConfig', then each parameter."""
    if spec.parameters and spec.nas is not None:
        yield Finding(("nas",), "give parameters (hyperparameter tuning) or nas (architecture "
                                "search), not both")
    elif not spec.parameters and spec.nas is None:
        yield Finding(("parameters",), "required: a search space (parameters, a search_space "
                                       "file, or nas)")
    yield from parameter_findings(("parameters",), spec.parameters)
    if spec.nas is not None:
        for i, op in enumerate(spec.nas.operations):
            yield from parameter_findings(("nas", "operations", i, "parameters"), op.parameters)


def parameter_findings(path: Path, parameters: Sequence[Parameter]) -> Iterator[Finding]:
    """Per-parameter rules, and names that repeat."""
    seen: set[str] = set()
    for i, p in enumerate(parameters):
        here = (*path, i)
        if not p.name.strip():
            yield Finding((*here, "name"), "required")
        elif p.name in seen:
            yield Finding((*here, "name"), f"parameter {p.name!r} is defined twice")
        seen.add(p.name)
        if p.numeric:
            yield from _range(here, p)
        else:
            yield from _choices(here, p)


def _range(here: Path, p: Parameter) -> Iterator[Finding]:
    if p.values is not None:
        yield Finding((*here, "list"), f"a {p.type} parameter takes min and max, not list")
    for field in ("min", "max"):
        if getattr(p, field) is None:
            yield Finding((*here, field), f"required for a {p.type} parameter")
    if p.type == "int":
        for field in ("min", "max", "step"):
            value = getattr(p, field)
            if value is not None and not isinstance(value, int):
                yield Finding((*here, field), f"expected an integer, got {value!r}")
    if p.min is not None and p.max is not None and p.min > p.max:
        yield Finding((*here, "max"), f"must be >= min ({_shown(p.min)}), got {_shown(p.max)}")
    if p.step is not None and p.step <= 0:
        yield Finding((*here, "step"), f"expected a number > 0, got {_shown(p.step)}")
    elif p.min is not None and p.max is not None and p.min <= p.max:
        yield from _representable(here, p)


def _representable(here: Path, p: Parameter) -> Iterator[Finding]:
    """A range the suggestion services can compute with, in doubles as they all do.

    Katib's webhook takes any numbers, but its services (and Optuna here) sample within
    ``[min - step/2, max + step/2]`` and round to ``min + k * step``: a span beyond the largest
    double is infinite, and Optuna's rounding of doubles (in Katib's Optuna service as here)
    fails on a step that divides the span into more than 28 digits' worth of steps. A log
    scale ignores the step.
    """
    step = None if p.distribution in ("logUniform", "logNormal") else p.step
    span = p.max - p.min  # exact for ints, which may be any size
    if span + (step or 0) > sys.float_info.max:
        plus = f" + step ({_shown(step)})" if step else ""
        yield Finding((*here, "max"), f"max - min ({_shown(p.max)} - {_shown(p.min)}){plus} is "
                                      "beyond the largest double (1.8e308); the suggestion "
                                      "services cannot sample it")
    elif p.type == "double" and step is not None and span / step > _MAX_STEPS:
        yield Finding((*here, "step"), f"{_shown(step)} divides max - min ({_shown(span)}) "
                                       "into more than 10**27 steps, too many for Optuna (and "
                                       "Katib's Optuna service) to round to")


def _shown(number: float) -> str:
    # :g would raise OverflowError on an int beyond a double
    return f"{number:g}" if abs(number) < 1e16 else str(number)


def _choices(here: Path, p: Parameter) -> Iterator[Finding]:
    for field in ("min", "max", "step"):
        if getattr(p, field) is not None:
            yield Finding((*here, field), f"a {p.type} parameter takes list, not min/max/step")
    if not p.values:
        yield Finding((*here, "list"), f"required for a {p.type} parameter: at least one value")


def list_advice(spec: ExperimentSpec) -> Iterator[Finding]:
    """What Katib accepts in a list but a user should hear about (warnings, never refusals).

    Katib's webhook never looks inside a list, and its services draw an item as they find it:
    a distribution is not read, a discrete value that is no number is handed over as it is, a
    repeated value is drawn as often as it is listed (``hp.choice``, Optuna's and goptuna's
    CategoricalDistribution).
    """
    for i, p in enumerate(spec.parameters):
        here = ("parameters", i)
        if p.numeric or not p.values:
            continue
        if p.distribution != "uniform":
            yield Finding((*here, "distribution"),
                          f"a {p.type} parameter picks from its list; Katib does not read its "
                          "distribution (nor does a local run)")
        for j, value in enumerate(p.values):
            if p.type == "discrete" and not is_number(value):
                yield Finding((*here, "list", j),
                              f"{value!r} is not a number; Katib hands it to the trial as it is "
                              "(categorical says so)")
            elif value in p.values[:j]:
                yield Finding((*here, "list", j),
                              f"{value!r} is listed twice: Katib draws it twice as often")
