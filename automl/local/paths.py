"""Where a local experiment keeps its files; importing it costs nothing (no Optuna)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEFAULT_ROOT", "JOURNAL", "RUN_LOCK"]

DEFAULT_ROOT = Path(".automl")
"""The folder of the journal and of every experiment's trials (``runs/<experiment>``)."""

JOURNAL = "studies.journal"
"""The journal's file name in :data:`DEFAULT_ROOT` (or the ``root`` given)."""

RUN_LOCK = ".lock"
"""The lock file in ``runs/<experiment>``: the engine holds it while it runs the experiment
(``automl logs -f`` and ``status --watch`` read that the run goes on from it)."""
