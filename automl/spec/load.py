"""Reading an experiment file in automl's own format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from automl.spec.build import build
from automl.spec.experiment import ExperimentSpec
from automl.spec.search_space import merge_search_space
from automl.spec.source import SourceMap, source_locator

__all__ = ["spec_from_data"]


def spec_from_data(data: Any, source: SourceMap | None = None, base_dir: Path | None = None,
                   *, cluster: bool = False) -> ExperimentSpec:
    """Build and check an ExperimentSpec from loaded YAML data in automl's format.

    Args:
        data: The document, as loaded.
        source: Where each field came from (for located errors).
        base_dir: The folder relative search-space paths start from (the file's folder).
        cluster: Also require what only a Katib cluster needs (see :func:`build`).

    Raises:
        SpecError: When the document or Katib's rules say no.
    """
    source = source or SourceMap()
    if isinstance(data, dict) and "search_space" in data:
        data, source = merge_search_space(data, source, base_dir)
    return build(data, source_locator(source), cluster=cluster)
