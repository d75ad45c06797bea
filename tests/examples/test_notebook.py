"""examples/notebook/compare.ipynb runs top to bottom in a Jupyter kernel (nbclient)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "notebook" / "compare.ipynb"


def test_the_example_notebook_runs_and_shows_tables_figures_and_progress(tmp_path) -> None:
    copy = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, copy)  # its runs go to tmp_path/.automl, not the checkout
    notebook = nbformat.read(copy, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    streams = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "[8/8]" in streams and "nb-svm-tpe-0007" in streams  # progress, trial by trial
    html = [o.data["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    summary = next(h for h in html if "<strong>nb-svm-tpe</strong>" in h)
    assert "maximize accuracy" in summary and "8 trials" in summary and "<table" in summary
    figures = [o.data["application/vnd.plotly.v1+json"] for o in outputs
               if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) == 2
    assert figures[0]["layout"]["yaxis"]["title"]["text"] == "accuracy"
    assert (tmp_path / ".automl" / "studies.journal").exists()
