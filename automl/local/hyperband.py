"""Katib's hyperband: brackets of successive halving over a resource parameter.

Katib's hyperband service (FACTS.md, section c) is not a sampler but a schedule: with
``s_max = int(log(r_l) / log(eta))``, bracket ``s`` (from ``s_max`` down to 0) first runs
``n`` random configurations with the resource parameter at ``r = int(r_l * eta**-s)``, then
each following rung ``i`` re-runs the best ``ceil(n_i / eta)`` configurations of the rung before
with ``int(r * eta**i)`` (Katib stores ``r`` as text between calls and reads it back as an int,
so r_l=10, eta=3 gives rungs of 1, 3 and 9, not 10). As in Katib, ``n`` is the number of
parallel trials, and a rung starts only when the one before it has completed.

Katib's service stops at a rung whose trials did not all succeed; here the best of those that
did go on (see ``automl.spec.deviations``). A trial the engine's own stop cut short (Ctrl-C,
SIGTERM, kill -9) is run again on resume, with its configuration, before the schedule goes on,
and counts toward no budget (``automl.state.cut``): on Katib a restarted controller leaves its
trials running, so its service never loses one, and a max_trials sized for the schedule runs
all of it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automl.local.schedule import Schedule, Step
from automl.spec import ExperimentSpec
from automl.spec.algorithms import hyperband_brackets
from automl.state import ranking
from automl.state.cut import cut_short

__all__ = ["WAIT", "Hyperband", "Rung"]

WAIT = "wait"
"""Returned by :meth:`Hyperband.next` while the rung before the next one still runs."""


@dataclass(frozen=True)
class Rung:
    """One rung of one bracket: how many trials, with how much resource."""

    bracket: int
    rung: int
    size: int
    resource: int

    @property
    def tag(self) -> dict[str, int]:
        """What each trial of the rung records about it."""
        return {"bracket": self.bracket, "rung": self.rung}


class Hyperband(Schedule):
    """The schedule of rungs, and the configuration each new trial of it runs."""

    key = "hyperband"
    end = "ExperimentSuggestionEndReached: hyperband ran every bracket"

    def __init__(self, spec: ExperimentSpec) -> None:
        settings = spec.algorithm.settings
        self.resource_name = str(settings["resource_name"])
        brackets = hyperband_brackets(settings["r_l"], settings.get("eta", 3))
        assert brackets is not None, "the spec rules refuse hyperband without r_l"
        r_l, self.eta, s_max = brackets
        self.maximize = spec.objective.type == "maximize"
        n = spec.budget.parallel_trials  # Katib's service overwrites n with the request size
        self.plan: list[Rung] = []
        for s in range(s_max, -1, -1):
            r, size = int(r_l * self.eta ** (-s)), n
            for i in range(s + 1):
                self.plan.append(Rung(s, i, size, int(r * self.eta**i)))
                size = max(1, math.ceil(size / self.eta))

    @property
    def total_trials(self) -> int:
        """Trials the whole schedule runs."""
        return sum(r.size for r in self.plan)

    def next(self, finished: Sequence[Mapping[str, Any]],
             running: Sequence[Mapping[str, Any]]) -> tuple[Rung, dict[str, Any]] | str | None:
        """The rung and fixed parameters of the next trial, WAIT, or None when all have run.

        A trial cut short by the engine's stop (:func:`~automl.local.conclusion.cut_short`)
        does not count: its rung runs it again, with the same configuration, before any
        later rung starts, as Katib's service would see it run on.

        Args:
            finished: Records of finished trials (with ``hyperband`` tags and ``params``).
            running: The tags of trials still running.
        """
        kept = [r for r in finished if not cut_short(r)]
        for index, rung in enumerate(self.plan):
            busy = sum(t == rung.tag for t in running)
            done = [r for r in kept if r.get("hyperband") == rung.tag]
            if len(done) + busy >= rung.size:
                continue
            if rung.rung == 0:
                return rung, {self.resource_name: rung.resource}
            if any(t == self.plan[index - 1].tag for t in running):
                return WAIT
            todo = self._not_run(self._promoted(kept, index), done)
            if busy >= len(todo):
                continue  # fewer survivors than planned (the rung before had failures)
            # The running ones took the first of todo: each start takes the first not taken.
            return rung, {**todo[busy]["params"], self.resource_name: rung.resource}
        return None

    def ending(self, finished: Sequence[Mapping[str, Any]]) -> str:
        """"ran every bracket" only when each rung's trials are recorded: all it planned, or
        all the rung before promoted when some of its trials failed; else which rungs lack."""
        short = self._short(finished)
        if not short:
            return self.end
        return ("ExperimentSuggestionEndReached: hyperband stopped with rungs not run in full "
                f"({short})")

    def unfinished(self, finished: Sequence[Mapping[str, Any]]) -> str | None:
        """Which rungs lack trials (as :meth:`ending` says), when max trials came first."""
        short = self._short(finished)
        return f"hyperband did not run every rung in full ({short})" if short else None

    def _short(self, finished: Sequence[Mapping[str, Any]]) -> str:
        """``bracket 0 rung 0: 1 of 4; ...`` for each rung short of its trials, or ""."""
        kept = [r for r in finished if not cut_short(r)]
        short: list[str] = []
        lacking = False  # whether the rung before lacks trials (then this one lacks all)
        for index, rung in enumerate(self.plan):
            done = [r for r in kept if r.get("hyperband") == rung.tag]
            want = (rung.size if rung.rung == 0 or lacking
                    else len(self._promoted(kept, index)))
            lacking = len(done) < want
            if lacking:
                short.append(f"bracket {rung.bracket} rung {rung.rung}: {len(done)} of {want}")
        return "; ".join(short)

    def take(self, count: int, finished: Sequence[Mapping[str, Any]],
             running: Sequence[Mapping[str, Any]]) -> list[Step] | None:
        """The next trials of the schedule, one :meth:`next` at a time."""
        steps: list[Step] = []
        while len(steps) < count:
            step = self.next(finished, [*running, *(s.tag for s in steps)])
            if step is None and not steps:
                return None
            if not isinstance(step, tuple):
                break
            rung, params = step
            steps.append(Step(params, rung.tag))
        return steps

    def note(self, tag: Mapping[str, Any], status: str) -> str | None:
        """What Katib does with a trial of rung ``tag`` that ended ``status``, when it differs.

        Katib's service promotes from a rung only when every trial of it succeeded; otherwise
        it raises on each request and the experiment stalls. Here the rung's other trials go on.
        """
        last = max(r.rung for r in self.plan if r.bracket == tag["bracket"])
        if status == "Succeeded" or tag["rung"] == last:
            return None
        return ("on Katib, hyperband stalls here: its service promotes from a rung only when "
                "every trial of it succeeded")

    def _promoted(self, kept: Sequence[Mapping[str, Any]],
                  index: int) -> list[Mapping[str, Any]]:
        """The records of the rung before ``self.plan[index]`` whose configurations it runs."""
        before = self.plan[index - 1].tag
        ranked = self._ranked([r for r in kept if r.get("hyperband") == before])
        return ranked[:self.plan[index].size]

    def _not_run(self, promoted: list[Mapping[str, Any]],
                 done: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """``promoted`` (best first) without the configurations ``done`` ran, each once."""
        left = Counter(self._config(r) for r in done)
        todo = []
        for record in promoted:
            key = self._config(record)
            if left[key]:
                left[key] -= 1
            else:
                todo.append(record)
        return todo

    def _config(self, record: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
        return tuple(sorted((k, v) for k, v in record["params"].items()
                            if k != self.resource_name))

    def _ranked(self, records: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        # Katib's hyperband service (_get_top_trial) ranks only the succeeded trials
        succeeded = [r for r in records if r.get("status") == "Succeeded"]
        order = ranking(((r["status"], r.get("objective")) for r in succeeded),
                        maximize=self.maximize, algorithm="hyperband")
        return [succeeded[i] for i in order]
