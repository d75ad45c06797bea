"""The plots of an experiment as plotly figures: the report draws them, a notebook shows them.

Each function takes :class:`~automl.results.Results` and returns a ``plotly`` figure, or
raises :class:`NoFigure` saying in words why there is nothing to draw (no completed trial
yet, a DARTS objective that is a genotype, no additional metric for a Pareto plot). Axes
are named after the metric (``accuracy``), not "Objective Value". Optuna's own plots are
used where one exists, on the study of :func:`automl.results.study.to_study`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from automl.errors import AutomlError
from automl.state import text_objective

if TYPE_CHECKING:
    import optuna

    from automl.results._results import Results

__all__ = ["NoFigure", "curves", "histories", "history", "importance", "parallel", "pareto"]

MAX_AXES = 8
"""Parallel coordinates show at most this many parameters: the most important ones."""

_COLORS = "Viridis"
_LABEL_CHARS = 16
"""A parallel-coordinates tick label longer than this gets a key (:func:`_key_long_labels`)."""
"""Optuna draws parallel coordinates in Blues, whose worst trial is white on white paper."""


class NoFigure(AutomlError):
    """There is nothing to plot; the message says why, for the report to print instead."""


def history(results: Results) -> Any:
    """Each trial's objective and the best so far, by trial number (Optuna's history plot)."""
    study = _scored(results)
    from optuna.visualization import plot_optimization_history

    return plot_optimization_history(study, target_name=results.spec.objective.metric)


def histories(many: Sequence[Results]) -> Any:
    """Several experiments' histories on one plot (same metric): one colour each."""
    from optuna.visualization import plot_optimization_history

    metrics = {r.spec.objective.metric for r in many}
    directions = {r.spec.objective.type for r in many}
    if len(metrics) > 1 or len(directions) > 1:
        raise NoFigure("these experiments optimise different objectives ("
                       + ", ".join(f"{r.name}: {r.spec.objective.type} "
                                   f"{r.spec.objective.metric}" for r in many)
                       + "): their histories share no axis")
    from plotly.colors import qualitative

    studies = [_scored(r) for r in many]
    figure = plot_optimization_history(studies, target_name=metrics.pop())
    # Optuna gives every study's points one colour; one colour per experiment instead, for
    # its points and its best-so-far line alike.
    for i, r in enumerate(many):
        color = qualitative.Plotly[i % len(qualitative.Plotly)]
        for trace in figure.data:
            if str(trace.name).endswith(f" of {r.name}"):
                trace.update(marker_color=color, line_color=color)
    return figure


def parallel(results: Results) -> Any:
    """Parallel coordinates of the objective and the parameters that matter most.

    At most :data:`MAX_AXES` parameters, the most important first (an ENAS layer before any
    skip flag); colours run from the worst trial to the
    best in a scale where neither end is white.
    """
    study = _scored(results)
    from optuna.visualization import plot_parallel_coordinate

    names = _ranked_params(study)
    figure = plot_parallel_coordinate(study, params=names[:MAX_AXES],
                                      target_name=results.spec.objective.metric)
    from plotly.colors import sample_colorscale

    # Optuna draws a line per trial at the objective's scaled value on the first axis (0 to
    # 1) and colours it from there; the same place on a scale with no white end keeps it.
    maximize = results.spec.objective.type == "maximize"
    for trace in figure.data:
        if trace.mode == "lines" and trace.y:
            place = trace.y[0] if maximize else 1 - trace.y[0]
            trace.line.color = sample_colorscale(_COLORS, [place])[0]
        elif trace.marker is not None and trace.marker.colorscale is not None:
            trace.marker.colorscale = _COLORS  # the colour bar
    _key_long_labels(figure)
    return figure


def _key_long_labels(figure: Any) -> None:
    """Tick labels too long to sit side by side (an ENAS operation, ``separable_convolution(
    filter_size=5,...)``, on every layer's axis) become short keys, A, B, ..., the same on
    every axis, spelled out once in a key under the plot; the full text is the label's hover."""
    keys: dict[str, str] = {}
    for note in figure.layout.annotations:
        if len(note.text or "") > _LABEL_CHARS:
            key = keys.setdefault(note.text, _key(len(keys)))
            note.update(hovertext=note.text, text=key)
    if not keys:
        return
    lines = [f"{key} = {text}" for text, key in sorted(keys.items(), key=lambda kv: kv[1])]
    figure.add_annotation(text="<br>".join(lines), xref="paper", yref="paper", x=0, y=0,
                          yshift=-40, xanchor="left", yanchor="top", align="left",
                          showarrow=False, font={"size": 11})
    below = 60 + 16 * len(lines)  # the axis names, then a line per key
    figure.update_layout(height=450 + below, margin={"b": below})


def _key(number: int) -> str:
    """A, B, ..., Z, AA, AB, ...: a short key for the ``number``-th long label."""
    letters = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def importance(results: Results) -> Any:
    """Each parameter's importance for the objective: the numbers ``df.automl.importance()``
    and optuna-dashboard give (:func:`automl.results.study.param_importances`)."""
    study = _scored(results)
    _check_importance(study)
    from optuna.visualization import plot_param_importances

    from automl.results.study import importance_evaluator, importance_target

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # what Optuna flags as experimental
        return plot_param_importances(study, evaluator=importance_evaluator(),
                                      target=importance_target(study),
                                      target_name=results.spec.objective.metric)


def curves(results: Results, metric: str | None = None) -> Any:
    """Learning curves: each trial's reports of ``metric`` (default: the objective) by step.

    DARTS, whose objective is a genotype, gets its first additional metric.
    """
    import plotly.graph_objects as go

    spec = results.spec
    if metric is None:
        metric = spec.objective.metric
        if text_objective(spec.algorithm.name) and spec.objective.additional_metrics:
            metric = spec.objective.additional_metrics[0]
    obs = results.observations
    obs = obs[(obs["metric"] == metric) & obs["value"].notna()]
    if obs.empty:
        raise NoFigure(f"no trial reported {metric} as a number yet")
    if "parent" in results.trials.columns:  # a lineage's curve runs through its trials
        return _lineage_curves(results, obs, metric)
    if obs.groupby("trial", observed=True).size().max() < 2:
        raise NoFigure(f"each trial reported {metric} once: there is no curve to draw")
    figure = go.Figure()
    for trial, rows in obs.groupby("trial", sort=False, observed=True):
        figure.add_trace(go.Scatter(x=rows["step"], y=rows["value"], mode="lines+markers",
                                    name=str(trial), marker={"size": 4}))
    figure.update_layout(title="Learning curves", xaxis_title="report (step)",
                         yaxis_title=metric, template="plotly_white")
    return figure


def _lineage_curves(results: Results, obs: Any, metric: str) -> Any:
    """pbt: each trial's curve drawn on from its parent's last point, a colour per lineage."""
    import plotly.colors
    import plotly.graph_objects as go

    from automl.results.lineage import continued_steps, lineage_roots, parents

    trials = results.trials
    obs = continued_steps(trials, obs)
    parent_of = parents(trials)
    roots = lineage_roots(trials)
    palette = plotly.colors.qualitative.Plotly
    colours = {root: palette[i % len(palette)]
               for i, root in enumerate(dict.fromkeys(roots.values()))}
    ends = {str(t): (rows["step"].iloc[-1], rows["value"].iloc[-1])
            for t, rows in obs.groupby("trial", sort=False, observed=True)}
    figure = go.Figure()
    shown: set[str] = set()
    for trial, rows in obs.groupby("trial", sort=False, observed=True):
        x, y = rows["step"].tolist(), rows["value"].tolist()
        parent = parent_of.get(str(trial))
        if parent in ends:  # joined to where the parent ended
            x, y = [ends[parent][0], *x], [ends[parent][1], *y]
        root = roots.get(str(trial), str(trial))
        figure.add_trace(go.Scatter(
            x=x, y=y, mode="lines+markers", name=f"lineage of {root}", legendgroup=root,
            showlegend=root not in shown, line={"color": colours.get(root)},
            marker={"size": 4}, hovertext=str(trial), hoverinfo="text+x+y"))
        shown.add(root)
    figure.update_layout(title="Learning curves by lineage (each trial goes on from its "
                               "parent's checkpoint)", xaxis_title="report (step), "
                         "counted from the lineage's first trial",
                         yaxis_title=metric, template="plotly_white")
    return figure


def pareto(results: Results, metric: str | None = None) -> Any:
    """The objective against an additional metric, the Pareto front highlighted (Optuna's).

    Which way the additional metric is better comes from the strategy the spec gives it:
    ``min`` is minimised, ``max`` maximised. Without one (Katib's default follows the
    objective) or with ``latest``, nothing says it, so no front is drawn for it.
    """
    import optuna

    spec = results.spec
    strategies = spec.objective.metric_strategies
    named = [m for m in spec.objective.additional_metrics if metric in (None, m)]
    if not named:
        raise NoFigure("a Pareto plot needs an additional metric (objective."
                       "additional_metrics); this experiment has "
                       + (f"no metric {metric!r}" if metric else "none"))
    directed = [m for m in named if strategies.get(m) in ("min", "max")]
    if not directed:
        raise NoFigure(f"nothing says whether a higher or a lower {named[0]} is better: give "
                       f"it a metric strategy, min or max (objective.metric_strategies)")
    metric = directed[0]
    direction = "maximize" if strategies[metric] == "max" else "minimize"
    frame = results.trials
    column = f"metrics.{metric}"
    done = frame[frame["status"].isin(("Succeeded", "EarlyStopped"))
                 & frame["objective"].notna() & frame[column].notna()]
    if len(done) < 2:
        raise NoFigure(f"a Pareto plot needs two trials with {spec.objective.metric} and "
                       f"{metric}")
    study = optuna.create_study(directions=[spec.objective.type, direction])
    study.add_trials([optuna.trial.create_trial(
        values=[float(row["objective"]), float(row[column])],
        user_attrs={"trial": str(row["trial"])}) for _, row in done.iterrows()])
    from optuna.visualization import plot_pareto_front

    figure = plot_pareto_front(study, target_names=[spec.objective.metric, metric])
    figure.update_layout(title=f"Pareto front: {spec.objective.type} {spec.objective.metric}, "
                               f"{direction} {metric}")
    return figure


def _scored(results: Results) -> optuna.Study:
    """The experiment's study, when it has a trial with a numeric objective."""
    from optuna.trial import TrialState

    spec = results.spec
    if text_objective(spec.algorithm.name):
        raise NoFigure(f"a {spec.algorithm.name} objective ({spec.objective.metric}) is the "
                       "architecture found, not a number: see the learning curves and the "
                       "best architecture")
    study = results._optuna_study()
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        finished = results.trials["status"].isin(("Succeeded", "EarlyStopped")).sum()
        raise NoFigure("no trial has an objective value yet" if not finished else
                       f"none of the {finished} finished trials has a numeric objective")
    return study


def _check_importance(study: optuna.Study) -> None:
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    varied = {n for t in complete for n, d in t.distributions.items() if not d.single()}
    if len(complete) < 2 or not varied:
        raise NoFigure("parameter importance needs two completed trials and a parameter "
                       "that varies")


def _ranked_params(study: optuna.Study) -> list[str]:
    """The study's parameters, most important first; an ENAS skip flag after every layer.

    A layer's operation is the choice a reader follows across the axes; a skip flag is a
    0/1 axis that says little on its own, and ENAS has many (15 for 6 layers).
    """
    from optuna.trial import TrialState

    names = sorted({n for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                    for n in t.params}, key=lambda n: (n.startswith("skip_"), n))
    if len(names) <= MAX_AXES:
        return names
    from automl.results.study import param_importances

    try:
        _check_importance(study)
        scores = param_importances(study)
    except (NoFigure, ValueError, RuntimeError):
        return names
    return sorted(names, key=lambda n: (n.startswith("skip_"), -scores.get(n, 0.0)))
