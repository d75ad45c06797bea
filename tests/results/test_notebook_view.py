"""Results in a notebook: an HTML summary with the best trials (Jupyter's _repr_html_)."""

from __future__ import annotations

import re

import pandas as pd

import automl
from automl.results.schema import trials_frame


def _results(rows: list[dict]) -> automl.Results:
    spec = automl.load({"name": "nb", "objective": {"metric": "acc", "type": "maximize"},
                        "parameters": [{"name": "C", "type": "double", "min": 0, "max": 9}],
                        "trial": {"command": ["echo", "${trialParameters.C}"]}})
    return automl.Results(spec, trials_frame(rows, spec), pd.DataFrame())


def test_results_render_as_a_summary_and_a_table_of_the_best_trials() -> None:
    rows = [{"experiment": "nb", "trial": f"nb-000{i}", "status": s, "objective": v,
             "params": {"C": str(i)}, "metrics": {"acc": v}}
            for i, (s, v) in enumerate([("Succeeded", 0.5), ("Failed", None),
                                        ("Succeeded", 0.75)])]
    html = _results(rows)._repr_html_()
    assert "<strong>nb</strong>: maximize acc with random; 3 trials (2 Succeeded, 1 Failed)" in html
    body = html.split("<tbody>")[1]
    rows = [re.findall(r"<td>(.*?)</td>", row) for row in body.split("</tr>")[:-1]]
    assert [r[0] for r in rows] == ["nb-0002", "nb-0000"]  # best first, the failed left out
    assert [r[2] for r in rows] == ["0.75", "0.5"]
    assert "start_time" not in html


def test_results_without_an_objective_say_so() -> None:
    html = _results([{"experiment": "nb", "trial": "nb-0000", "status": "Running",
                      "objective": None, "params": {}, "metrics": {}}])._repr_html_()
    assert "No trial has an objective yet." in html and "1 Running" in html
