"""Katib's rules, applied before anything runs.

Two layers, as in Katib: the admission webhook (refuses at ``kubectl apply``) and the checks
each suggestion service makes once it starts (fail the experiment minutes later). Both are
collected here into one list of findings, so a user sees every problem at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from automl.spec.errors import Finding
from automl.spec.rules.experiment import experiment_findings
from automl.spec.rules.space import space_findings
from automl.spec.rules.trial import trial_findings

if TYPE_CHECKING:
    from automl.spec.experiment import ExperimentSpec

__all__ = ["check"]


def check(spec: ExperimentSpec) -> list[Finding]:
    """Every way in which Katib would refuse ``spec``, now or once its suggestion service starts.

    Args:
        spec: The experiment to check.

    Returns:
        The findings, each with the field path it concerns; empty when Katib would run it.

    Example:
        >>> [f.message for f in check(spec)]
        ['grid search needs a step for every double parameter']
    """
    return [*experiment_findings(spec), *space_findings(spec), *trial_findings(spec)]
