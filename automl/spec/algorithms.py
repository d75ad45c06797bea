"""Katib's algorithms by name: their settings and the checks their suggestion services make.

Katib accepts an experiment at admission and only later, when the suggestion service starts,
validates the algorithm settings and the search space; a mistake there fails the experiment
minutes after submission. Every such check is repeated here so that it fails before anything
runs (FACTS.md, section c).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from automl.spec.draws import HYPERBAND_UNREADABLE, LOG, katib_arange, optuna_log_low
from automl.spec.errors import Finding
from automl.spec.parameters import Parameter
from automl.spec.settings import Setting, choice, floating, integer, text

if TYPE_CHECKING:
    from automl.spec.experiment import ExperimentSpec

__all__ = ["ALGORITHMS", "EARLY_STOPPING", "Algorithm", "enas_overshoots", "get_algorithm",
           "hyperband_brackets", "ignored_settings", "service_of"]

_MAX_GRID = 1_000_000  # combinations a grid search may list (a list of tuples in memory)

Check = Callable[["ExperimentSpec"], Iterable[Finding]]


@dataclass(frozen=True)
class Algorithm:
    """A Katib algorithm name with what its suggestion service accepts.

    Attributes:
        name: Katib's ``algorithmName``.
        service: The suggestion service of Katib's default katib-config that runs it.
        settings: Setting name → Setting; any other name is refused, unless
            ``ignores_unknown``.
        nas: True for the NAS algorithms (they take ``nas``, not ``parameters``).
        assignments: NAS only: the assignment names a trial receives.
        checks: The service's own validation of the search space and budget.
        ignores_unknown: The service does not refuse a name it does not know: goptuna and
            hyperband ignore it, darts passes it to the trial in ``algorithm-settings``.
    """

    name: str
    service: str
    settings: dict[str, Setting]
    nas: bool = False
    assignments: tuple[str, ...] = ()
    checks: tuple[Check, ...] = field(default=())
    ignores_unknown: bool = False


# ---- search-space checks made by the suggestion services --------------------------------


def _no_normal(spec: ExperimentSpec) -> Iterator[Finding]:
    # Katib's Optuna service raises "Unsupported distribution" (kubeflow/katib#2666).
    for i, p in enumerate(spec.parameters):
        if p.distribution in ("normal", "logNormal"):
            yield Finding(("parameters", i, "distribution"),
                          f"algorithm {spec.algorithm.name} (Katib's Optuna service) supports "
                          "only uniform and logUniform distributions")


def _grid(spec: ExperimentSpec) -> Iterator[Finding]:
    combinations = 1
    for i, p in enumerate(spec.parameters):
        if p.type == "double" and p.step is None:
            yield Finding(("parameters", i, "step"),
                          "grid search needs a step for every double parameter")
            return
        combinations *= _grid_size(p)
    if combinations > _MAX_GRID:
        # Katib's Optuna service, like Optuna's GridSampler here, lists every combination
        yield Finding(("parameters",), f"grid search lists every combination, and these "
                                       f"parameters make more than {_MAX_GRID}; use larger "
                                       "steps, fewer values or another algorithm")
        return
    max_trials = spec.budget.max_trials
    if max_trials is not None and max_trials > combinations:
        yield Finding(("budget", "max_trials"),
                      f"grid search has only {combinations} combinations; max trials "
                      f"({max_trials}) must not exceed them")


def _grid_size(p: Parameter) -> int:
    if p.values is not None:
        return len(p.values)
    if p.min is None or p.max is None:
        return 1
    step = p.step or 1
    if step <= 0 or p.max < p.min:
        return 1
    # Katib: int → range(min, max + 1, step); double → np.arange(min, max + step, step) ≤ max.
    count = (p.max - p.min) / step + 1e-9
    return math.floor(count) + 1 if math.isfinite(count) else sys.maxsize


def _numeric_count(minimum: int, message: str) -> Check:
    def check(spec: ExperimentSpec) -> Iterator[Finding]:
        if spec.parameters and sum(p.numeric for p in spec.parameters) < minimum:
            yield Finding(("parameters",), message)

    return check


def _log_uniform_doubles(spec: ExperimentSpec) -> Iterator[Finding]:
    # scikit-optimize samples every double as Real(min, max, "log-uniform").
    for i, p in enumerate(spec.parameters):
        if p.type == "double" and p.min is not None and p.min <= 0:
            yield Finding(("parameters", i, "min"),
                          "bayesianoptimization samples doubles log-uniformly, so min must be "
                          "> 0")


def hyperband_brackets(r_l: object, eta: object = 3) -> tuple[float, float, int] | None:
    """Katib's hyperband ``(r_l, eta, s_max)`` as its service runs them.

    ``s_max = int(log(r_l) / log(eta))``, with an ``eta`` <= 0 replaced by 3
    (pkg/suggestion/v1beta1/hyperband/service.py, HyperBandParam.convert).

    Args:
        r_l: The ``r_l`` setting (the most resource a trial gets).
        eta: The ``eta`` setting (Katib's default 3).

    Returns:
        The numbers, or None when the settings do not give them (the setting rules say why).
    """
    try:
        r_l, eta = float(str(r_l)), float(str(eta))
    except ValueError:
        return None
    if eta <= 0:
        eta = 3.0
    if not (r_l > 0 and math.isfinite(r_l) and math.isfinite(eta)) or eta == 1:
        return None
    return r_l, eta, int(math.log(r_l) / math.log(eta))


def _hyperband_eta(spec: ExperimentSpec) -> Iterator[Finding]:
    """What Katib's hyperband service does with ``eta``: validates ``int(eta)``, runs ``eta``."""
    settings = spec.algorithm.settings
    try:
        eta = float(str(settings.get("eta", 3)))
        r_l = float(str(settings.get("r_l")))
    except ValueError:
        return  # the setting rules say what is wrong
    here = ("algorithm", "settings", "eta")
    if math.isfinite(eta) and int(eta) == 1:
        # ValidateAlgorithmSettings: log(int(float(eta))) = log(1) = 0, ZeroDivisionError
        yield Finding(here, f"Katib's hyperband service takes int({eta:g}) = 1 and fails "
                            "dividing by log(1) = 0 (the Suggestion fails); use eta >= 2")
        return
    brackets = hyperband_brackets(r_l, eta)
    if brackets is not None and brackets[2] < 0:
        yield Finding(here, f"with r_l={r_l:g} and eta={brackets[1]:g} Katib's hyperband "
                            f"service computes s_max = int(log(r_l) / log(eta)) = {brackets[2]} "
                            "and never proposes a trial; use eta >= 2 and r_l >= 1")


def _katib_validation_eta(settings: dict[str, object]) -> int:
    # ValidateAlgorithmSettings reads int(float(eta)), 3 when <= 0
    try:
        eta = int(float(str(settings.get("eta", 3))))
    except (ValueError, OverflowError):
        return 3
    return eta if eta > 0 else 3


def _hyperband(spec: ExperimentSpec) -> Iterator[Finding]:
    settings = spec.algorithm.settings
    resource = settings.get("resource_name")
    names = [p.name for p in spec.parameters]
    if resource is not None and str(resource) not in names:
        yield Finding(("algorithm", "settings", "resource_name"),
                      f"must name one of the parameters ({', '.join(names)})")
    eta = _katib_validation_eta(settings)
    brackets = hyperband_brackets(settings.get("r_l", "nan"), eta) if eta != 1 else None
    if brackets is not None:
        r_l, eta, s_max = brackets
        needed = math.ceil(eta**s_max)
        if spec.budget.parallel_trials < needed:
            yield Finding(("budget", "parallel_trials"),
                          f"hyperband with r_l={r_l:g} and eta={eta:g} needs >= {needed} "
                          "parallel trials")
    for i, p in enumerate(spec.parameters):
        for j, value in enumerate(p.values or [] if p.type == "discrete" else []):
            try:
                int(value)
            except ValueError:
                yield Finding(("parameters", i, "list", j),
                              f"{HYPERBAND_UNREADABLE} and fails on {value!r}; use whole "
                              "numbers, or a categorical parameter")


def _log_positive(spec: ExperimentSpec) -> Iterator[Finding]:
    # hyperopt's loguniform/lognormal take math.log(min): min <= 0 fails the service
    for i, p in enumerate(spec.parameters):
        if p.numeric and p.distribution in LOG and p.min is not None and p.min <= 0:
            yield Finding(("parameters", i, "min"),
                          f"a {p.distribution} parameter needs min > 0 under "
                          f"{spec.algorithm.name} (Katib's {service_of(spec.algorithm.name)} "
                          f"service takes log(min)), got {p.min:g}")


def _optuna_log_range(spec: ExperimentSpec) -> Iterator[Finding]:
    # Katib's Optuna service raises min to 1 (int) or 1e-10 (double) on a log scale; a max
    # below that makes Optuna's distribution refuse low > high
    for i, p in enumerate(spec.parameters):
        if (p.numeric and p.distribution == "logUniform" and None not in (p.min, p.max)
                and optuna_log_low(p) > p.max):
            yield Finding(("parameters", i, "max"),
                          f"Katib's Optuna service raises min to {optuna_log_low(p):g} on a "
                          f"log scale, above max ({p.max:g}): its Suggestion fails")


def _steps_required(spec: ExperimentSpec) -> Iterator[Finding]:
    for i, p in enumerate(spec.parameters):
        if p.numeric and p.step is None:
            yield Finding(("parameters", i, "step"),
                          "pbt samples int and double parameters on a grid: step is required")


def _pbt(spec: ExperimentSpec) -> Iterator[Finding]:
    if spec.resume_policy != "FromVolume":
        yield Finding(("resume_policy",),
                      "pbt shares checkpoints through the suggestion volume, which Katib creates "
                      "only with FromVolume")


def _graph(spec: ExperimentSpec) -> Iterator[Finding]:
    graph = spec.nas.graph if spec.nas is not None else None
    if graph is None:
        return
    if spec.algorithm.name == "enas":
        for name in ("input_sizes", "output_sizes"):
            if not getattr(graph, name):
                yield Finding(("nas", "graph", name), "required by enas")
    if graph.num_layers is None:
        yield Finding(("nas", "graph", "num_layers"), f"required by {spec.algorithm.name}")
    elif graph.num_layers < 1:
        yield Finding(("nas", "graph", "num_layers"), "expected an integer >= 1")


def _operations(spec: ExperimentSpec) -> Iterator[Finding]:
    # Katib's shared NAS validate_operations (pkg/suggestion/v1beta1/nas/common/validation.py).
    if spec.nas is None:
        return
    if not spec.nas.operations:
        yield Finding(("nas", "operations"), "at least one operation is required")
    for i, op in enumerate(spec.nas.operations):
        here = ("nas", "operations", i)
        if not op.type.strip():
            yield Finding((*here, "type"), "required")
        if not op.parameters:
            yield Finding((*here, "parameters"),
                          "every operation needs at least one parameter (Katib's NAS services "
                          "refuse an operation without parameters)")
        for j, p in enumerate(op.parameters):
            if p.type == "int" and p.step is None:
                yield Finding((*here, "parameters", j, "step"),
                              "int operation parameters need a step")
            if p.type == "double" and p.step is None:
                yield Finding((*here, "parameters", j, "step"),
                              "double operation parameters need a step > 0 (Katib's NAS "
                              "services refuse one without: validate_operations)")
            elif spec.algorithm.name == "enas" and p.type == "double" and enas_overshoots(p):
                yield Finding((*here, "parameters", j, "max"),
                              "numpy.arange(min, max + step, step) goes past max here, which "
                              "makes Katib's enas service fail (SearchSpace deletes from a "
                              "numpy array); choose max = min + k * step")
            if spec.algorithm.name == "enas" and p.type == "discrete":
                yield Finding((*here, "parameters", j, "type"),
                              "Katib's enas service skips discrete operation parameters; use "
                              "categorical (or int/double with a step)")
        if (spec.algorithm.name == "darts" and op.type != "skip_connection" and op.parameters
                and op.parameters[0].values is None):
            # DARTS names the candidates from the first parameter's list (e.g. conv_3x3)
            yield Finding((*here, "parameters", 0),
                          "darts reads the filter sizes from the first parameter's list; "
                          "expected a categorical or discrete parameter")


def enas_overshoots(p: Parameter) -> bool:
    """Whether Katib's enas SearchSpace fails on double ``p``: its arange passes max."""
    if None in (p.min, p.max, p.step) or p.step <= 0 or p.max < p.min:
        return False
    values = katib_arange(p)
    return bool(values) and values[-1] > float(p.max)


def _hpo(spec: ExperimentSpec) -> Iterator[Finding]:
    if spec.nas is not None:
        yield Finding(("nas",), f"algorithm {spec.algorithm.name} tunes hyperparameters; use "
                                "parameters, or the NAS algorithms enas or darts")


def _nas(spec: ExperimentSpec) -> Iterator[Finding]:
    if spec.nas is None:
        yield Finding(("nas",), f"algorithm {spec.algorithm.name} searches architectures and "
                                "needs nas (graph and operations)")


# ---- the registry -----------------------------------------------------------------------

_SEED = integer(0)
_OPTUNA_TPE = {"n_startup_trials": integer(0), "n_ei_candidates": integer(0), "random_state": _SEED}

ALGORITHMS: dict[str, Algorithm] = {
    a.name: a
    for a in (
        Algorithm("random", "hyperopt", {"random_state": _SEED},
                  checks=(_hpo, _log_positive)),
        Algorithm(
            "tpe",
            "hyperopt",
            {
                "gamma": floating(0, 1, low_open=True, high_open=True),
                "prior_weight": floating(0, low_open=True),
                "n_EI_candidates": integer(1),
                "random_state": _SEED,
            },
            checks=(_hpo, _log_positive),
        ),
        Algorithm("grid", "optuna", {"random_state": _SEED},
                  checks=(_hpo, _no_normal, _optuna_log_range, _grid)),
        Algorithm("multivariate-tpe", "optuna", _OPTUNA_TPE,
                  checks=(_hpo, _no_normal, _optuna_log_range)),
        Algorithm(
            "cmaes",
            "goptuna",
            {
                # goptuna parses them (strconv) and takes any number
                "random_state": integer(),
                "sigma": floating(),
                "restart_strategy": choice("ipop", "bipop", "none"),
            },
            checks=(_hpo, _numeric_count(2, "cmaes needs at least two int or double parameters "
                                            "(a continuous search space of two or more "
                                            "dimensions)")),
            ignores_unknown=True,
        ),
        Algorithm("sobol", "goptuna", {}, checks=(_hpo,), ignores_unknown=True),
        Algorithm(
            "bayesianoptimization",
            "skopt",
            {
                "base_estimator": choice("GP", "RF", "ET", "GBRT"),
                "n_initial_points": integer(0),
                "acq_func": choice("gp_hedge", "LCB", "EI", "PI", "EIps", "PIps"),
                "acq_optimizer": choice("auto", "sampling", "lbfgs"),
                "random_state": _SEED,
            },
            checks=(_hpo, _log_uniform_doubles),
        ),
        Algorithm(
            "hyperband",
            "hyperband",
            {
                "resource_name": text(required=True),
                "r_l": floating(0, low_open=True, required=True),
                "eta": floating(),
            },
            checks=(_hpo, _hyperband_eta, _hyperband),
            ignores_unknown=True,
        ),
        Algorithm(
            "pbt",
            "pbt",
            {
                "suggestion_trial_dir": text(required=True),
                "n_population": integer(5, required=True),
                "truncation_threshold": floating(0, 1, required=True),
                "resample_probability": floating(0, 1),
            },
            checks=(_hpo, _log_positive, _steps_required, _pbt),
        ),
        Algorithm(
            "enas",
            "enas",
            {
                "controller_hidden_size": integer(1),
                "controller_temperature": floating(0, low_open=True, none_allowed=True),
                "controller_tanh_const": floating(0, low_open=True, none_allowed=True),
                "controller_entropy_weight": floating(0, low_open=True, none_allowed=True),
                "controller_baseline_decay": floating(0, 1, low_open=True),
                "controller_learning_rate": floating(0, 1, low_open=True),
                "controller_skip_target": floating(0, 1, low_open=True),
                "controller_skip_weight": floating(0, low_open=True, none_allowed=True),
                "controller_train_steps": integer(1),
                "controller_log_every_steps": integer(1),
            },
            nas=True,
            assignments=("architecture", "nn_config"),
            checks=(_nas, _graph, _operations),
        ),
        Algorithm(
            "darts",
            "darts",
            {
                "num_epochs": integer(1),
                "w_lr": floating(0),
                "w_lr_min": floating(0),
                "alpha_lr": floating(0),
                "w_weight_decay": floating(0),
                "alpha_weight_decay": floating(0),
                "w_momentum": floating(0),
                "w_grad_clip": floating(0),
                "batch_size": integer(1, none_allowed=True),
                "num_workers": integer(0),
                "init_channels": integer(1),
                "print_step": integer(1),
                "num_nodes": integer(1),
                "stem_multiplier": integer(1),
            },
            nas=True,
            assignments=("algorithm-settings", "search-space", "num-layers"),
            checks=(_nas, _graph, _operations),
            ignores_unknown=True,
        ),
    )
}

EARLY_STOPPING: dict[str, dict[str, Setting]] = {
    "medianstop": {"min_trials_required": integer(1), "start_step": integer(1)},
}
"""Early-stopping algorithm name → its settings (Katib ships only medianstop)."""


def ignored_settings(spec: ExperimentSpec) -> list[str]:
    """The settings of ``spec`` its algorithm's service ignores (goptuna's unknown names)."""
    algorithm = ALGORITHMS.get(spec.algorithm.name)
    if algorithm is None or not algorithm.ignores_unknown:
        return []
    return [name for name in spec.algorithm.settings if name not in algorithm.settings]


def get_algorithm(name: str) -> Algorithm | None:
    """The Algorithm registered under Katib's ``name``, or None."""
    return ALGORITHMS.get(name)


def service_of(name: str) -> str | None:
    """The Katib suggestion service that runs algorithm ``name`` (None for an unknown name)."""
    algorithm = ALGORITHMS.get(name)
    return algorithm.service if algorithm is not None else None
