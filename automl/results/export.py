"""Trials tables written the ways people read them: terminal, CSV, JSON, Parquet, Markdown."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from automl._markdown import table as markdown_table
from automl._output import write_file
from automl._table import print_table
from automl._terminal import visible
from automl.errors import AutomlError
from automl.results.schema import RAW_NAS_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FORMATS", "write_table"]

FORMATS = ("table", "csv", "json", "parquet", "markdown")


def write_table(frame: pd.DataFrame, fmt: str, output: Path | None, *,
                wide: bool = False) -> None:
    """Write ``frame`` as ``fmt`` to ``output`` (stdout when None).

    A file is written whole or not at all (``automl._output``). A ``table`` fits the terminal
    as ``kubectl get`` does (automl._table); ``wide`` shows every column whole; a pipe or a
    file gets plain space-aligned columns.

    On stdout, control characters in texts are shown escaped (``\\x1b``) so that a trial's
    output cannot restyle the terminal; a file gets them as they are.

    Raises:
        AutomlError: For an unknown format, or Parquet to a terminal.
        OutputError: When ``output`` cannot be written; what was there is left untouched.
    """
    if fmt not in FORMATS:
        raise AutomlError(f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    if fmt == "parquet":
        if output is None:
            raise AutomlError("parquet is binary: give -o FILE")
        write_file(output, lambda path: frame.to_parquet(path, index=False))
        return
    if output is None:
        frame = frame.copy()
        texts = frame.select_dtypes(include=["object", "string"]).columns
        frame[texts] = frame[texts].map(lambda v: visible(v) if isinstance(v, str) else v)
        frame.columns = [visible(c) for c in frame.columns]
    if fmt == "table":
        text = _rich(frame, wide=wide, terminal=output is None and sys.stdout.isatty())
    elif fmt == "csv":
        text = frame.to_csv(index=False)
    elif fmt == "json":
        text = _json(frame)
    else:
        text = markdown_table(frame, floatfmt=".6g") + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        write_file(output, text)


def _json(frame: pd.DataFrame) -> str:
    """Records with every number as Python writes it: pandas' JSON keeps 10 digits at most
    (15 when asked), which loses what a float64 holds."""
    import json
    import math

    import pandas as pd

    def plain_value(value: object) -> object:
        if value is None or value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, pd.Timestamp):
            return value.isoformat()
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value.item() if hasattr(value, "item") else value

    records = [{str(k): plain_value(v) for k, v in row.items()}
               for row in frame.astype(object).to_dict(orient="records")]
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"


_FIRST = ("objective", "architecture")
"""After the keys, the columns the trials table finds room for first; times come last."""

_LINEAGE = ("generation", "parent")
"""pbt's columns, found room for after the parameters, before the metrics."""

_REASON = ("reason",)
"""Why a trial failed: found room for before the metrics other than the objective (its own
column) and the times."""

_LAST = ("duration_s", "start_time", "completion_time")


def _rich(frame: pd.DataFrame, *, wide: bool, terminal: bool) -> str:
    from rich.console import Console

    # One experiment, one backend: those columns say nothing; several (compare): keep them.
    hidden = {c for c in ("experiment", "backend")
              if c in frame.columns and frame[c].nunique() <= 1}
    if "architecture" in frame.columns:
        # Katib's NAS assignments are long JSON texts; the architecture column says them in
        # words (the other formats keep them).
        hidden |= {c for c in frame.columns if c in RAW_NAS_COLUMNS}
    shown = [c for c in frame.columns if c not in hidden]
    headers = [str(c).removeprefix("params.").removeprefix("metrics.") for c in shown]
    params, metrics = ([h for h, c in zip(headers, shown, strict=True)
                        if c.startswith(prefix) and h not in _FIRST]
                       for prefix in ("params.", "metrics."))
    buffer = io.StringIO()
    print_table(headers, [[_cell(v) for v in row] for row in frame[shown].itertuples(index=False)],
                wide=wide, priority=(*_FIRST, *params, *_LINEAGE, *_REASON, *metrics, *_LAST),
                console=Console(file=buffer, force_terminal=False), terminal=terminal)
    return buffer.getvalue()


def _cell(value: object) -> str:
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    return str(value)
