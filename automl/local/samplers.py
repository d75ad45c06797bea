"""Katib algorithm names → Optuna samplers, with Katib's setting names.

Each factory receives the experiment and returns the Optuna sampler that stands in for the
Katib suggestion service of the same name. hyperband and pbt are not samplers: they decide
which configurations run next (see ``automl.local.schedule``); their trials' values are fixed.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy
import optuna

from automl.errors import AutomlError
from automl.spec import ExperimentSpec, Parameter
from automl.spec.algorithms import ALGORITHMS
from automl.spec.draws import katib_arange
from automl.spec.rules.replaced import SEEDS

__all__ = ["SAMPLERS", "grid_values", "hyperopt_tpe_arguments", "make_sampler",
           "optuna_33_gamma", "optuna_33_weights", "optuna_tpe_arguments"]

logger = logging.getLogger(__name__)


def _int(settings: dict[str, Any], name: str, default: int | None = None) -> int | None:
    return int(float(settings[name])) if name in settings else default


def _float(settings: dict[str, Any], name: str,
           default: float | None = None) -> float | None:
    return float(settings[name]) if name in settings else default


def _random(spec: ExperimentSpec, seed: int | None) -> optuna.samplers.BaseSampler:
    return optuna.samplers.RandomSampler(seed=seed)


def _tpe(spec: ExperimentSpec, seed: int | None) -> optuna.samplers.BaseSampler:
    # Katib's tpe is hyperopt's: its gamma, prior weight and candidates, no endpoints, and a
    # random first batch as large as the parallelism (n_startup_jobs = the request size).
    s = spec.algorithm.settings
    gamma = _float(s, "gamma", 0.25)
    with warnings.catch_warnings():
        # Optuna 5 deprecates these hyperopt-style knobs (removal in 6; we require < 6).
        warnings.simplefilter("ignore", FutureWarning)
        return _hyperopt_tpe(spec, s, gamma, seed)


def _hyperopt_tpe(spec: ExperimentSpec, s: dict[str, Any], gamma: float,
                  seed: int | None) -> optuna.samplers.BaseSampler:
    # every argument given: Optuna 5 turned multivariate and constant liar on by default
    return optuna.samplers.TPESampler(**hyperopt_tpe_arguments(spec, s, gamma), seed=seed)


def hyperopt_tpe_arguments(spec: ExperimentSpec, s: dict[str, Any],
                           gamma: float) -> dict[str, Any]:
    """The TPESampler arguments that stand for hyperopt 0.2.5's tpe.suggest as Katib calls it.

    hyperopt's n_below is ``ceil(gamma * sqrt(n))`` capped at its linear_forgetting (25), its
    weights Optuna's default ramp, and it fits each parameter on its own.
    """
    return {
        "consider_prior": True,
        "prior_weight": _float(s, "prior_weight", 1.0),
        "consider_magic_clip": True,
        "consider_endpoints": False,
        "n_startup_trials": spec.budget.parallel_trials,
        "n_ei_candidates": _int(s, "n_EI_candidates", 24),
        "gamma": lambda n: min(math.ceil(gamma * math.sqrt(n)), 25),
        "weights": optuna_33_weights,
        "multivariate": False,
        "group": False,
        "constant_liar": False,
    }


def optuna_33_gamma(n: int) -> int:
    """Optuna 3.3's default_gamma, which Katib's Optuna service gets by not passing one."""
    return min(math.ceil(0.1 * n), 25)


def optuna_33_weights(n: int) -> numpy.ndarray:
    """Optuna 3.3's default_weights: a ramp over all but the newest 25 trials, then 1."""
    if n == 0:
        return numpy.asarray([])
    if n < 25:
        return numpy.ones(n)
    return numpy.concatenate([numpy.linspace(1.0 / n, 1.0, num=n - 25), numpy.ones(25)])


def optuna_tpe_arguments(spec: ExperimentSpec) -> dict[str, Any]:
    """Katib's Optuna service's TPESampler for multivariate-tpe, under Optuna 3.3.0.

    pkg/suggestion/v1beta1/optuna/service.py (OptimizerConfiguration.convert_algorithm_spec)
    passes n_startup_trials, n_ei_candidates, seed, multivariate and constant_liar=True;
    everything else is Optuna 3.3.0's default, written out here because Optuna 5 changed
    some of them.
    """
    s = spec.algorithm.settings
    return {
        "consider_prior": True,
        "prior_weight": 1.0,
        "consider_magic_clip": True,
        "consider_endpoints": False,
        "n_startup_trials": _int(s, "n_startup_trials", 10),
        "n_ei_candidates": _int(s, "n_ei_candidates", 24),
        "gamma": optuna_33_gamma,
        "weights": optuna_33_weights,
        "multivariate": True,
        "group": False,
        "warn_independent_sampling": True,
        "constant_liar": True,
    }


def _multivariate_tpe(spec: ExperimentSpec, seed: int | None) -> optuna.samplers.BaseSampler:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return optuna.samplers.TPESampler(**optuna_tpe_arguments(spec), seed=seed)


class _AskTellGridSampler(optuna.samplers.GridSampler):
    """Optuna's GridSampler, minus its ``study.stop()`` once the grid is used up.

    That call works only inside ``study.optimize``; the engine asks and tells, and stops at
    max_trials, which Katib's rule keeps within the grid.
    """

    def after_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial,
                    state: optuna.trial.TrialState, values: Any) -> None:
        return None


def _grid(spec: ExperimentSpec, seed: int | None) -> optuna.samplers.BaseSampler:
    space = {p.name: grid_values(p) for p in spec.parameters}
    return _AskTellGridSampler(space, seed=seed)


def grid_values(p: Parameter) -> list[Any]:
    """Katib's grid for one parameter: int range(min, max+1, step); double arange ≤ max.

    The doubles are numpy's, as Katib's grid computes them
    (pkg/suggestion/v1beta1/internal/search_space.py, convert_to_combinations), so that a
    trial gets the same text: ``0.30000000000000004`` for the fourth of 0..1 by 0.1.
    """
    if p.values is not None:
        return list(p.values)
    step = p.step or 1
    if p.type == "int":
        return list(range(int(p.min), int(p.max) + 1, int(step)))
    values = katib_arange(p)
    return values[:-1] if values and values[-1] > float(p.max) else values


def _cmaes(spec: ExperimentSpec, seed: int | None) -> optuna.samplers.BaseSampler:
    s = spec.algorithm.settings
    if str(s.get("restart_strategy", "none")).lower() != "none":
        # Optuna 4.4 dropped CMA-ES restarts from its core sampler (they moved to OptunaHub).
        logger.warning("cmaes: restart_strategy %s is not available in Optuna's CmaEsSampler; "
                       "running without restarts", s["restart_strategy"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # sigma0: deprecated, removed in 6
        sigma = _float(s, "sigma")
        return optuna.samplers.CmaEsSampler(
            # Katib's goptuna takes any sigma; Optuna's needs one > 0 (rules.replaced warns)
            sigma0=sigma if sigma is not None and sigma > 0 else None, seed=seed,
            n_startup_trials=0,  # goptuna's cmaes starts sampling at once
        )


def _sobol(spec: ExperimentSpec, seed: int | None) -> optuna.samplers.BaseSampler:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # seed: Optuna draws the first trial with its own random sampler, seeded from this
        return optuna.samplers.QMCSampler(qmc_type="sobol", scramble=False, seed=seed,
                                          warn_independent_sampling=False,
                                          warn_asynchronous_seeding=False)


def _gp(spec: ExperimentSpec, seed: int | None) -> optuna.samplers.BaseSampler:
    try:
        import torch  # noqa: F401 - Optuna's GPSampler needs it
    except ImportError:
        raise AutomlError("bayesianoptimization runs locally on Optuna's GPSampler, which needs "
                          "PyTorch: pip install torch==2.13.0") from None
    s = spec.algorithm.settings
    ignored = sorted(set(s) & {"base_estimator", "acq_func", "acq_optimizer"})
    if ignored:
        # scikit-optimize's knobs have no counterpart in Optuna's GPSampler.
        logger.warning("bayesianoptimization: %s not applied locally (Optuna's GPSampler has "
                       "its own kernel and acquisition)", ", ".join(ignored))
    return optuna.samplers.GPSampler(seed=seed,
                                     n_startup_trials=_int(s, "n_initial_points", 10))


def _enas(spec: ExperimentSpec, seed: int | None) -> optuna.samplers.BaseSampler:
    # Katib's ENAS trains an LSTM controller (TensorFlow) on the trials' rewards. Locally
    # Optuna's multivariate TPE makes the same per-layer choices, and learns from the same
    # rewards; its first architectures are random, as the controller's first call is.
    ignored = sorted(spec.algorithm.settings)
    if ignored:
        logger.warning("enas: the controller settings %s apply on Katib only; locally Optuna's "
                       "TPE chooses the architectures", ", ".join(ignored))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(multivariate=True, constant_liar=True,
                                          n_startup_trials=max(10, spec.budget.parallel_trials),
                                          seed=seed)


SAMPLERS: dict[str, Callable[[ExperimentSpec, int | None], optuna.samplers.BaseSampler]] = {
    "random": _random,
    "tpe": _tpe,
    "multivariate-tpe": _multivariate_tpe,
    "grid": _grid,
    "cmaes": _cmaes,
    "sobol": _sobol,
    "bayesianoptimization": _gp,
    "hyperband": _random,  # Katib's hyperband samples each bracket's configurations at random
    "enas": _enas,
    "pbt": _random,  # nothing to sample: the population fixes every value (automl.local.pbt)
    "darts": _random,  # nothing to sample: every DARTS trial gets the same arguments
}
"""Katib algorithm name → factory of the Optuna sampler that runs it locally."""


def make_sampler(spec: ExperimentSpec, seed: int | None = None) -> optuna.samplers.BaseSampler:
    """The sampler for ``spec.algorithm``.

    Args:
        spec: The experiment.
        seed: Seeds the sampler when the algorithm's own ``random_state`` setting is absent
            (enas has no such setting in Katib).

    Raises:
        AutomlError: For an algorithm the local engine does not run, listing those it does.
    """
    factory = SAMPLERS.get(spec.algorithm.name)
    if factory is None:
        known = ", ".join(sorted(SAMPLERS))
        where = "Katib" if spec.algorithm.name in ALGORITHMS else "automl"
        raise AutomlError(f"algorithm {spec.algorithm.name!r} does not run locally (it runs on "
                          f"{where}); the local engine runs: {known}")
    known = ALGORITHMS[spec.algorithm.name].settings
    # a random_state the algorithm does not take (sobol's) is ignored, as Katib's service does
    settings = {k: v for k, v in spec.algorithm.settings.items() if k in known}
    chosen = _int(settings, "random_state", seed)
    # goptuna takes any int64 seed; Optuna's samplers numpy's (rules.replaced warns)
    return factory(spec, None if chosen is None else chosen % SEEDS)
