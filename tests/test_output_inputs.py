"""``-o`` never replaces what the command reads: its input file, the storage, or a file the
experiment's trials run (their program, a data file their command names)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import yaml

from tests.faults.helpers import TRIAL, automl_each, finished_experiment

_PROGRAM = "a file the trials of 't' run"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".lock" not in p.name}


def _all_refused(folder: Path, cases: dict[tuple[str, ...], str]) -> None:
    """Each command line fails with exit status 2 and its one line, and no file changes."""
    before = _snapshot(folder)
    commands = [list(c) for c in cases]
    for argv, why, (code, out, err) in zip(commands, cases.values(),
                                           automl_each(folder, commands), strict=True):
        assert (code, out) == (2, ""), (argv, err)
        assert err == f"error: cannot write {argv[-1]}: {why}\n", argv
    assert _snapshot(folder) == before


def _with_image(folder: Path) -> None:
    """Give exp.yaml the trial image compile needs (the local run ignores it)."""
    spec = yaml.safe_load((folder / "exp.yaml").read_text())
    spec["trial"]["image"] = "python:3.11-slim"
    (folder / "exp.yaml").write_text(yaml.safe_dump(spec))


def test_o_naming_an_input_or_a_trial_file_is_refused_in_one_line_and_writes_nothing(
        tmp_path) -> None:
    shutil.copy(TRIAL, tmp_path / "train.py")
    (tmp_path / "data.yaml").write_text("a,b\n1,2\n")
    finished_experiment(tmp_path, max_trials=1, parallel_trials=1, command=[
        sys.executable, "train.py", "--x=${trialParameters.x}", "--y=${trialParameters.y}",
        "--path=data.yaml"])
    _with_image(tmp_path)
    [(code, _, err)] = automl_each(tmp_path, [["compile", "exp.yaml", "-o", "katib.yaml"]])
    assert code == 0, err
    os.symlink("exp.yaml", tmp_path / "link.yaml")
    os.link(tmp_path / "exp.yaml", tmp_path / "hard.yaml")
    journal = str(Path(".automl/studies.journal"))
    cases = {
        ("compile", "exp.yaml", "-o", "exp.yaml"): "the experiment file",
        ("compile", "exp.yaml", "-o", "link.yaml"): "the experiment file",
        ("compile", "exp.yaml", "-o", "hard.yaml"): "the experiment file",
        ("compile", "exp.yaml", "-o", "sub/../exp.yaml"): "the experiment file",
        ("compile", "exp.yaml", "-o", "train.py"): _PROGRAM,
        ("import", "katib.yaml", "-o", "katib.yaml"): "the Katib Experiment file",
        ("import", "katib.yaml", "-o", "data.yaml"): _PROGRAM,
        ("trials", "t", "--format", "csv", "-o", journal): "the storage",
        ("trials", "t", "--format", "csv", "-o", "train.py"): _PROGRAM,
        ("trials", "t", "--format", "csv", "-o", "data.yaml"): _PROGRAM,
        ("compare", "t", "-o", "train.py"): _PROGRAM,
        ("compare", "t", "-o", journal): "the storage",
        ("report", "t", "-o", "train.py"): _PROGRAM,
        ("report", "t", "-o", journal): "the storage",
        ("pipeline", "compile", "exp.yaml", "-o", "exp.yaml"): "the pipeline source",
        ("pipeline", "compile", "exp.yaml", "-o", "data.yaml"): _PROGRAM,
    }
    (tmp_path / "sub").mkdir()
    _all_refused(tmp_path, {argv: f"it is {what}, which this command reads; give another "
                                  "output file" for argv, what in cases.items()})


def test_o_naming_an_existing_file_of_another_kind_is_refused_and_left_as_it_was(
        tmp_path) -> None:
    """``trials --format csv -o exp.yaml`` does not read exp.yaml, but would replace it."""
    finished_experiment(tmp_path, max_trials=1, parallel_trials=1)
    _with_image(tmp_path)
    (tmp_path / "notes.md").write_text("mine")
    (tmp_path / "old.csv").write_text("a,b\n")
    cases = {
        ("trials", "t", "--format", "csv", "-o", "exp.yaml"): "CSV (.csv, .tsv, .txt)",
        ("trials", "t", "--format", "json", "-o", "notes.md"): "JSON (.json, .jsonl, .txt)",
        ("trials", "t", "-o", "old.csv"): "table (.txt, .log)",
        ("compare", "t", "--format", "markdown", "-o", "exp.yaml"):
            "Markdown (.md, .markdown, .txt)",
        ("report", "t", "-o", "exp.yaml"): "HTML (.html, .htm)",
        ("compile", "exp.yaml", "-o", "old.csv"): "YAML (.yaml, .yml)",
    }
    _all_refused(tmp_path, {argv: f"it exists and its name says it holds no {kind}; give a "
                                  "new file or one named so" for argv, kind in cases.items()})
    # a file of the same kind is replaced as before
    [(code, _, err)] = automl_each(tmp_path, [["trials", "t", "--format", "csv", "-o",
                                               "old.csv"]])
    assert code == 0, err
    assert (tmp_path / "old.csv").read_text().startswith("experiment,trial,")
