"""The local engine draws each parameter from the domain of the Katib service its algorithm runs on.

Each test encodes one service family's rule from Katib's source (kubeflow/katib 33c8ff4,
hyperopt 0.2.5, Optuna 3.3.0) and checks a few thousand seeded local draws against it with a
chi-square test (value sets, end weights) or a Kolmogorov-Smirnov test (scale). The draws go
through the engine's own path: the algorithm's sampler, ``search_space`` and ``assignments``
(the text a trial receives).
"""

from __future__ import annotations

import math
from typing import Any

import optuna
import pytest
from scipy import stats

from automl.local.samplers import make_sampler
from automl.local.space import assignments, search_space
from tests.local.helpers import spec

DRAWS = 2000
TPE_DRAWS = 600  # a TPE sampler reads every trial at each ask: keep its studies small
P_MIN = 1e-3  # a seeded draw of a right rule passes; a wrong rule fails by far


def draw(algorithm: str, parameter: dict[str, Any], *, settings: dict[str, Any] | None = None,
         count: int | None = None,
         sampler: optuna.samplers.BaseSampler | None = None) -> list[str]:
    """The texts ``count`` trials of ``algorithm`` receive for ``parameter`` (named p)."""
    if count is None:
        count = TPE_DRAWS if algorithm == "tpe" and sampler is None else DRAWS
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    extra = ({"resource_name": "r", "r_l": "9"} if algorithm == "hyperband" else {})
    experiment = spec(
        algorithm={"name": algorithm, "settings": {**extra, **(settings or {})}},
        budget={"max_trials": count, "parallel_trials": count},
        parameters=[{"name": "p", **parameter},
                    {"name": "r", "type": "int", "min": 1, "max": 9}],
        args=["--p=${trialParameters.p}", "--r=${trialParameters.r}"])
    study = optuna.create_study(sampler=sampler or make_sampler(experiment, seed=7))
    space = search_space(experiment)
    return [assignments(experiment, study.ask(space).params)["p"] for _ in range(count)]


def chi_square(texts: list[str], expected: dict[str, float]) -> None:
    """The texts fall on exactly the expected values, with the expected weights."""
    assert set(texts) <= set(expected), sorted(set(texts) - set(expected))
    total = sum(expected.values())
    observed = [texts.count(v) for v in expected]
    wanted = [len(texts) * w / total for w in expected.values()]
    shown = dict(zip(expected, observed, strict=True))
    assert stats.chisquare(observed, wanted).pvalue > P_MIN, shown


def cells(low: float, high: float, step: float) -> dict[float, float]:
    """hyperopt's quniform: round(U(low, high) / step) * step (numpy rounding).

    The value ``k * step`` takes the draws of its cell ``[(k - 1/2) step, (k + 1/2) step]``
    that lie within [low, high]: a grid counted from 0, whose end values get a part cell.
    """
    out = {}
    k = math.floor(low / step - 0.5) + 1
    while (k - 0.5) * step < high:
        width = min(high, (k + 0.5) * step) - max(low, (k - 0.5) * step)
        if width > 0:
            out[k * step] = width
        k += 1
    return out


# ---- hyperopt: random, tpe (pkg/suggestion/v1beta1/hyperopt/base_service.py) ------------------

# tpe's first batch is random (n_startup_jobs = the request size = parallel trials), so the
# same rule holds for both.
HYPEROPT = ["random", "tpe"]


@pytest.mark.parametrize("algorithm", HYPEROPT)
def test_hyperopt_int_with_a_step_draws_multiples_of_the_step_ends_at_half_weight(
        algorithm) -> None:
    # int 1..10 step 2: quniform(1, 10, 2), convert takes int(): {2, 4, 6, 8, 10}, never 1..9 odd
    texts = draw(algorithm, {"type": "int", "min": 1, "max": 10, "step": 2})
    chi_square(texts, {str(int(v)): w for v, w in cells(1, 10, 2).items()})
    assert cells(1, 10, 2) == {2: 2, 4: 2, 6: 2, 8: 2, 10: 1}  # widths: 10 at half


@pytest.mark.parametrize("algorithm", HYPEROPT)
def test_hyperopt_int_without_a_step_draws_every_integer_ends_at_half_weight(algorithm) -> None:
    # Katib's int step defaults to 1 (internal/search_space.py): quniform(0, 10, 1)
    texts = draw(algorithm, {"type": "int", "min": 0, "max": 10})
    chi_square(texts, {str(int(v)): w for v, w in cells(0, 10, 1).items()})


@pytest.mark.parametrize("algorithm", HYPEROPT)
def test_hyperopt_double_with_a_step_reaches_the_trial_as_numpy_rounds_it(algorithm) -> None:
    # round(x / 0.1) * 0.1 in doubles: the third value is written 0.30000000000000004
    texts = draw(algorithm, {"type": "double", "min": 0.0, "max": 0.5, "step": 0.1})
    expected = {str(k * 0.1): w for k, w in
                ((round(v / 0.1), w) for v, w in cells(0.0, 0.5, 0.1).items())}
    assert "0.30000000000000004" in expected
    chi_square(texts, expected)


def test_hyperopt_qloguniform_value_below_min_becomes_min_here() -> None:
    # logUniform int 1..100 step 10: round(exp(U(log 1, log 100)) / 10) * 10 gives Katib 0
    # (below min) with P(exp(U) < 5) = log 5 / log 100; here that mass goes to min (1).
    texts = draw("random", {"type": "int", "min": 1, "max": 100, "step": 10,
                            "distribution": "logUniform"})
    expected = {}
    for k in range(11):
        low, high = max(1.0, (k - 0.5) * 10), min(100.0, (k + 0.5) * 10)
        expected["1" if k == 0 else str(k * 10)] = math.log(high / low) / math.log(100)
    chi_square(texts, expected)


def test_hyperopt_normal_is_katibs_normal_kept_within_min_and_max() -> None:
    # hp.normal(mu=(min+max)/2, sigma=(max-min)/6): here truncated to [min, max] = mu ± 3 sigma
    texts = draw("random", {"type": "double", "min": 0.0, "max": 6.0, "distribution": "normal"})
    values = [float(t) for t in texts]
    assert min(values) >= 0.0 and max(values) <= 6.0
    assert stats.kstest(values, stats.truncnorm(-3, 3, loc=3, scale=1).cdf).pvalue > P_MIN


def test_hyperopt_lognormal_is_normal_on_the_log_scale() -> None:
    texts = draw("random", {"type": "double", "min": 1.0, "max": math.e ** 6,
                            "distribution": "logNormal"})
    logs = [math.log(float(t)) for t in texts]
    assert stats.kstest(logs, stats.truncnorm(-3, 3, loc=3, scale=1).cdf).pvalue > P_MIN


def test_hyperopt_loguniform_double_is_uniform_on_the_log_scale() -> None:
    texts = draw("random", {"type": "double", "min": 1e-4, "max": 1.0,
                            "distribution": "logUniform"})
    logs = [math.log10(float(t)) for t in texts]
    assert stats.kstest(logs, stats.uniform(-4, 4).cdf).pvalue > P_MIN


# ---- Optuna service: multivariate-tpe (pkg/suggestion/v1beta1/optuna/base_service.py) ---------

OPTUNA_RANDOM = {"n_startup_trials": TPE_DRAWS}  # TPE's startup trials are its random sampler's


def test_optuna_int_with_a_step_draws_from_min_by_step_equal_weights() -> None:
    # IntDistribution(1, 10, step=2): {1, 3, 5, 7, 9}, each alike
    texts = draw("multivariate-tpe", {"type": "int", "min": 1, "max": 10, "step": 2},
                 settings=OPTUNA_RANDOM, count=TPE_DRAWS)
    chi_square(texts, {str(v): 1 for v in (1, 3, 5, 7, 9)})


def test_optuna_step_beyond_the_range_always_gives_min() -> None:
    texts = draw("multivariate-tpe", {"type": "double", "min": 0.5, "max": 1.0, "step": 2.0},
                 settings=OPTUNA_RANDOM, count=200)
    assert set(texts) == {"0.5"}


def test_optuna_log_int_with_min_zero_is_clamped_to_one_log_scale() -> None:
    # low = max(1, int(min)), log=True: uniform in log(value) over [0.5, 100.5)
    texts = draw("multivariate-tpe", {"type": "int", "min": 0, "max": 100,
                                      "distribution": "logUniform"}, settings=OPTUNA_RANDOM,
                 count=TPE_DRAWS)
    values = [int(t) for t in texts]
    assert min(values) >= 1
    # Optuna draws log-uniformly over [low - 0.5, high + 0.5] and rounds
    share = sum(v <= 10 for v in values) / len(values)
    expected = math.log(10.5 / 0.5) / math.log(100.5 / 0.5)
    assert stats.binomtest(sum(v <= 10 for v in values), len(values),
                           expected).pvalue > P_MIN, share


# ---- goptuna: cmaes, sobol (pkg/suggestion/v1beta1/goptuna/converter.go) ------------------------


@pytest.mark.parametrize("algorithm", ["cmaes", "sobol"])
def test_goptuna_never_reads_distribution_a_log_range_is_linear(algorithm) -> None:
    texts = draw(algorithm, {"type": "double", "min": 1.0, "max": 100.0,
                             "distribution": "logUniform"},
                 sampler=optuna.samplers.RandomSampler(seed=3))
    values = [float(t) for t in texts]
    assert stats.kstest(values, stats.uniform(1, 99).cdf).pvalue > P_MIN
    assert all("e" not in t for t in texts)  # strconv.FormatFloat(v, 'f', -1, 64)


def test_sobol_draws_a_log_range_linearly() -> None:
    texts = draw("sobol", {"type": "double", "min": 1.0, "max": 100.0,
                           "distribution": "logUniform"}, count=512)
    assert stats.kstest([float(t) for t in texts], stats.uniform(1, 99).cdf).pvalue > P_MIN


# ---- skopt: bayesianoptimization (pkg/suggestion/v1beta1/skopt/base_service.py) -----------------


def test_skopt_int_is_every_integer_alike_step_ignored() -> None:
    # Integer(min, max): the step is not read
    texts = draw("bayesianoptimization", {"type": "int", "min": 1, "max": 10, "step": 3},
                 sampler=optuna.samplers.RandomSampler(seed=3))
    chi_square(texts, {str(v): 1 for v in range(1, 11)})


def test_skopt_double_is_log_uniform_whatever_its_distribution() -> None:
    texts = draw("bayesianoptimization", {"type": "double", "min": 1e-3, "max": 1.0,
                                          "step": 0.1},
                 sampler=optuna.samplers.RandomSampler(seed=3))
    logs = [math.log10(float(t)) for t in texts]
    assert stats.kstest(logs, stats.uniform(-3, 3).cdf).pvalue > P_MIN


# ---- hyperband (pkg/suggestion/v1beta1/hyperband/parsing_util.py) --------------------------------


def test_hyperband_int_is_a_rounded_uniform_draw_ends_at_half_weight() -> None:
    # int(round(U(min, max))): step and distribution ignored
    texts = draw("hyperband", {"type": "int", "min": 0, "max": 10, "step": 5,
                               "distribution": "logUniform"})
    chi_square(texts, {str(int(v)): w for v, w in cells(0, 10, 1).items()})


def test_hyperband_discrete_is_the_item_nearest_a_uniform_draw() -> None:
    # U(1, 100), nearest of 1, 10, 100: [1, 5.5) → 1, [5.5, 55) → 10, [55, 100] → 100;
    # each value written str(int(item))
    texts = draw("hyperband", {"type": "discrete", "list": ["1", "010", "100"]})
    chi_square(texts, {"1": 4.5, "10": 49.5, "100": 45})


def test_hyperband_double_is_uniform_whatever_its_distribution() -> None:
    texts = draw("hyperband", {"type": "double", "min": 1.0, "max": 100.0,
                               "distribution": "logUniform"})
    assert stats.kstest([float(t) for t in texts], stats.uniform(1, 99).cdf).pvalue > P_MIN


# ---- discrete values reach the trial as the list's text --------------------------------------


@pytest.mark.parametrize("algorithm", ["random", "tpe", "multivariate-tpe", "cmaes", "sobol",
                                       "bayesianoptimization"])
def test_discrete_values_reach_the_trial_as_written_each_alike(algorithm) -> None:
    # hp.choice / CategoricalDistribution over the list's strings: "0.10" stays "0.10"
    texts = draw(algorithm, {"type": "discrete", "list": ["0.10", "1e-3", "5.0"]},
                 sampler=optuna.samplers.RandomSampler(seed=5), count=900)
    chi_square(texts, {"0.10": 1, "1e-3": 1, "5.0": 1})


def test_a_run_gives_the_trial_the_lists_text_and_keeps_the_table_numeric(tmp_path) -> None:
    # Katib's services hand the trial the list item itself (internal/search_space.py keeps
    # feasibleSpace.list as strings); the trials table types it by the parameter's type
    from automl.results.local import load_results
    from tests.local.helpers import records, run

    experiment = spec(budget={"max_trials": 4, "parallel_trials": 2},
                      parameters=[{"name": "x", "type": "discrete", "list": ["0.10", "0.30"]},
                                  {"name": "y", "type": "int", "min": 1, "max": 10, "step": 2}])
    run(experiment, tmp_path)
    params = [r["params"] for r in records(tmp_path)]
    assert {p["x"] for p in params} <= {"0.10", "0.30"}
    assert {p["y"] for p in params} <= {"2", "4", "6", "8", "10"}  # hyperopt's, never odd
    table = load_results("t", str(tmp_path / ".automl" / "studies.journal"),
                         root=tmp_path / ".automl").trials
    assert table["params.x"].dtype == "float64"
    assert set(table["params.x"]) <= {0.1, 0.3}
