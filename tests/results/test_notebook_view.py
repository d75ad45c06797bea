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


def test_repr_and_str_are_one_short_line_not_the_spec() -> None:
    rows = [{"experiment": "nb", "trial": f"nb-000{i}", "status": s, "objective": v,
             "params": {"C": str(i)}, "metrics": {"acc": v}}
            for i, (s, v) in enumerate([("Succeeded", 0.5), ("Failed", None)])]
    results = _results(rows)
    line = ("<Results nb: maximize acc with random; 2 trials (1 Succeeded, 1 Failed); "
            "best nb-0000 acc=0.5>")
    assert repr(results) == str(results) == line
    assert repr(_results(rows[1:])).endswith("; no trial with an objective yet>")


def test_a_darts_genotype_is_cut_short_in_repr() -> None:
    from tests.local.helpers import darts

    spec = darts("d", ["python", "t.py"], num_epochs=1)
    genotype = "Genotype(normal=[" + "('sep_conv_3x3', 0), " * 20 + "])"
    trials = trials_frame([{"experiment": "d", "trial": "d-0000", "status": "Succeeded",
                            "objective": None, "params": {}, "metrics": {}}], spec)
    trials["architecture"] = [genotype]  # DARTS's objective, in words
    shown = repr(automl.Results(spec, trials, pd.DataFrame()))
    assert len(shown) < 200 and shown.endswith("...>") and "best d-0000" in shown
