"""The suggestion algorithm and the early-stopping algorithm, named as in Katib."""

from __future__ import annotations

from pydantic import Field, model_validator

from automl.spec._base import Scalar, SpecModel
from automl.spec.algorithms import ALGORITHMS, EARLY_STOPPING
from automl.spec.settings import Setting, setting_text

__all__ = ["AlgorithmSpec", "EarlyStoppingSpec"]


class AlgorithmSpec(SpecModel):
    """Katib's ``AlgorithmSpec``: an algorithm name and its settings.

    Attributes:
        name: A Katib algorithm name: random, grid, tpe, multivariate-tpe, cmaes, sobol,
            bayesianoptimization, hyperband, pbt, enas or darts.
        settings: Katib's ``algorithmSettings`` as a mapping; names are Katib's and are
            checked per algorithm (see ``automl.spec.algorithms``).

    Example:
        >>> AlgorithmSpec(name="tpe", settings={"n_EI_candidates": 24, "random_state": 7})
    """

    name: str
    settings: dict[str, Scalar] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _typed(self) -> AlgorithmSpec:
        known = ALGORITHMS[self.name].settings if self.name in ALGORITHMS else {}
        object.__setattr__(self, "settings", _typed(self.settings, known))
        return self


class EarlyStoppingSpec(SpecModel):
    """Katib's ``EarlyStoppingSpec``; Katib ships one algorithm, ``medianstop``.

    Example:
        >>> EarlyStoppingSpec(name="medianstop", settings={"min_trials_required": 3})
    """

    name: str
    settings: dict[str, Scalar] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _typed(self) -> EarlyStoppingSpec:
        object.__setattr__(self, "settings",
                           _typed(self.settings, EARLY_STOPPING.get(self.name, {})))
        return self


def _typed(settings: dict[str, Scalar], known: dict[str, Setting]) -> dict[str, Scalar]:
    """Known settings in their type: Katib writes ``"7"``, and a spec read back must equal one
    written with ``7``. A text the typed value would not write back (``"1e-3"``) stays as
    written, since Katib passes the text on (DARTS gives it to the trial); values that do not
    parse are kept for the rules to report."""
    return {k: _typed_value(v, known[k]) if k in known else v for k, v in settings.items()}


def _typed_value(value: Scalar, setting: Setting) -> Scalar:
    typed = setting.typed(value)
    return value if isinstance(value, str) and setting_text(typed) != value else typed
