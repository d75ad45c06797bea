"""The population's rules, as Katib's pbt service (pbt/service.py) has them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from automl.local.pbt_queue import ParameterSampler, PbtQueue
from automl.spec import ExperimentSpec, Parameter
from tests.local.helpers import spec

LR = {"name": "lr", "type": "double", "min": 0.0001, "max": 0.02, "step": 0.0001}
UNITS = {"name": "units", "type": "int", "min": 1, "max": 10, "step": 3}
OPT = {"name": "opt", "type": "categorical", "list": ["sgd", "adam", "rmsprop"]}


def _spec(n: int = 5, threshold: float = 0.2, minimize: bool = False,
          parameters: list | None = None, **settings) -> ExperimentSpec:
    return spec(algorithm={"name": "pbt", "settings": {
                    "suggestion_trial_dir": "/ckpt", "n_population": n,
                    "truncation_threshold": threshold, **settings}},
                objective={"metric": "acc", "type": "minimize" if minimize else "maximize"},
                parameters=parameters or [LR, UNITS, OPT], resume_policy="FromVolume")


def _first_generation(queue: PbtQueue, values=None) -> list[str]:
    """Run generation 0 as Katib's controller would with requests of n, then of 1: n + 1
    trials complete, the fewest after which the service makes the next generation."""
    names = _run(queue, queue.population, 0, None if values is None else values[:-1])
    return names + _run(queue, 1, len(names), None if values is None else values[-1:])


def _run(queue: PbtQueue, count: int, start: int, values=None) -> list[str]:
    """Take ``count`` jobs, start them as trials t<start>..., and finish them Succeeded."""
    names = []
    for i, job in enumerate(list(queue.take(count))):
        name = f"t{start + i}"
        queue.started(job.id, name)
        names.append(name)
    for i, name in enumerate(names):
        value = values[i] if values is not None else float(start + i)
        queue.update({"name": name, "status": "Succeeded", "objective": value})
    return names


def test_int_and_double_are_sampled_on_the_step_grid_categorical_from_the_list() -> None:
    rng = np.random.default_rng(0)
    lr = ParameterSampler(Parameter.model_validate(LR))
    assert len(lr.choices) == 200  # np.arange(0.0001, 0.02 + 0.00005, 0.0001)
    assert lr.choices[:3] == ["0.0001", "0.0002", "0.0003"] and lr.choices[-1] == "0.02"
    units = ParameterSampler(Parameter.model_validate(UNITS))
    assert units.choices == ["1", "4", "7", "10"]
    assert {units.sample(rng) for _ in range(200)} == {"1", "4", "7", "10"}
    opt = ParameterSampler(Parameter.model_validate(OPT))
    assert {opt.sample(rng) for _ in range(100)} == {"sgd", "adam", "rmsprop"}


def test_perturbation_scales_by_0_8_or_1_2_without_snapping_and_clips_to_the_range() -> None:
    rng = np.random.default_rng(1)
    lr = ParameterSampler(Parameter.model_validate(LR))
    seen = sorted({float(lr.perturb("0.0051", rng)) for _ in range(50)})
    assert seen == pytest.approx([0.0051 * 0.8, 0.0051 * 1.2])  # 0.00408: off the 0.0001 grid
    seen = sorted({float(lr.perturb("0.019", rng)) for _ in range(50)})
    assert seen == pytest.approx([0.019 * 0.8, 0.02])
    units = ParameterSampler(Parameter.model_validate(UNITS))
    # int(int(v) * 0.8 or 1.2), clipped: an int stays an int (Katib sends "10.0" when clipped)
    assert {units.perturb("9", rng) for _ in range(50)} == {"7", "10"}
    assert {units.perturb("1", rng) for _ in range(50)} == {"1"}  # int(0.8) = 0 -> min, int(1.2)


def test_a_categorical_moves_to_a_neighbour_in_the_list_wrapping_at_both_ends() -> None:
    rng = np.random.default_rng(2)
    opt = ParameterSampler(Parameter.model_validate(OPT))
    assert {opt.perturb("adam", rng) for _ in range(50)} == {"sgd", "rmsprop"}
    assert {opt.perturb("rmsprop", rng) for _ in range(50)} == {"adam", "sgd"}
    assert {opt.perturb("sgd", rng) for _ in range(50)} == {"rmsprop", "adam"}


def test_the_first_generation_is_n_population_random_jobs() -> None:
    queue = PbtQueue(_spec(n=6), seed=0)
    assert len(queue) == 6
    jobs = queue.take(6)
    assert all(j.generation == 0 and j.parent is None for j in jobs)
    assert len({j.id for j in jobs}) == 6


def test_a_new_generation_starts_only_after_more_than_n_population_trials_completed() -> None:
    queue = PbtQueue(_spec(n=5), seed=0)
    _run(queue, 5, 0)
    # five completed, not more: Katib's service seeds extra random samples
    [extra] = queue.take(1)
    assert extra.generation == 0 and extra.parent is None
    _run(queue, 1, 5)
    children = queue.take(5)
    assert len(queue) == 5
    assert all(j.generation == 1 and j.parent is not None for j in children)


def test_the_bottom_fraction_exploits_the_top_and_the_rest_explore_their_own_values() -> None:
    queue = PbtQueue(_spec(n=10, threshold=0.2), seed=3)
    names = _first_generation(queue)  # values 0..10: larger is better
    params = {name: dict(queue.completed[name][0].params) for name in names}
    children = queue.take(10)
    low, high = np.quantile(range(11), (0.2, 0.8))
    bottom = {n for n in names if float(n[1:]) < low}
    top = {n for n in names if float(n[1:]) >= high}
    exploit = [c for c in children if c.params == params[c.parent] and c.parent in top]
    explore = [c for c in children if c not in exploit]
    assert len(exploit) == int(10 * 0.2)  # Katib: int(count * truncation_threshold)
    assert not {c.parent for c in explore} & bottom  # the bottom only ever exploits
    for child in explore:
        before = params[child.parent]
        assert child.params != before
        moved = [min(max(float(before["lr"]) * s, 0.0001), 0.02) for s in (0.8, 1.2)]
        assert any(float(child.params["lr"]) == pytest.approx(m) for m in moved)
    assert all(c.generation == 1 for c in children)


def test_exploit_children_start_from_the_checkpoint_of_the_trial_they_copy() -> None:
    # Katib's child names the replaced (bottom) trial as parent, so it would copy its own
    # checkpoint: the local parent is the top trial whose parameters it takes
    queue = PbtQueue(_spec(n=5, threshold=0.4), seed=0)
    names = _first_generation(queue, values=[0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    children = queue.take(5)
    exploit = [c for c in children if c.params == queue.completed[c.parent][0].params]
    assert len(exploit) == 2
    assert {c.parent for c in exploit} <= set(names[3:])


def test_with_resample_probability_values_are_drawn_again_instead_of_perturbed() -> None:
    always = PbtQueue(_spec(n=5, threshold=0.0, resample_probability=1.0), seed=4)
    never = PbtQueue(_spec(n=5, threshold=0.0, resample_probability=0.0), seed=4)
    for queue in (always, never):
        _first_generation(queue)
    kept = never.take(5)
    assert all(c.params == never.completed[c.parent][0].params for c in kept)
    drawn = always.take(5)
    lr = ParameterSampler(Parameter.model_validate(LR))
    assert all(c.params["lr"] in lr.choices for c in drawn)  # from the grid, not x0.8/x1.2


def test_minimize_ranks_the_smallest_loss_on_top() -> None:
    queue = PbtQueue(_spec(n=5, threshold=0.4, minimize=True), seed=0)
    names = _first_generation(queue, values=[0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    children = queue.take(5)
    exploit = [c for c in children if c.params == queue.completed[c.parent][0].params]
    assert len(exploit) == 2
    # the top: at or above the 0.6 quantile of the negated losses, the three smallest losses
    assert {c.parent for c in exploit} <= set(names[:3])


def test_failed_and_killed_trials_are_queued_again_with_their_generation_and_parent() -> None:
    queue = PbtQueue(_spec(n=5), seed=0)
    _first_generation(queue)
    children = queue.take(5)
    queue.started(children[0].id, "c0")
    queue.started(children[1].id, "c1")
    queue.update({"name": "c0", "status": "Failed", "objective": None})
    queue.update({"name": "c1", "status": "Killed", "objective": None})
    again = queue.pending[-2:]
    assert [(j.params, j.generation, j.parent) for j in again] == [
        (c.params, c.generation, c.parent) for c in children[:2]]
    assert {j.id for j in again}.isdisjoint({c.id for c in children})


def test_trials_katibs_controller_never_reports_leave_the_population() -> None:
    # suggestionclient.go ConvertTrials skips MetricsUnavailable trials, and EarlyStopped
    # ones without an observation: the service neither queues them again nor ranks them
    queue = PbtQueue(_spec(n=5), seed=0)
    jobs = queue.take(2)
    queue.started(jobs[0].id, "a")
    queue.started(jobs[1].id, "b")
    queue.update({"name": "a", "status": "MetricsUnavailable", "objective": None})
    queue.update({"name": "b", "status": "EarlyStopped", "objective": None})
    assert len(queue) == 3 and queue.pools["current"] == [] and not queue.running


def test_a_request_the_pool_cannot_fill_takes_children_of_the_previous_generation() -> None:
    queue = PbtQueue(_spec(n=5, threshold=0.2), seed=0)
    _first_generation(queue)
    _run(queue, 5, 6)  # generation 1 ran; its five trials are not more than n_population
    [job] = queue.take(1)
    assert job.generation == 1 and job.parent in {f"t{i}" for i in range(6)}


def test_a_saved_state_makes_the_same_decisions_after_it_is_restored() -> None:
    queue = PbtQueue(_spec(n=5), seed=7)
    _first_generation(queue)
    saved = json.loads(json.dumps(queue.state()))
    restored = PbtQueue(_spec(n=5), seed=99)
    restored.restore(saved)
    assert [(j.params, j.parent) for j in restored.take(5)] == [
        (j.params, j.parent) for j in queue.take(5)]
