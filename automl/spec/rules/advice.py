"""What Katib accepts but a user should hear about: warnings, never refusals."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from automl.spec.algorithms import ALGORITHMS, ignored_settings
from automl.spec.deviations import deviation_findings
from automl.spec.errors import NAME, Finding
from automl.spec.filters import filter_advice, unreadable_metric_names
from automl.spec.rules.experiment import early_stopping_advice
from automl.spec.rules.replaced import replaced_settings
from automl.spec.rules.space import list_advice

if TYPE_CHECKING:
    from automl.spec.experiment import ExperimentSpec

__all__ = ["ADVICE", "advice"]

Adviser = Callable[["ExperimentSpec"], Iterable[Finding]]

def _ignored_settings(spec: ExperimentSpec) -> Iterator[Finding]:
    # Katib's goptuna service (pkg/suggestion/v1beta1/goptuna/converter.go, toGoptunaSampler)
    # and hyperband service (hyperband/service.py, HyperBandParam.convert) read the settings
    # they know by name and pass over the rest; darts (nas/darts/service.py,
    # get_algorithm_settings) hands every setting to the trial unchecked.
    algorithm = ALGORITHMS.get(spec.algorithm.name)
    for name in ignored_settings(spec):
        assert algorithm is not None
        if algorithm.nas:
            told = (f"Katib's {algorithm.service} service does not check {name!r}: it hands it "
                    "to the trial in algorithm-settings (so does a local run)")
        else:
            told = (f"{spec.algorithm.name} ignores the setting {name!r} (Katib's "
                    f"{algorithm.service} service reads only: "
                    f"{', '.join(sorted(algorithm.settings)) or 'none'})")
        yield Finding(("algorithm", "settings", name, NAME), told)


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
                               _checkpoint_folder_unnamed, list_advice, replaced_settings,
                               early_stopping_advice, filter_advice)
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
