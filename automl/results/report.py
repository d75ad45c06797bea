"""One self-contained HTML report of an experiment: summary, trials table, Optuna's plots."""

from __future__ import annotations

import html
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl._output import write_file

if TYPE_CHECKING:
    import optuna

    from automl.results._results import Results

__all__ = ["PLOTS", "write_report"]

PLOTS = {"history": "Optimization history", "parallel": "Parallel coordinates",
         "importance": "Parameter importance"}
"""The id of each plot's ``<div>`` in the report, and its heading."""

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 75em; color: #222; }
h1 { margin-bottom: 0.2em; } .sub { color: #666; margin-top: 0; }
dl.summary { display: grid; grid-template-columns: max-content auto; gap: 0.3em 1.5em; }
dl.summary dt { font-weight: 600; } dl.summary dd { margin: 0; }
.scroll { overflow-x: auto; }
table.trials { border-collapse: collapse; font-size: 0.85em; }
table.trials th, table.trials td { padding: 0.25em 0.6em; border-bottom: 1px solid #ddd;
  text-align: right; white-space: nowrap; }
table.trials th:nth-child(-n+3), table.trials td:nth-child(-n+3) { text-align: left; }
table.trials tr.best { background: #fff6d5; }
p.note { color: #666; font-style: italic; }
"""


def write_report(results: Results, path: Path) -> Path:
    """Write one HTML file that needs no network to view: plotly.js is embedded once, inline.

    The report holds a summary (experiment, objective, trial counts per status, the best trial
    and its parameters), the trials table, and Optuna's optimization history, parallel
    coordinates and parameter importance plots. A plot that cannot be drawn (no completed
    trial yet; importance needs two, and parameters that vary) is replaced by a note.

    Args:
        results: One experiment's results.
        path: The file to write; its folder must exist.

    Returns:
        ``path``.

    Raises:
        OutputError: When ``path`` cannot be written; a file already there is left untouched.

    Example:
        >>> write_report(automl.load_results("digits-svm"), Path("digits-svm.html"))
        PosixPath('digits-svm.html')
    """
    from plotly.offline import get_plotlyjs

    from automl.results.study import to_study

    sections = [_summary(results), _table(results)]
    for div_id, (title, body) in _plots(to_study(results)).items():
        sections.append(f'<section id="section-{div_id}"><h2>{title}</h2>\n{body}</section>')
    title = html.escape(f"automl report: {results.name}")
    page = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{title}</title>\n<style>{_STYLE}</style>\n"
            # Inline rather than a CDN link: the report is read offline, mailed, archived.
            f'<script type="text/javascript">{get_plotlyjs()}</script>\n</head>\n<body>\n'
            f"<h1>{title}</h1>\n" + "\n".join(sections) + "\n</body>\n</html>\n")
    return write_file(Path(path), page)


def _summary(results: Results) -> str:
    spec = results.spec
    counts = results.trials["status"].value_counts(sort=False)
    items = {
        "Experiment": html.escape(spec.name),
        "Objective": html.escape(f"{spec.objective.type} {spec.objective.metric}"),
        "Algorithm": html.escape(spec.algorithm.name),
        "Trials": f"{len(results.trials)} ("
                  + ", ".join(f"{html.escape(str(s))}: {n}" for s, n in counts.items() if n)
                  + ")",
    }
    best = results.best()
    if best.empty:
        items["Best trial"] = "none yet (no trial with an objective)"
    else:
        row = best.iloc[0]
        items["Best trial"] = (f'<strong class="best-trial">{html.escape(str(row["trial"]))}'
                               f"</strong>: {html.escape(spec.objective.metric)} = "
                               f"{_cell(row['objective'])}")
        params = [c for c in best.columns if c.startswith("params.")]
        items["Best parameters"] = ", ".join(
            f"{html.escape(c.removeprefix('params.'))} = {html.escape(_cell(row[c]))}"
            for c in params) or "none"
    rows = "\n".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items.items())
    return f'<section id="summary"><h2>Summary</h2>\n<dl class="summary">\n{rows}\n</dl></section>'


def _table(results: Results) -> str:
    """The trials table, every cell formatted here so that pandas only lays it out."""
    trials = results.trials
    best = set(results.best()["trial"])
    where = list(trials.columns).index("trial")
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in trials.columns)
    body = []
    for row in trials.itertuples(index=False):
        cells = "".join(f"<td>{html.escape(_cell(v, column))}</td>"
                        for v, column in zip(row, trials.columns, strict=True))
        marked = ' class="best"' if row[where] in best else ""
        body.append(f"<tr{marked}>{cells}</tr>")
    return ('<section id="trials"><h2>Trials</h2>\n<p class="sub">Times in UTC; the best '
            'trial is highlighted.</p>\n<div class="scroll"><table class="trials">\n'
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body)
            + "\n</tbody>\n</table></div></section>")


def _cell(value: Any, column: str = "") -> str:
    """A table value as text: floats to 6 significant digits, times to the second."""
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        # Durations need no more than tenths; values are printed as the engine prints them.
        return f"{value:.1f}" if column == "duration_s" else f"{value:.6g}"
    return str(value)


def _plots(study: optuna.Study) -> dict[str, tuple[str, str]]:
    """Div id → (heading, the plot's HTML or a note saying why there is none)."""
    from optuna import visualization as vis
    from optuna.trial import TrialState

    from automl.results.study import importance_evaluator

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    varied = {n for t in complete for n, d in t.distributions.items() if not d.single()}
    notes = {}
    if not complete:
        notes = dict.fromkeys(PLOTS, "No completed trial yet: nothing to plot.")
    elif len(complete) < 2 or not varied:
        notes["importance"] = ("Parameter importance needs at least two completed trials "
                               "and a parameter that varies.")
    makers = {"history": lambda: vis.plot_optimization_history(study),
              "parallel": lambda: vis.plot_parallel_coordinate(study),
              "importance": lambda: vis.plot_param_importances(
                  study, evaluator=importance_evaluator())}
    out = {}
    for div_id, title in PLOTS.items():
        if div_id in notes:
            out[div_id] = (title, f'<p class="note">{notes[div_id]}</p>')
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # PED-ANOVA is flagged experimental
                figure = makers[div_id]()
        except (ValueError, RuntimeError) as exc:  # e.g. importance on a degenerate space
            note = html.escape(f"Not available: {exc}")
            out[div_id] = (title, f'<p class="note">{note}</p>')
            continue
        out[div_id] = (title, _figure_html(figure, div_id))
    return out


def _figure_html(figure: Any, div_id: str) -> str:
    # plotly.js is in <head> once; each figure only carries its data and a newPlot call.
    return figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                          config={"displaylogo": False, "responsive": True})
