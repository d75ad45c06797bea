"""Katib's pbt service, ported: the population, its generations, exploit and explore.

A port of ``PbtJobQueue`` and ``HyperParameterSampler`` in Katib's
``pkg/suggestion/v1beta1/pbt/service.py``, decision for decision:

- int and double parameters are sampled from the grid ``np.arange(min, max + step/2, step)``,
  categorical and discrete ones from their list;
- the first generation is ``n_population`` random samples (generation 0);
- a request the pending queue cannot fill makes more: while the current pool (trials completed
  since the last generation began) holds ``<= n_population`` trials, extra random samples
  (before any generation has ended) or extra children of the previous pool; once it holds more,
  the next generation of ``n_population`` children;
- children of a pool: ``np.quantile`` of the pool's values at ``truncation_threshold`` and
  ``1 - truncation_threshold``; ``int(count * truncation_threshold)`` trials below the lower
  bound are replaced by copies of trials at or above the upper one (exploit), the rest perturb
  their own parameters (explore: ×0.8 or ×1.2, not snapped to the step, clipped to the range;
  a neighbour in the list, wrapping at its ends; or, with ``resample_probability``, a new
  sample with that probability);
- a Failed or Killed trial is queued again with its parameters, generation and parent;
- the objective is scaled by -1 for minimize, so that larger is always better.

Where Katib's service is defective the queue does the sane thing (``automl.spec.deviations``:
``pbt-exploit-checkpoint`` and ``pbt-int-clip``): an exploit child's parent is the trial it
copies, and a clipped int stays an int. A seeded ``numpy.random.Generator`` replaces Katib's
unseeded global one, so that a seeded run is repeatable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from automl.local.space import trial_value
from automl.spec import ExperimentSpec, Parameter

__all__ = ["Job", "ParameterSampler", "PbtQueue"]

_SCALES = (0.8, 1.2)


@dataclass
class Job:
    """One trial the population wants: its parameters and where it comes from.

    Attributes:
        id: Unique within the experiment, in the order the queue made the jobs.
        params: Parameter name → the value the trial receives (a string, as Katib sends it).
        generation: 0 for random samples; a child's is one more than that of the trial it
            continues or replaces (Katib counts an exploit child from the replaced trial).
        parent: The trial whose checkpoint the child starts from (None in generation 0).
    """

    id: int
    params: dict[str, str]
    generation: int
    parent: str | None = None


class ParameterSampler:
    """One parameter as Katib's pbt service samples and perturbs it."""

    def __init__(self, parameter: Parameter) -> None:
        self.name = parameter.name
        self.type = parameter.type
        self.numeric = parameter.numeric
        if self.numeric:
            low, high, step = float(parameter.min), float(parameter.max), float(parameter.step)
            self.low, self.high = low, high
            grid = np.arange(low, high + step / 2, step)
            self.choices = ([str(v) for v in grid.astype(int)] if self.type == "int"
                            else [_text(v) for v in grid])
        else:
            self.choices = [trial_value(v, "pbt") for v in parameter.values or ()]

    def sample(self, rng: np.random.Generator) -> str:
        """A value drawn uniformly from the grid or the list."""
        return self.choices[int(rng.integers(len(self.choices)))]

    def perturb(self, value: str, rng: np.random.Generator) -> str:
        """``value`` scaled by 0.8 or 1.2 and clipped, or its neighbour in the list."""
        if self.type == "int":
            moved = int(int(float(value)) * _SCALES[int(rng.integers(2))])
            return str(int(min(max(moved, self.low), self.high)))
        if self.numeric:
            moved = float(value) * _SCALES[int(rng.integers(2))]
            return _text(min(max(moved, self.low), self.high))
        # Katib: list.index(value) + choice([-1, 1]); past the end wraps to the first, and
        # Python's index -1 is the last
        index = self.choices.index(value) + (-1, 1)[int(rng.integers(2))]
        return self.choices[0] if index >= len(self.choices) else self.choices[index]


class PbtQueue:
    """The population: pending jobs, running trials, completed trials and the two pools.

    Args:
        spec: A pbt experiment (its settings checked by the spec rules).
        seed: Seeds the queue's random generator.

    Example:
        >>> queue = PbtQueue(spec, seed=0)
        >>> [job] = queue.take(1)    # a generation-0 job; run it as the trial "t-0000"
        >>> queue.started(job.id, "t-0000")
        >>> queue.update({"name": "t-0000", "status": "Succeeded", "objective": 0.9})
    """

    def __init__(self, spec: ExperimentSpec, seed: int | None = None) -> None:
        settings = spec.algorithm.settings
        self.population = int(settings["n_population"])
        self.threshold = float(settings["truncation_threshold"])
        resample = settings.get("resample_probability")
        self.resample = None if resample is None else float(resample)
        self.scale = 1.0 if spec.objective.type == "maximize" else -1.0
        self.samplers = [ParameterSampler(p) for p in spec.parameters]
        self.rng = np.random.default_rng(seed)
        self.next_id = 0
        self.pending: list[Job] = []
        self.running: dict[str, Job] = {}
        # the trials of the two pools, with their scaled values; ``done``: every trial seen
        self.completed: dict[str, tuple[Job, float]] = {}
        self.done: set[str] = set()
        self.pools: dict[str, list[str]] = {"previous": [], "current": []}
        self._seed(self.population)

    def __len__(self) -> int:
        return len(self.pending)

    def take(self, count: int) -> list[Job]:
        """The next ``count`` jobs (Katib's GetSuggestions for a request of ``count``).

        They stay pending until :meth:`started`, so that a state saved in between keeps them.
        """
        if len(self.pending) < count:
            self.generate(count)
        return self.pending[:count]

    def started(self, job_id: int, trial: str) -> Job:
        """The pending job ``job_id`` runs as the trial named ``trial``."""
        job = next(j for j in self.pending if j.id == job_id)
        self.pending.remove(job)
        self.running[trial] = job
        return job

    def update(self, record: dict[str, Any]) -> None:
        """A trial ended: it joins the current pool, or is queued again if it failed.

        Katib's controller never passes a MetricsUnavailable trial to the service, nor an
        EarlyStopped one without an objective value: their jobs leave the population.
        """
        name = record["name"]
        if name in self.done or name not in self.running:
            return
        self.done.add(name)
        status, objective = record["status"], record.get("objective")
        job = self.running.pop(name)
        if status == "MetricsUnavailable" or (status == "EarlyStopped"
                                              and not isinstance(objective, float)):
            return
        if status in ("Failed", "Killed"):
            self._append(dict(job.params), job.generation, job.parent)
            return
        self.completed[name] = (job, self.scale * objective)
        self.pools["current"].append(name)

    def generate(self, count: int) -> None:
        """Queue more jobs for a request of ``count``: random ones, or children of a pool."""
        if len(self.pools["current"]) <= self.population:
            if not self.pools["previous"]:
                self._seed(count)
                return
            exploit, explore, upper = self._segment("previous", count)
        else:
            exploit, explore, upper = self._segment("current", self.population)
            for name in self.pools["previous"]:  # no child can come from them any more
                del self.completed[name]
            self.pools["previous"], self.pools["current"] = self.pools["current"], []
        donors = [str(d) for d in self.rng.choice(upper, len(exploit))] if exploit else []
        for replaced, donor in zip(exploit, donors, strict=True):
            # Katib's child keeps the replaced trial as its parent and so its checkpoint;
            # here it starts from the checkpoint of the trial whose parameters it copies
            generation = self.completed[replaced][0].generation + 1
            self._append(dict(self.completed[donor][0].params), generation, donor)
        for name in explore:
            job = self.completed[name][0]
            self._append(self._explore(job.params), job.generation + 1, name)

    def _explore(self, params: dict[str, str]) -> dict[str, str]:
        explored = {}
        for sampler in self.samplers:
            value = params[sampler.name]
            if self.resample is None:
                explored[sampler.name] = sampler.perturb(value, self.rng)
            elif self.rng.random() < self.resample:
                explored[sampler.name] = sampler.sample(self.rng)
            else:
                explored[sampler.name] = value
        return explored

    def _segment(self, pool: str, count: int) -> tuple[list[str], list[str], list[str]]:
        """Katib's _segment_sample_pool: the trials to replace, to perturb, and the donors."""
        names = self.pools[pool]
        values = [self.completed[n][1] for n in names]
        low, high = np.quantile(values, (self.threshold, 1 - self.threshold))
        exploit = [n for n, v in zip(names, values, strict=True) if v < low]
        explore = [n for n, v in zip(names, values, strict=True) if not v < low]
        upper = [n for n, v in zip(names, values, strict=True) if not v < low and v >= high]
        self.rng.shuffle(exploit)
        self.rng.shuffle(explore)
        exploit = exploit[:int(count * self.threshold)]
        return exploit, explore[:count - len(exploit)], upper

    def _seed(self, count: int) -> None:
        for _ in range(count):
            self._append({s.name: s.sample(self.rng) for s in self.samplers}, 0, None)

    def _append(self, params: dict[str, str], generation: int, parent: str | None) -> None:
        self.pending.append(Job(self.next_id, params, generation, parent))
        self.next_id += 1

    # ---- saved between runs ---------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything the queue knows, as JSON-ready data (:meth:`restore` reads it back)."""
        return {
            "next_id": self.next_id,
            "pending": [asdict(j) for j in self.pending],
            "running": {name: asdict(j) for name, j in self.running.items()},
            "completed": {name: [asdict(j), v] for name, (j, v) in self.completed.items()},
            "done": sorted(self.done),
            "pools": self.pools,
            "rng": self.rng.bit_generator.state,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Take back what :meth:`state` saved."""
        self.next_id = state["next_id"]
        self.pending = [Job(**j) for j in state["pending"]]
        self.running = {name: Job(**j) for name, j in state["running"].items()}
        self.completed = {name: (Job(**j), v) for name, (j, v) in state["completed"].items()}
        self.done = set(state["done"])
        self.pools = {k: list(v) for k, v in state["pools"].items()}
        self.rng.bit_generator.state = state["rng"]


def _text(value: float) -> str:
    """A double as Katib's Python service writes it (``str``), without the grid's float dust
    (``np.arange`` gives 0.30000000000000004 for 0.1 * 3)."""
    return str(float(f"{value:.12g}"))
