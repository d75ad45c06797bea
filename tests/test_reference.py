"""docs/reference.md is what docs/generate_reference.py produces from the code now."""

from __future__ import annotations

import importlib.util
from pathlib import Path

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
