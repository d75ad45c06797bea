"""Data → ExperimentSpec, with every problem reported at once and located."""

from __future__ import annotations

import difflib
import types
import typing
import warnings
from typing import Any

from pydantic import BaseModel, ValidationError

from automl.spec.errors import Finding, Path, SpecError, SpecWarning
from automl.spec.experiment import ExperimentSpec
from automl.spec.rules import check
from automl.spec.rules.trial import cluster_findings, warning_findings
from automl.spec.source import Locator, locate

__all__ = ["build", "structural_findings"]


def build(data: Any, locator: Locator, *, rules: bool = True,
          cluster: bool = False) -> ExperimentSpec:
    """Validate ``data`` as an ExperimentSpec, then (by default) against Katib's rules.

    Args:
        data: Plain data, as loaded from YAML.
        locator: Turns a field path into the path shown and its file and line.
        rules: Also apply Katib's rules (:func:`automl.spec.check`).
        cluster: Also require what only a cluster needs (an image, a Katib collector).

    Raises:
        SpecError: Listing every problem, each located.

    Warns:
        SpecWarning: For what Katib accepts but cannot work (with ``rules``).
    """
    if not isinstance(data, dict):
        raise SpecError(locate([Finding((), "expected a mapping of experiment fields (name, "
                                            "objective, parameters, trial, ...)")], locator))
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(locate(structural_findings(exc, ExperimentSpec), locator)) from None
    if rules:
        findings = check(spec) + (list(cluster_findings(spec)) if cluster else [])
        if findings:
            raise SpecError(locate(findings, locator))
        for issue in locate(list(warning_findings(spec)), locator):
            # A Python warning: shown once per message, and the CLI prints it in one line.
            warnings.warn(SpecWarning(issue), stacklevel=2)
    return spec


def structural_findings(exc: ValidationError, model: type[BaseModel]) -> list[Finding]:
    """Pydantic's errors as findings with messages that say what was expected."""
    findings = []
    for error in exc.errors():
        path: Path = tuple(error["loc"])
        kind = error["type"]
        if kind == "missing":
            message = "required"
        elif kind == "extra_forbidden":
            message = _unknown_field(model, path)
        elif kind == "value_error":
            message = str(error["ctx"]["error"]) if "ctx" in error else error["msg"]
        else:
            message = f"{error['msg']}, got {error['input']!r}"
        findings.append(Finding(path, message))
    return findings


def _unknown_field(model: type[BaseModel], path: Path) -> str:
    owner = _model_at(model, path[:-1])
    if owner is None:
        return "unknown field"
    names = [f.alias or name for name, f in owner.model_fields.items()]
    close = difflib.get_close_matches(str(path[-1]), names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown field{hint}; expected one of: {', '.join(names)}"


def _model_at(model: type[BaseModel], path: Path) -> type[BaseModel] | None:
    annotation: Any = model
    for part in path:
        annotation = _unwrap(annotation, isinstance(part, int))
        if isinstance(part, str):
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return None
            fields = {f.alias or n: f for n, f in annotation.model_fields.items()}
            field = fields.get(part) or annotation.model_fields.get(part)
            if field is None:
                return None
            annotation = field.annotation
    annotation = _unwrap(annotation, False)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _unwrap(annotation: Any, item: bool) -> Any:
    """Strip Optional; for a list index, step into the list's item type."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = args[0] if len(args) == 1 else annotation
        origin = typing.get_origin(annotation)
    if item and origin is list:
        return typing.get_args(annotation)[0]
    return annotation
