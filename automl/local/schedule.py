"""Algorithms that decide which trials run, not only their values: hyperband and pbt.

Katib's hyperband and pbt services are schedules rather than samplers: they choose how many
trials run next and with which fixed values, and each trial carries a tag saying where it
stands (a rung of a bracket, a generation of a population). The engine asks the schedule for
the trials it may start, runs them with those values, and records the tag with the trial (at
creation, so that a trial cut short by a crash keeps it).

To add one: subclass :class:`Schedule`, implement :meth:`Schedule.take`, and name it in
:data:`SCHEDULES` under Katib's algorithm name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from automl.spec import ExperimentSpec

__all__ = ["SCHEDULES", "TAG", "Schedule", "Step", "make_schedule"]

TAG = "automl.tag"
"""The Optuna user attribute that holds a scheduled trial's tag from its creation on."""


@dataclass(frozen=True)
class Step:
    """One trial a schedule wants started.

    Attributes:
        params: Parameter name → fixed value (a number, or the string the trial receives).
        tag: What the trial records about its place in the schedule (JSON-ready).
    """

    params: dict[str, Any]
    tag: dict[str, Any]


class Schedule(ABC):
    """Decides the trials to start; the engine runs them.

    Attributes:
        key: The record field that holds each trial's tag (``hyperband``, ``pbt``).
        end: The experiment's reason when :meth:`take` says no trial will ever come again.
    """

    key: ClassVar[str]
    end: ClassVar[str] = "ExperimentSuggestionEndReached"

    @abstractmethod
    def take(self, count: int, finished: Sequence[Mapping[str, Any]],
             running: Sequence[Mapping[str, Any]]) -> list[Step] | None:
        """Up to ``count`` trials to start now.

        Args:
            count: How many the experiment may start (free parallel slots within the budget).
            finished: Records of the finished trials, in the order they were recorded.
            running: The tags of the trials still running.

        Returns:
            The steps (fewer, or none, while the schedule waits for running trials), or None
            when the schedule has run every trial it will ever run.
        """

    def begin(self, fresh: bool) -> None:  # noqa: B027 (a hook most schedules leave alone)
        """The study is open; ``fresh``: it holds no trial yet (anything saved is stale)."""

    def start(self, step: Step, trial: str, run_dir: Path) -> dict[str, Path]:
        """``step`` runs as the trial named ``trial``, its folder ``run_dir``.

        Returns:
            Paths of the trial's container → the local folders that stand for them.
        """
        return {}

    def ending(self, finished: Sequence[Mapping[str, Any]]) -> str:
        """The experiment's reason once :meth:`take` returned None, from the trials recorded.

        Args:
            finished: Records of the finished trials.
        """
        return self.end

    def unfinished(self, finished: Sequence[Mapping[str, Any]]) -> str | None:
        """What the schedule has not run, when the budget ended it first; None: nothing.

        Args:
            finished: Records of the finished trials.
        """
        return None

    def note(self, tag: Mapping[str, Any], status: str) -> str | None:
        """What Katib would do differently with a trial of ``tag`` that ended ``status``."""
        return None


def _hyperband(spec: ExperimentSpec, runs: Path, seed: int | None) -> Schedule:
    from automl.local.hyperband import Hyperband

    return Hyperband(spec)


def _pbt(spec: ExperimentSpec, runs: Path, seed: int | None) -> Schedule:
    from automl.local.pbt import Pbt

    return Pbt(spec, runs, seed)


SCHEDULES = {"hyperband": _hyperband, "pbt": _pbt}
"""Katib algorithm name → factory of its schedule; other algorithms are samplers alone."""


def make_schedule(spec: ExperimentSpec, runs: Path, seed: int | None = None) -> Schedule | None:
    """The schedule of ``spec``'s algorithm, or None when its sampler alone decides.

    Args:
        spec: The experiment.
        runs: The experiment's runs folder (:func:`automl.local.paths.runs_folder`).
        seed: Seeds a schedule's own random choices.
    """
    factory = SCHEDULES.get(spec.algorithm.name)
    return None if factory is None else factory(spec, runs, seed)
