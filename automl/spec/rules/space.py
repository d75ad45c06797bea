"""Rules on the search space: parameters (HPO) or nas (architecture search)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from automl.spec.errors import Finding, Path
from automl.spec.parameters import Parameter

if TYPE_CHECKING:
    from automl.spec.experiment import ExperimentSpec

__all__ = ["parameter_findings", "space_findings"]


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
        yield Finding((*here, "max"), f"must be >= min ({p.min:g}), got {p.max:g}")
    if p.step is not None and p.step <= 0:
        yield Finding((*here, "step"), f"expected a number > 0, got {p.step:g}")
    if p.distribution in ("logUniform", "logNormal") and p.min is not None and p.min <= 0:
        yield Finding((*here, "min"),
                      f"a {p.distribution} parameter needs min > 0 (it samples log(value)), "
                      f"got {p.min:g}")


def _choices(here: Path, p: Parameter) -> Iterator[Finding]:
    for field in ("min", "max", "step"):
        if getattr(p, field) is not None:
            yield Finding((*here, field), f"a {p.type} parameter takes list, not min/max/step")
    if not p.values:
        yield Finding((*here, "list"), f"required for a {p.type} parameter: at least one value")
        return
    if p.distribution != "uniform":
        yield Finding((*here, "distribution"),
                      f"a {p.type} parameter picks from its list; distribution applies only to "
                      "double and int parameters")
    for j, value in enumerate(p.values):
        if p.type == "discrete" and isinstance(value, str):
            yield Finding((*here, "list", j),
                          f"discrete values are numbers, got {value!r} (use categorical for "
                          "labels)")
        elif value in p.values[:j]:
            yield Finding((*here, "list", j), f"{value!r} is listed twice")
