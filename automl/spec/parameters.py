"""Hyperparameters, as Katib types them: double, int, discrete and categorical."""

from __future__ import annotations

import sys
from typing import Literal

from pydantic import Field, model_validator

from automl.spec._base import Number, Scalar, SpecModel
from automl.spec.settings import setting_text

__all__ = ["DISTRIBUTIONS", "PARAMETER_TYPES", "Parameter"]

PARAMETER_TYPES = ("double", "int", "discrete", "categorical")
DISTRIBUTIONS = ("uniform", "logUniform", "normal", "logNormal")


class Parameter(SpecModel):
    """One search-space parameter (Katib's ``ParameterSpec``, feasibleSpace flattened).

    Attributes:
        name: The parameter name; trials receive it through ``${trialParameters.<name>}``.
        type: ``double`` and ``int`` take ``min``/``max`` (and ``step``); ``discrete``
            and ``categorical`` take ``list``.
        min: Lower bound, inclusive.
        max: Upper bound, inclusive.
        step: Grid spacing; required by grid search for doubles and by PBT.
        values: The choices (written ``list`` in YAML, as in Katib), kept as the text Katib
            holds and a trial receives: a string as written (``"0.10"`` stays ``0.10``), a
            YAML number as ``automl compile`` writes it (``5.0`` becomes ``5``).
        distribution: ``uniform`` (default), ``logUniform``, ``normal`` or ``logNormal``.

    Example:
        >>> Parameter(name="lr", type="double", min=1e-4, max=0.1, distribution="logUniform")
        Parameter(name='lr', type='double', min=0.0001, max=0.1, ...)
    """

    name: str
    type: Literal["double", "int", "discrete", "categorical"]
    min: Number | None = None
    max: Number | None = None
    step: Number | None = None
    values: list[Scalar] | None = Field(default=None, alias="list")
    distribution: Literal["uniform", "logUniform", "normal", "logNormal"] = "uniform"

    @model_validator(mode="after")
    def _normalise(self) -> Parameter:
        # Store each value in the type the parameter has, so that a spec read back from
        # Katib's strings equals the one that was written.
        def fix(v: int | float | None) -> int | float | None:
            if v is None:
                return None
            if self.type == "int" and _integral(v):
                return int(v)
            if self.type == "double" and abs(v) <= sys.float_info.max:
                return float(v)
            return v  # an int beyond any double stays exact, for the rules to refuse

        for field in ("min", "max", "step"):
            object.__setattr__(self, field, fix(getattr(self, field)))
        if self.values is not None:
            if self.type in ("categorical", "discrete"):
                # Katib's list is []string; its services hand the trial the item itself
                values = [setting_text(v) for v in self.values]
            else:
                values = list(self.values)
            object.__setattr__(self, "values", values)
        return self

    @property
    def numeric(self) -> bool:
        """True for ``double`` and ``int`` (a range), False for ``discrete``/``categorical``."""
        return self.type in ("double", "int")


def _integral(number: int | float) -> bool:
    # not float(number): an int beyond a double would raise OverflowError
    return isinstance(number, int) or number.is_integer()
