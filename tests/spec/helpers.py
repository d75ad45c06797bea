"""A small valid experiment to vary in tests."""

from __future__ import annotations

import copy
from typing import Any

from automl.spec import ExperimentSpec, check

BASE: dict[str, Any] = {
    "name": "demo",
    "objective": {"metric": "loss", "type": "minimize"},
    "algorithm": {"name": "random"},
    "budget": {"max_trials": 10, "parallel_trials": 2},
    "parameters": [
        {"name": "lr", "type": "double", "min": 0.001, "max": 0.1},
        {"name": "layers", "type": "int", "min": 1, "max": 4},
        {"name": "opt", "type": "categorical", "list": ["sgd", "adam"]},
    ],
    "trial": {
        "image": "python:3.11-slim",
        "command": ["python", "train.py", "--lr=${trialParameters.lr}",
                    "--layers=${trialParameters.layers}", "--opt=${trialParameters.opt}"],
    },
}


def spec_with(**changes: Any) -> ExperimentSpec:
    """BASE with top-level fields replaced (deep-copied first)."""
    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(changes))
    return ExperimentSpec.model_validate(data)


def findings(spec: ExperimentSpec) -> dict[str, str]:
    """Katib's findings as {rendered path: message} (several at one path joined by newlines)."""
    from automl.spec.errors import render_path

    found: dict[str, str] = {}
    for f in check(spec):
        key = render_path(f.path)
        found[key] = f"{found[key]}\n{f.text}" if key in found else f.text
    return found
