"""Sampled values reach the trial as the text Katib's suggestion service writes."""

from __future__ import annotations

import pytest

from automl.local.samplers import grid_values
from automl.local.space import assignments
from automl.spec import Parameter
from tests.local.helpers import spec

# Katib's grid (pkg/suggestion/v1beta1/internal/search_space.py, convert_to_combinations)
# takes numpy's arange of the doubles, and the Optuna service writes each with Python's str
# (pkg/suggestion/v1beta1/internal/trial.py, Assignment.generate). Pinned from running it:
KATIB_GRID = {
    (0.0, 1.0, 0.5): ["0.0", "0.5", "1.0"],
    (0.1, 0.5, 0.1): ["0.1", "0.2", "0.30000000000000004", "0.4", "0.5"],
    (0.01, 0.05, 0.01): ["0.01", "0.02", "0.03", "0.04", "0.05"],
}


@pytest.mark.parametrize(("low", "high", "step"), list(KATIB_GRID))
def test_grid_doubles_reach_the_trial_as_katibs_grid_writes_them(low, high, step) -> None:
    experiment = spec(algorithm={"name": "grid"},
                      parameters=[{"name": "x", "type": "double", "min": low, "max": high,
                                   "step": step}])
    values = grid_values(experiment.parameters[0])
    assert [assignments(experiment, {"x": v})["x"] for v in values] == KATIB_GRID[
        (low, high, step)]


# goptuna's services write doubles with strconv.FormatFloat(v, 'f', -1, 64)
# (pkg/suggestion/v1beta1/goptuna/sample.go); hyperopt's, optuna's and skopt's with str.
@pytest.mark.parametrize(("algorithm", "value", "text"), [
    ("cmaes", 1.0, "1"), ("cmaes", 1e-05, "0.00001"), ("sobol", 0.25, "0.25"),
    ("random", 1.0, "1.0"), ("multivariate-tpe", 1e-05, "1e-05"),
    ("bayesianoptimization", 2.0, "2.0"),
])
def test_doubles_reach_the_trial_as_their_katib_service_writes_them(algorithm, value,
                                                                    text) -> None:
    experiment = spec(algorithm={"name": algorithm},
                      parameters=[{"name": "x", "type": "double", "min": 0.00001, "max": 2.0},
                                  {"name": "y", "type": "int", "min": 0, "max": 4}])
    assert assignments(experiment, {"x": value, "y": 3}) == {"x": text, "y": "3"}


def test_int_grid_is_katibs_range() -> None:
    p = Parameter(name="n", type="int", min=1, max=10, step=4)
    assert grid_values(p) == [1, 5, 9]


def test_sobol_ignores_a_random_state_as_katibs_goptuna_service_does() -> None:
    # pkg/suggestion/v1beta1/goptuna/converter.go, toGoptunaSampler: sobol.NewSampler() takes
    # no setting; the run's seed decides the local first point instead.
    import optuna

    from automl.local.samplers import make_sampler
    from automl.local.space import search_space

    def first_point(settings, seed):
        experiment = spec(algorithm={"name": "sobol", "settings": settings})
        study = optuna.create_study(sampler=make_sampler(experiment, seed))
        return study.ask(search_space(experiment)).params

    assert first_point({"random_state": 3}, 5) == first_point({}, 5)
    assert first_point({"random_state": 3}, 5) != first_point({"random_state": 3}, 6)
