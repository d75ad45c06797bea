"""What Katib accepts but a user should hear about: warnings, never refusals."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from automl.spec.algorithms import ALGORITHMS, ignored_settings
from automl.spec.deviations import deviation_findings
from automl.spec.errors import NAME, Finding
from automl.spec.filters import unreadable_metric_names

if TYPE_CHECKING:
    from automl.spec.experiment import ExperimentSpec

__all__ = ["ADVICE", "advice"]

Adviser = Callable[["ExperimentSpec"], Iterable[Finding]]

def _ignored_settings(spec: ExperimentSpec) -> Iterator[Finding]:
    # Katib's goptuna service (pkg/suggestion/v1beta1/goptuna/converter.go, toGoptunaSampler)
    # reads the settings it knows by name and passes over the rest; so does the local engine.
    known = ALGORITHMS[spec.algorithm.name].settings if ignored_settings(spec) else {}
    for name in ignored_settings(spec):
        yield Finding(("algorithm", "settings", name, NAME),
                      f"{spec.algorithm.name} ignores the setting {name!r} (Katib's goptuna "
                      f"service reads only: {', '.join(sorted(known)) or 'none'})")


def _checkpoint_folder_unnamed(spec: ExperimentSpec) -> Iterator[Finding]:
    # Katib mounts the folder at that path; locally the path is replaced where it is named
    folder = str(spec.algorithm.settings.get("suggestion_trial_dir", "")).rstrip("/")
    if spec.algorithm.name != "pbt" or not folder:
        return
    if folder not in json.dumps(spec.trial.model_dump(mode="json")):
        yield Finding(("algorithm", "settings", "suggestion_trial_dir"),
                      f"the trial never names {folder}: on Katib its checkpoint folder is "
                      "mounted there, but a local trial finds it only where its command or "
                      "env names that path, or in $AUTOML_CHECKPOINT_DIR")


ADVICE: tuple[Adviser, ...] = (_ignored_settings, unreadable_metric_names,
                               _checkpoint_folder_unnamed)
"""Checks whose findings are warnings wherever the experiment runs."""


def advice(spec: ExperimentSpec, *, cluster: bool = False) -> list[Finding]:
    """The warnings for ``spec``: :data:`ADVICE`, and with ``cluster`` where Katib differs.

    Args:
        spec: An experiment Katib's rules accept.
        cluster: Also say where a Katib cluster will do otherwise than a local run
            (:mod:`automl.spec.deviations`).

    Returns:
        The findings, each with the field path it concerns.
    """
    findings = [f for adviser in ADVICE for f in adviser(spec)]
    if cluster:
        findings.extend(deviation_findings(spec))
    return findings
