"""docs/reference.md is what docs/generate_reference.py produces from the code now."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

import pytest
import yaml

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _generator():
    spec = importlib.util.spec_from_file_location("generate_reference",
                                                  DOCS / "generate_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_is_current():
    expected = _generator().render()
    committed = (DOCS / "reference.md").read_text(encoding="utf-8")
    assert committed == expected, (
        "docs/reference.md is out of date with the code (a CLI option, an algorithm setting, "
        "a local sampler or a spec field changed): run `python docs/generate_reference.py` "
        "and commit the result")


def test_every_spec_field_is_documented():
    generator = _generator()
    paths = {row[0] for row in generator.field_rows()}
    assert paths == set(generator.FIELDS)


def test_the_successor_table_lists_exactly_the_kubeflow_sdks_optimize_arguments():
    optimizer = pytest.importorskip("kubeflow.optimizer", reason="the dev extra installs kubeflow")
    data = yaml.safe_load((DOCS / "optimization_job.yaml").read_text(encoding="utf-8"))
    signature = inspect.signature(optimizer.OptimizerClient.optimize)
    assert set(data["optimize_arguments"]) == set(signature.parameters) - {"self"}
    sdk_column = " ".join(row["sdk"] for row in data["rows"])
    for argument in data["optimize_arguments"]:
        assert f"`{argument}" in sdk_column, argument


def test_the_successor_table_has_a_row_for_every_top_level_spec_field():
    section = _generator().successor_section()
    for field in ("objective", "algorithm", "early_stopping", "budget", "parameters", "nas",
                  "trial", "resume_policy"):
        assert f"| `{field}" in section
    assert "KUBEFLOW_TRAINER_OPT_<NAME>" in section
    assert "Every other (tpe, " in section
