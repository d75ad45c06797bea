"""Run automl's local engine with trials that are plain function calls in this process.

Fidelity (c) and the tabular benchmarks (e) measure what the engine's samplers choose, not
how trials run: a lookup in a table or a closed-form function would cost microseconds, and
forking a process for it (as ``automl.tune`` does) would dominate. The runner here goes
through the engine's whole path (ask, the trial job with its string parameters, the
observation, the metric strategy, tell) without starting anything.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from automl.local import LocalEngine
from automl.local.job import TrialJob
from automl.local.metrics import Observation
from automl.local.runner import TrialOutcome, TrialRunner
from automl.spec import ExperimentSpec

__all__ = ["InProcessRunner", "run_in_process", "spec_for"]


class InProcessRunner(TrialRunner):
    """Calls ``function(assignments)`` in the engine's worker thread; its number is the objective.

    Args:
        function: Receives the trial's parameters as Katib passes them (strings) and returns
            the objective value.
    """

    def __init__(self, function: Callable[[dict[str, str]], float]) -> None:
        self.function = function

    def run(self, job: TrialJob, cancel: threading.Event,
            on_observation: Callable[[str, Observation], None] | None = None) -> TrialOutcome:
        start = time.time()
        value = self.function(job.assignments)
        # repr() round-trips a float exactly, so the engine tells Optuna the very number
        # the function computed (what a raw Optuna loop would tell).
        obs = Observation(job.objective, repr(float(value)))
        return TrialOutcome("Succeeded", observations=[obs], exit_code=0,
                            start_time=start, end_time=time.time())


def spec_for(name: str, algorithm: str, settings: dict[str, Any],
             parameters: list[dict[str, Any]], metric: str, direction: str,
             trials: int) -> ExperimentSpec:
    """A sequential experiment over ``parameters`` whose trial command is never run.

    Args:
        name: The experiment name.
        algorithm: A Katib algorithm name.
        settings: Its settings (e.g. ``random_state``).
        parameters: Katib parameter dicts (name, type, min/max or list, ...).
        metric: The objective metric.
        direction: ``minimize`` or ``maximize``.
        trials: max_trials (one at a time).
    """
    return ExperimentSpec.model_validate({
        "name": name, "objective": {"metric": metric, "type": direction},
        "algorithm": {"name": algorithm, "settings": settings},
        "budget": {"max_trials": trials, "parallel_trials": 1},
        "parameters": parameters,
        # The in-process runner ignores the command; Katib's rules still want one that
        # uses every parameter.
        "trial": {"command": ["true", *[f"--{p['name']}=${{trialParameters.{p['name']}}}"
                                        for p in parameters]]},
    })


def run_in_process(spec: ExperimentSpec, function: Callable[[dict[str, str]], float],
                   seed: int | None = None) -> list[tuple[dict[str, str], float | None]]:
    """Run ``spec`` on the local engine (in-memory storage), each trial calling ``function``.

    Args:
        spec: The experiment.
        function: The trial: Katib's assignments (strings) → the objective.
        seed: The engine's seed, for algorithms without a ``random_state`` setting.

    Returns:
        Each trial's parameters (as strings) and objective, in trial order.
    """
    import optuna

    from automl.local.store import ATTR

    with tempfile.TemporaryDirectory(prefix="automl-bench-") as tmp:
        extra = {} if seed is None else {"seed": seed}
        engine = LocalEngine(spec, storage=":memory:", root=Path(tmp),
                             runner=InProcessRunner(function), progress=False, **extra)
        engine.run()
        study = optuna.load_study(study_name=spec.name, storage=engine.storage)
        out = []
        for t in study.get_trials(deepcopy=False):
            record = t.user_attrs[ATTR]
            out.append((record["params"], record["objective"]))
        return out
