"""The report's plots for every kind of experiment: named axes, readable NAS choices, notes."""

from __future__ import annotations

from pathlib import Path

import pytest

import automl
from automl.results import figures
from automl.results.figures import NoFigure
from automl.results.report import write_report
from tests.local.helpers import darts, run, spec
from tests.local.test_nas import GENOTYPE, _darts_trial, _enas, _layers_score, _run


@pytest.fixture(scope="module")
def quick_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with 6 finished trials reporting loss and accuracy over 3 epochs."""
    folder = tmp_path_factory.mktemp("quick")
    run(spec(args=["--epochs=3"], budget={"max_trials": 6, "parallel_trials": 2}), folder)
    return folder / ".automl"


@pytest.fixture(scope="module")
def quick(quick_root: Path) -> automl.Results:
    return automl.load_results("t", root=quick_root)


@pytest.fixture(scope="module")
def enas(tmp_path_factory: pytest.TempPathFactory) -> automl.Results:
    return _run(_enas(trials=8), _layers_score, tmp_path_factory.mktemp("enas"))[1]


@pytest.fixture(scope="module")
def darts_results(tmp_path_factory: pytest.TempPathFactory) -> automl.Results:
    spec = darts("darts-t", ["python", "t.py"], num_epochs=1)
    return _run(spec, _darts_trial, tmp_path_factory.mktemp("darts"))[1]


def _lines(figure) -> list:
    """Optuna's parallel coordinates: a line trace per trial, then the colour bar's."""
    return [t for t in figure.data if t.mode == "lines"]


def test_axes_are_named_after_the_metric_not_objective_value(quick) -> None:
    assert quick.plot_history().layout.yaxis.title.text == "loss"
    assert quick.plot_curves().layout.yaxis.title.text == "loss"
    assert quick.plot_curves("accuracy").layout.yaxis.title.text == "accuracy"
    assert quick.plot_parallel().layout.xaxis.ticktext[0] == "loss"


def test_learning_curves_draw_each_trials_reports_by_step(quick) -> None:
    figure = quick.plot_curves()
    assert [t.name for t in figure.data] == quick.trials["trial"].tolist()
    assert all(list(t.x) == [0, 1, 2] for t in figure.data)
    observed = quick.observations
    first = observed[(observed["trial"] == "t-0000") & (observed["metric"] == "loss")]
    assert list(figure.data[0].y) == pytest.approx(first["value"].tolist())


def test_parallel_coordinates_colour_the_worst_trials_visibly(quick) -> None:
    from plotly.colors import unlabel_rgb

    figure = quick.plot_parallel()
    lines = _lines(figure)
    assert len(lines) == 6
    for line in lines:  # none fades into the white paper, as Optuna's Blues' worst does
        assert min(unlabel_rgb(line.line.color)) < 200, line.line.color
    best = min(lines, key=lambda t: t.y[0])  # minimised: the lowest loss
    worst = max(lines, key=lambda t: t.y[0])
    assert best.line.color == "rgb(253, 231, 37)"  # Viridis' bright end
    assert worst.line.color == "rgb(68, 1, 84)"  # its dark end
    assert figure.data[-1].marker.colorscale[0][1] == "#440154"


def test_pareto_takes_the_direction_from_the_metrics_strategy_or_draws_nothing(quick) -> None:
    with pytest.raises(NoFigure, match="whether a higher or a lower accuracy is better"):
        quick.plot_pareto()  # accuracy has Katib's default strategy: no direction of its own
    with pytest.raises(NoFigure, match="no metric 'nope'"):
        quick.plot_pareto("nope")
    objective = quick.spec.objective.model_copy(update={"metric_strategies": {"accuracy": "max"}})
    stated = automl.Results(quick.spec.model_copy(update={"objective": objective}),
                            quick.trials, quick.observations)
    figure = stated.plot_pareto()
    assert figure.layout.title.text == "Pareto front: minimize loss, maximize accuracy"
    assert figure.layout.xaxis.title.text == "loss"
    assert figure.layout.yaxis.title.text == "accuracy"


def test_enas_parallel_coordinates_keep_the_most_important_choices(enas) -> None:
    figure = enas.plot_parallel()
    axes = figure.layout.xaxis.ticktext
    assert len(axes) == 1 + figures.MAX_AXES  # the objective, then 8 of the 10 choices
    assert axes[0] == "Validation-Accuracy"
    assert [a for a in axes if a.startswith("layer_")] == [f"layer_{i}" for i in range(4)]
    assert sum(a.startswith("skip_") for a in axes) == 4  # every layer, then 4 of 6 skips
    words = [a.hovertext for a in figure.layout.annotations if a.hovertext]
    assert words and all(text.startswith(("convolution(", "separable_convolution(",
                                          "reduction(")) for text in words)  # not Katib's ids
    assert not any(a.text.startswith("[[") for a in figure.layout.annotations)


def test_long_parallel_coordinate_labels_become_keys_spelled_out_under_the_plot(enas) -> None:
    figure = enas.plot_parallel()
    *ticks, key = figure.layout.annotations
    # Short enough not to overlap the next axis's labels: keys, and the numbers of the others.
    assert max(len(a.text) for a in ticks) <= 6
    spelled = dict(line.split(" = ", 1) for line in key.text.split("<br>"))
    keyed = {a.text: a.hovertext for a in ticks if a.hovertext}
    assert keyed == spelled  # one key per operation, the same on every axis
    assert sorted(spelled) == [chr(ord("A") + i) for i in range(len(spelled))]
    assert key.yanchor == "top" and key.y == 0 and figure.layout.margin.b >= 16 * len(spelled)


def test_darts_figures_say_why_the_objective_is_not_plotted(darts_results) -> None:
    with pytest.raises(NoFigure, match="architecture found, not a number"):
        darts_results.plot_history()
    with pytest.raises(NoFigure, match="Validation-Accuracy once"):
        darts_results.plot_curves()  # DARTS's curve is its first additional metric


def test_importance_is_the_same_in_the_accessor_the_report_and_optuna_dashboard(
        tmp_path: Path) -> None:
    from optuna_dashboard._importance import get_param_importance_from_trials_cache
    from optuna_dashboard._inmemory_cache import InMemoryCache

    from automl.local.store import open_storage
    from automl.results.dashboard import share_importance

    # multivariate-tpe runs on Katib's Optuna service, whose draws are the values trials get;
    # hyperopt's (random, tpe) are kept raw in the study (an int as its float draw), which
    # optuna-dashboard reads as they are
    run(spec(args=["--epochs=3"], budget={"max_trials": 6, "parallel_trials": 2},
             algorithm={"name": "multivariate-tpe", "settings": {"random_state": 1}}), tmp_path)
    quick_root = tmp_path / ".automl"
    quick = automl.load_results("t", root=quick_root)
    share_importance()  # as automl dashboard does before it serves
    accessor = quick.trials.automl.importance()
    bars = quick.plot_importance().data[0]
    plotted = dict(zip(bars.y, bars.x, strict=True))
    storage = open_storage(None, quick_root)  # the engine's study, as the dashboard reads it
    study_id = storage.get_study_id_from_name("t")
    shown = get_param_importance_from_trials_cache(
        InMemoryCache(), storage, study_id, 0, storage.get_all_trials(study_id))
    dashboard = {row["name"]: row["importance"] for row in shown}
    assert set(dashboard) == {"x", "y"}
    for name, value in dashboard.items():
        assert accessor[f"params.{name}"] == pytest.approx(value)
        assert plotted[name] == pytest.approx(value)


def test_report_of_a_darts_run_shows_the_best_genotype(darts_results, tmp_path) -> None:
    text = write_report(darts_results, tmp_path / "d.html").read_text(encoding="utf-8")
    assert "none yet" not in text and "No completed trial" not in text
    assert '<strong class="best-trial">darts-t-0000</strong>' in text
    assert "Best architecture" in text and "max_pooling_3x3" in text
    assert GENOTYPE.replace("'", "&#x27;") in text


def test_report_of_an_enas_run_says_architectures_in_words(enas, tmp_path) -> None:
    text = write_report(enas, tmp_path / "e.html").read_text(encoding="utf-8")
    assert "nn_config" not in text.split('<section id="trials">')[1]  # no raw JSON column
    assert "[[" not in text.split('<section id="trials">')[1]
    assert "Best architecture" in text and "convolution(" in text


def test_report_of_several_experiments_compares_them(quick, enas, tmp_path) -> None:
    other = automl.Results(quick.spec.model_copy(update={"name": "u"}),
                           quick.trials.assign(experiment="u"), quick.observations)
    text = write_report([quick, other], tmp_path / "c.html").read_text(encoding="utf-8")
    assert "<h2>Experiments</h2>" in text
    assert '<div id="history" class="plotly-graph-div"' in text
    assert text.count("<td>t</td>") >= 1 and text.count("<td>u</td>") >= 1
    overview = text.split("<h2>Experiments</h2>")[1].split("</table>")[0]
    assert "<th>status</th>" in overview and "<th>duration</th>" in overview
    assert overview.count("<td>Succeeded</td>") == 2  # each ran its max_trials
    mixed = write_report([quick, enas], tmp_path / "m.html").read_text(encoding="utf-8")
    assert "optimise different objectives" in mixed


def test_several_histories_get_a_colour_per_experiment(quick) -> None:
    other = automl.Results(quick.spec.model_copy(update={"name": "u"}),
                           quick.trials.assign(experiment="u"), quick.observations)
    figure = figures.histories([quick, other])
    colours = {}
    for trace in (t for t in figure.data if " of " in t.name):  # not Optuna's infeasible
        experiment = trace.name.rsplit(" of ", 1)[1]
        colours.setdefault(experiment, set()).add(
            trace.marker.color if trace.mode == "markers" else trace.line.color)
    assert set(colours) == {"t", "u"}
    assert all(len(c) == 1 for c in colours.values()) and colours["t"] != colours["u"]
