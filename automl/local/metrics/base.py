"""What a metrics collector produces, and the base class every collector kind implements."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl.state.numbers import parse_float

__all__ = ["MetricsCollectorBase", "MetricsError", "Observation", "ReadingCut", "json_object"]


@dataclass(frozen=True)
class Observation:
    """One reported value of one metric (Katib's observation log entry).

    Attributes:
        metric: The metric name.
        value: The value as reported (Katib stores strings; non-numeric values such as a
            DARTS genotype are kept).
        timestamp: Seconds since the epoch when the trial stamped it, else None.
    """

    metric: str
    value: str
    timestamp: float | None = None

    @property
    def number(self) -> float | None:
        """The value as a float, or None when Katib would not read it as a number."""
        return parse_float(self.value)


class MetricsError(Exception):
    """The trial's metrics cannot be read (Katib's collector would fail the same way)."""


class ReadingCut(MetricsError):
    """The trial's deadline passed while its files were read: the trial fails, as on Katib,
    where the collector reads within the pod that ``activeDeadlineSeconds`` ends."""


class MetricsCollectorBase:
    """Turns what a trial writes into observations, as one Katib collector kind does.

    A collector sees the trial's output line by line while it runs (``lines``), so that
    early stopping can act on intermediate values, and the trial's files once it has exited
    (``after_exit``). Subclasses implement whichever applies.
    """

    #: Katib's collector kind this class implements.
    kind: str = ""
    #: True when values arrive while the trial runs (so medianstop can act on them).
    streams: bool = True

    def __init__(self, metrics: Sequence[str]) -> None:
        self.metrics = list(metrics)
        #: One line for each file ``after_exit`` could not read and went on without.
        self.skipped: list[str] = []

    def line(self, text: str) -> Iterable[Observation]:
        """Observations in one line the trial wrote to its watched stream."""
        return ()

    def after_exit(self, run_dir: Path, until: float | None = None) -> Iterable[Observation]:
        """Observations read once the trial has exited.

        Args:
            run_dir: The trial's folder.
            until: Its deadline (on ``time.monotonic()``'s clock), if it has one.

        Raises:
            ReadingCut: When the deadline passed before all was read.
        """
        return ()


def json_object(text: str, problem: str) -> dict[str, Any] | None:
    """The JSON object on one line, read as Go's ``json.Unmarshal`` into a map reads it.

    As in Katib's collector, an empty line and a ``null`` line hold no values (None); a
    line of spaces, ``NaN`` or anything but an object is an error.

    Raises:
        MetricsError: ``problem`` and the line, when Go's decoder would fail on it.
    """
    if not text:
        return None
    error = MetricsError(f"{problem}: {text[:200]!r}")
    try:
        record = json.loads(text, parse_constant=_no_constant)
    except ValueError:
        raise error from None
    if record is not None and not isinstance(record, dict):
        raise error
    return record


def _no_constant(name: str) -> None:
    # Python reads NaN and Infinity; JSON (and Go) have no such literals.
    raise ValueError(name)
