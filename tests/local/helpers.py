"""Experiments over tests/data/trial.py, run by the local engine in a temporary folder."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import optuna

from automl.local import LocalEngine, RunSummary
from automl.local.store import ATTR, open_storage
from automl.spec import ExperimentSpec

TRIAL = str(Path(__file__).resolve().parents[1] / "data" / "trial.py")

BASE: dict[str, Any] = {
    "name": "t",
    "objective": {"metric": "loss", "type": "minimize", "additional_metrics": ["accuracy"]},
    "algorithm": {"name": "random", "settings": {"random_state": 1}},
    "budget": {"max_trials": 4, "parallel_trials": 2},
    "parameters": [{"name": "x", "type": "double", "min": 0.0, "max": 1.0},
                   {"name": "y", "type": "int", "min": 0, "max": 4}],
    "trial": {"command": [sys.executable, TRIAL, "--x=${trialParameters.x}",
                          "--y=${trialParameters.y}"]},
}


def spec(**changes: Any) -> ExperimentSpec:
    """BASE with top-level fields replaced; ``args`` adds trial arguments."""
    data = copy.deepcopy(BASE)
    extra = changes.pop("args", [])
    data["trial"]["command"] += extra
    data.update(copy.deepcopy(changes))
    return ExperimentSpec.model_validate(data)


KATIB_IMAGE = "registry.example.org/automl-tests/trainer:1"
"""An image of its own for cluster trials: it may hold the trial's program (a stock image
could not, and the cluster check would refuse it)."""


def katib_spec(**changes: Any) -> ExperimentSpec:
    """:func:`spec` with 3 trials at once, in :data:`KATIB_IMAGE`, for the Katib backend."""
    s = spec(budget={"max_trials": 3, "parallel_trials": 3}, **changes)
    return s.model_copy(update={"trial": s.trial.model_copy(update={"image": KATIB_IMAGE})})


def run(experiment: ExperimentSpec, root: Path, **kwargs: Any) -> RunSummary:
    return LocalEngine(experiment, root=root / ".automl", progress=False, **kwargs).run()


def records(root: Path, name: str = "t") -> list[dict[str, Any]]:
    """automl's record of each trial, in trial order."""
    study = optuna.load_study(study_name=name, storage=open_storage(None, root / ".automl"))
    return [t.user_attrs.get(ATTR, {"state": t.state.name}) for t in study.get_trials()]


def study_trials(root: Path, name: str) -> list[optuna.trial.FrozenTrial]:
    """The stored trials of experiment ``name`` under ``root`` (none while it has no study)."""
    try:
        return optuna.load_study(study_name=name,
                                 storage=open_storage(None, root / ".automl")).get_trials()
    except KeyError:
        return []


def darts(name: str, program: list[str], **settings: Any) -> ExperimentSpec:
    """A DARTS experiment: ``program`` gets Katib's three arguments and prints
    ``Best-Genotype=Genotype(...)`` and ``Validation-Accuracy=...``."""
    import automl

    return automl.load({
        "name": name, "objective": {"metric": "Best-Genotype", "type": "maximize",
                                    "additional_metrics": ["Validation-Accuracy"]},
        "algorithm": {"name": "darts", "settings": settings},
        "budget": {"max_trials": 1, "parallel_trials": 1},
        "search_space": "nas/darts_cell",
        "trial": {"command": [*program,
                              "--algorithm-settings=${trialParameters.algorithm-settings}",
                              "--search-space=${trialParameters.search-space}",
                              "--num-layers=${trialParameters.num-layers}"],
                  # Katib's DARTS filter, then its default one needing a digit: the default
                  # also reads "Best-Genotype=" as an empty value, which Katib keeps
                  "metrics_collector": {"kind": "StdOut", "filter": [
                      r"([\w-]+)=(Genotype.*)",
                      r"([\w|-]+)\s*=\s*([+-]?\d+(\.\d+)?([Ee][+-]?\d+)?)"]}}})
