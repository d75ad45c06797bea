"""One self-contained HTML report of an experiment, or of several side by side."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl._output import write_file
from automl.results._results import Results
from automl.results.schema import RAW_NAS_COLUMNS
from automl.state import text_objective

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PLOTS", "write_report"]

PLOTS = {"history": "Optimization history", "parallel": "Parallel coordinates",
         "importance": "Parameter importance", "curves": "Learning curves",
         "pareto": "Pareto front"}
"""The id of each plot's ``<div>`` in the report, and its heading."""

_OPTIONAL = {"pareto"}
"""Plots whose section is left out, rather than replaced by a note, when there is none."""

_SORT = """
document.querySelectorAll("table.trials").forEach(function (table) {
  table.querySelectorAll("thead th").forEach(function (th, column) {
    th.title = "Sort by this column";
    th.addEventListener("click", function () {
      var up = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      var body = table.tBodies[0], rows = Array.from(body.rows);
      function key(row) {
        var text = row.cells[column].textContent.trim(), number = Number(text);
        return text === "" ? null : (isNaN(number) ? text : number);
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x === null || y === null) { return (x === null) - (y === null); }  // blanks last
        var order = (typeof x === typeof y) ? (x < y ? -1 : x > y ? 1 : 0)
                                            : (typeof x === "number" ? -1 : 1);
        return up ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""
"""Click a header of a trials table to sort by it (again: the other way); numbers as numbers,
empty cells last. Plain JavaScript in the page: nothing is fetched."""

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 75em; color: #222; }
h1 { margin-bottom: 0.2em; } .sub { color: #666; margin-top: 0; }
dl.summary { display: grid; grid-template-columns: max-content auto; gap: 0.3em 1.5em; }
dl.summary dt { font-weight: 600; } dl.summary dd { margin: 0; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
table.trials { border-collapse: collapse; font-size: 0.85em; }
table.trials th, table.trials td { padding: 0.25em 0.6em; border-bottom: 1px solid #ddd;
  text-align: right; white-space: nowrap; }
table.trials th:nth-child(-n+3), table.trials td:nth-child(-n+3) { text-align: left; }
table.trials td.text { text-align: left; white-space: normal; min-width: 20em; }
table.trials tr.best { background: #fff6d5; }
table.trials th { cursor: pointer; user-select: none; }
table.trials th[aria-sort=ascending]::after { content: " \\25B2"; }
table.trials th[aria-sort=descending]::after { content: " \\25BC"; }
p.note { color: #666; font-style: italic; }
"""


def write_report(results: Results | Sequence[Results], path: Path) -> Path:
    """Write one HTML file that needs no network to view: plotly.js is embedded once, inline.

    For one experiment: a summary (status and reason as Katib decides them from the trials,
    objective, goal, algorithm, wall-clock duration, trial counts per status, the best trial
    and its parameters; for NAS the best architecture in words), Optuna's optimization
    history, parallel coordinates and parameter importance, the learning curves from the
    observations, a Pareto front when an additional metric has a direction (a min or max
    strategy; no section otherwise), and the trials table, sorted by a click on a header.
    For several: a summary row each, their histories on one plot, and all their trials.
    A plot that cannot be drawn is replaced by a note saying why (automl.results.figures).

    Args:
        results: One experiment's results, or several experiments' to compare.
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

    many = [results] if isinstance(results, Results) else list(results)
    if len(many) == 1:
        one = many[0]
        sections = [_summary(one), *_plots(one), _table(one.trials, one.best()["trial"],
                                                        texts=_texts(one))]
        heading = f"automl report: {one.name}"
    else:
        from automl.results.compare import compare

        sections = [_overview(many), *_plots_of_many(many), _table(
            compare(many), [n for r in many for n in r.best()["trial"]],
            texts=set().union(*(_texts(r) for r in many)))]
        heading = "automl report: " + ", ".join(r.name for r in many)
    title = html.escape(heading)
    page = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{title}</title>\n<style>{_STYLE}</style>\n"
            # Inline rather than a CDN link: the report is read offline, mailed, archived.
            f'<script type="text/javascript">{get_plotlyjs()}</script>\n</head>\n<body>\n'
            f"<h1>{title}</h1>\n" + "\n".join(s for s in sections if s)
            + f"\n<script>{_SORT}</script>\n</body>\n</html>\n")
    return write_file(Path(path), page)


def _summary(results: Results) -> str:
    spec = results.spec
    counts = results.trials["status"].value_counts(sort=False)
    status, reason = _status(results)
    objective = spec.objective
    items = {
        "Experiment": html.escape(spec.name),
        "Status": f'<strong class="status">{html.escape(status)}</strong>'
                  + (f" ({html.escape(reason)})" if reason else ""),
        "Objective": html.escape(f"{objective.type} {objective.metric}"),
        "Goal": html.escape(
            f"{objective.metric} {'>=' if objective.type == 'maximize' else '<='} "
            f"{objective.goal:g}" if objective.goal is not None
            else "none (runs until max_trials)"),
        "Algorithm": html.escape(spec.algorithm.name),
        "Duration": html.escape(_duration(results.trials)),
        "Trials": f"{len(results.trials)} ("
                  + ", ".join(f"{html.escape(str(s))}: {n}" for s, n in counts.items() if n)
                  + ")",
    }
    best = results.best()
    if best.empty:
        items["Best trial"] = "none yet (no trial with an objective)"
    else:
        row = best.iloc[0]
        shown = ("its architecture (below)" if text_objective(spec.algorithm.name)
                 else _cell(row["objective"]))
        items["Best trial"] = (f'<strong class="best-trial">{html.escape(str(row["trial"]))}'
                               f"</strong>: {html.escape(spec.objective.metric)} = "
                               f"{html.escape(shown)}")
        if "architecture" in best.columns and isinstance(row["architecture"], str):
            items["Best architecture"] = f"<code>{html.escape(row['architecture'])}</code>"
        else:
            params = [c for c in best.columns if c.startswith("params.")]
            items["Best parameters"] = ", ".join(
                f"{html.escape(c.removeprefix('params.'))} = {html.escape(_cell(row[c]))}"
                for c in params) or "none"
    rows = "\n".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items.items())
    return f'<section id="summary"><h2>Summary</h2>\n<dl class="summary">\n{rows}\n</dl></section>'


def _status(results: Results) -> tuple[str, str]:
    """The experiment's condition and reason, as Katib decides them from its trials
    (automl.local.conditions.verdict); Running while nothing ends it yet."""
    from automl.local.conditions import COMPLETED, verdict
    from automl.state import Tally

    trials = results.trials
    done = trials[trials["status"].isin(COMPLETED)]
    params = [c for c in trials.columns if c.startswith("params.")]
    tally = Tally(maximize=results.maximize, algorithm=results.spec.algorithm.name, records=[
        {"name": row["trial"], "status": row["status"], "objective": _number(row["objective"]),
         "params": {c.removeprefix("params."): row[c] for c in params},
         # a trial cut short by a stopped engine counts toward no budget (automl.state.cut)
         "reason": row.get("reason") if isinstance(row.get("reason"), str) else None}
        for _, row in done.iterrows()])
    ended = verdict(results.spec, tally)
    if ended is not None:
        return ended
    open_ = int((~trials["status"].isin(COMPLETED)).sum())
    return "Running", (f"{open_} trial{'s' if open_ != 1 else ''} not finished" if open_
                       else "not finished: run it again to resume")


def _number(value: Any) -> Any:
    """A table's objective as a record holds it: a float, a text (DARTS), or None."""
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value if isinstance(value, str) else float(value)


def _duration(trials: pd.DataFrame) -> str:
    """Wall time from the first trial's start to the last one's end, e.g. ``2 min 5 s``."""
    import pandas as pd

    start, end = trials["start_time"].min(), trials["completion_time"].max()
    if pd.isna(start) or pd.isna(end):
        return "unknown (no finished trial)"
    seconds = round((end - start).total_seconds())
    hours, rest = divmod(seconds, 3600)
    parts = [(hours, "h"), (rest // 60, "min"), (rest % 60, "s")]
    return " ".join(f"{n} {unit}" for n, unit in parts if n) or "0 s"


def _overview(many: list[Results]) -> str:
    """A row per experiment: status, algorithm, objective, trials, duration, the best trial
    and its value."""
    head = "".join(f"<th>{h}</th>" for h in ("experiment", "status", "algorithm", "objective",
                                             "trials", "duration", "best trial", "best value"))
    rows = []
    for r in many:
        best = r.best()
        name, value = ("", "") if best.empty else (
            str(best["trial"].iloc[0]),
            str(best["architecture"].iloc[0]) if text_objective(r.spec.algorithm.name)
            else _cell(best["objective"].iloc[0]))
        cells = (r.name, _status(r)[0], r.spec.algorithm.name,
                 f"{r.spec.objective.type} {r.spec.objective.metric}", str(len(r.trials)),
                 _duration(r.trials), name, value)
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return ('<section id="summary"><h2>Experiments</h2>\n<div class="scroll">'
            f'<table class="trials"><thead><tr>{head}</tr></thead>\n<tbody>\n'
            + "\n".join(rows) + "\n</tbody></table></div></section>")


def _texts(results: Results) -> set[str]:
    """Columns holding long texts, shown wrapped: a NAS architecture, a trial's reason."""
    return {"architecture", "reason"} & set(results.trials.columns)


def _table(trials: pd.DataFrame, best: Iterable[str], texts: set[str]) -> str:
    """The trials table, every cell formatted here so that pandas only lays it out.

    Katib's raw NAS assignments (long JSON texts) are left out: the ``architecture`` column
    says them in words.
    """
    trials = trials[[c for c in trials.columns if c not in RAW_NAS_COLUMNS]]
    best = set(best)
    where = list(trials.columns).index("trial")
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in trials.columns)
    body = []
    for row in trials.itertuples(index=False):
        cells = "".join(
            f'<td class="text">{html.escape(_cell(v, column))}</td>' if column in texts
            else f"<td>{html.escape(_cell(v, column))}</td>"
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


def _plots(results: Results) -> list[str]:
    """A section per plot: the figure, or a note saying why there is none."""
    from automl.results import figures

    makers = {"history": figures.history, "parallel": figures.parallel,
              "importance": figures.importance, "curves": figures.curves}
    if results.spec.objective.additional_metrics and not text_objective(
            results.spec.algorithm.name):  # a genotype has no front to trade along
        makers["pareto"] = figures.pareto
    return [_section(div_id, lambda make=make: make(results)) for div_id, make in makers.items()]


def _plots_of_many(many: list[Results]) -> list[str]:
    from automl.results import figures

    return [_section("history", lambda: figures.histories(many))]


def _section(div_id: str, make: Callable[[], Any]) -> str:
    """The plot's section: the figure, or a note saying why there is none (nothing at all
    for an optional plot, such as a Pareto front nothing gives a direction to)."""
    from automl.results.figures import NoFigure

    try:
        body = _figure_html(make(), div_id)
    except NoFigure as exc:
        if div_id in _OPTIONAL:
            return ""
        text = str(exc)
        body = f'<p class="note">{html.escape(text[:1].upper() + text[1:])}.</p>'
    except (ValueError, RuntimeError) as exc:  # e.g. importance on a degenerate space
        body = f'<p class="note">{html.escape(f"Not available: {exc}")}</p>'
    return f'<section id="section-{div_id}"><h2>{PLOTS[div_id]}</h2>\n{body}</section>'


def _figure_html(figure: Any, div_id: str) -> str:
    # plotly.js is in <head> once; each figure only carries its data and a newPlot call.
    return figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                          config={"displaylogo": False, "responsive": True})
