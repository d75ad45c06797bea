"""Each sampler is built with the arguments Katib's service passes, under Katib's library versions.

Katib's Optuna service pins Optuna 3.3.0 and passes only some arguments
(pkg/suggestion/v1beta1/optuna/service.py, OptimizerConfiguration.convert_algorithm_spec);
the rest are 3.3.0's defaults, written here because Optuna 5 changed several (multivariate and
constant liar on, another gamma). Katib's tpe is hyperopt 0.2.5's tpe.suggest
(hyperopt/base_service.py): n_startup_jobs = the request size, gamma 0.25 over sqrt(n).
"""

from __future__ import annotations

import math

import numpy
import pytest

from automl.local.samplers import make_sampler
from tests.local.helpers import spec

COUNTS = [0, 1, 9, 10, 11, 24, 25, 26, 100, 400]


def optuna_33_default_gamma(n: int) -> int:
    # optuna 3.3.0 samplers/_tpe/sampler.py, default_gamma
    return min(math.ceil(0.1 * n), 25)


def optuna_33_default_weights(n: int) -> list[float]:
    # optuna 3.3.0 samplers/_tpe/sampler.py, default_weights
    if n < 25:
        return [1.0] * n
    return list(numpy.linspace(1.0 / n, 1.0, num=n - 25)) + [1.0] * 25


def test_multivariate_tpe_is_katibs_optuna_3_3_tpe_sampler() -> None:
    sampler = make_sampler(spec(algorithm={"name": "multivariate-tpe", "settings": {
        "n_startup_trials": "7", "n_ei_candidates": "30", "random_state": "4"}}))
    parzen = sampler._parzen_estimator_parameters
    assert (sampler._multivariate, sampler._constant_liar, sampler._group) == (True, True, False)
    assert (sampler._n_startup_trials, sampler._n_ei_candidates) == (7, 30)
    assert (parzen.prior_weight, parzen.consider_magic_clip, parzen.consider_endpoints) == (
        1.0, True, False)
    assert [sampler._gamma(n) for n in COUNTS] == [optuna_33_default_gamma(n) for n in COUNTS]
    assert all(list(parzen.weights(n)) == pytest.approx(optuna_33_default_weights(n))
               for n in COUNTS)


def test_multivariate_tpe_defaults_are_optuna_3_3s() -> None:
    sampler = make_sampler(spec(algorithm={"name": "multivariate-tpe"}))
    assert (sampler._n_startup_trials, sampler._n_ei_candidates) == (10, 24)


def test_tpe_is_hyperopt_0_2_5s_tpe_as_katib_calls_it() -> None:
    sampler = make_sampler(spec(algorithm={"name": "tpe", "settings": {
        "gamma": "0.4", "prior_weight": "2", "n_EI_candidates": "12"}},
        budget={"max_trials": 10, "parallel_trials": 3}))
    parzen = sampler._parzen_estimator_parameters
    # hyperopt fits each parameter alone, tells no lie, starts with one random request
    assert (sampler._multivariate, sampler._constant_liar, sampler._group) == (
        False, False, False)
    assert (sampler._n_startup_trials, sampler._n_ei_candidates) == (3, 12)
    assert (parzen.prior_weight, parzen.consider_endpoints) == (2.0, False)
    # hyperopt tpe.ap_split_trials: n_below = min(ceil(gamma * sqrt(n)), linear_forgetting 25)
    assert [sampler._gamma(n) for n in COUNTS] == [min(math.ceil(0.4 * math.sqrt(n)), 25)
                                                   for n in COUNTS]
    # hyperopt tpe.linear_forgetting_weights(n, 25): the same ramp
    assert all(list(parzen.weights(n)) == pytest.approx(optuna_33_default_weights(n))
               for n in COUNTS)


def test_cmaes_starts_at_once_and_takes_goptunas_seed() -> None:
    # goptuna/converter.go toGoptunaSampler: SamplerOptionNStartupTrials(0), Seed(random_state)
    sampler = make_sampler(spec(algorithm={"name": "cmaes", "settings": {"random_state": "-3",
                                                                         "sigma": "-1"}}))
    assert sampler._n_startup_trials == 0
    assert sampler._sigma0 is None  # goptuna's sigma <= 0 cannot run on Optuna: its default
    assert make_sampler(spec(algorithm={"name": "cmaes", "settings": {"sigma": "0.5"}}
                             ))._sigma0 == 0.5
