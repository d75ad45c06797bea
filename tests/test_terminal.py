"""Text from trials is data: Rich markup and escape sequences in it never crash or restyle output.

Real experiments run whose categorical values, metric texts (a DARTS-like genotype) and trial
reasons hold Rich markup and terminal escape sequences; every command that shows them is run as
a user runs it. Nothing may raise, and no raw ESC byte may reach the output: the escapes are
shown as their ``repr`` spelling.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from automl._terminal import visible

ESCAPES = "\x1b[31mred\x1b]0;title\x07\r"
SHOWN = r"\x1b[31mred\x1b]0;title\x07\r"  # what a user sees instead
TAGS = ["[red]x[/red]", "[/]", ESCAPES]  # "[/]": the trial writes a line that is not JSON
GENOTYPE = f"Genotype([/bold]{ESCAPES})"

TRIAL = f"""\
import json, sys
tag, mode, path = sys.argv[1:]
with open(path, "w") as f:
    if tag == "[/]":
        f.write("[/bold] not json \\x1b[31m\\n")
    elif mode == "text":
        f.write(json.dumps({{"loss": {GENOTYPE!r}}}) + "\\n")
    else:
        f.write(json.dumps({{"loss": str(0.1 if tag.startswith("\\x1b") else 0.5),
                            "genotype": {GENOTYPE!r}}}) + "\\n")
"""


def write_experiment(folder: Path, name: str, mode: str, tags: list[str]) -> Path:
    """An experiment over the categorical ``tag``; ``mode`` text: the objective is a text."""
    metrics = "/var/log/katib/metrics.json"
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "name": name,
        "objective": {"metric": "loss", "type": "minimize",
                      **({"additional_metrics": ["genotype"]} if mode == "number" else {})},
        "algorithm": {"name": "grid"},
        # a text objective makes its trial MetricsUnavailable: no failure limit, so the run
        # ends Succeeded (exit 0) and only the display is under test
        "budget": {"max_trials": len(tags), "parallel_trials": 1},
        "parameters": [{"name": "tag", "type": "categorical", "list": tags}],
        "trial": {"command": [sys.executable, "trial.py", "${trialParameters.tag}", mode,
                              metrics],
                  "metrics_collector": {"kind": "File", "path": metrics, "format": "JSON"}},
    }))
    return path


def automl(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "400"}  # wide enough that no cell wraps
    return subprocess.run([sys.executable, "-m", "automl", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)


def assert_shown_safely(result: subprocess.CompletedProcess, *texts: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output and "MarkupError" not in output, output
    assert "\x1b" not in output and "\x07" not in output and "\r" not in output, output
    for text in texts:
        assert text in output, f"{text!r} not in {output!r}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, dict[str, subprocess.CompletedProcess]]:
    """Two finished experiments in one folder: values and reasons, and a text objective."""
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "trial.py").write_text(TRIAL)
    write_experiment(folder, "hostile", "number", TAGS)
    write_experiment(folder, "hostile-text", "text", [ESCAPES])
    return folder, {name: automl(folder, "run", f"{name}.yaml")
                    for name in ("hostile", "hostile-text")}


def test_run_shows_values_reasons_and_metric_texts_as_written(runs) -> None:
    _, done = runs
    assert_shown_safely(done["hostile"], "best: hostile-", f"tag={SHOWN}",
                        "failed to parse the json object: '[/bold] not json")
    assert_shown_safely(done["hostile-text"], "hostile-text-0000", visible(GENOTYPE))


COMMANDS = [
    (["status", "hostile"], ["[red]x[/red]", SHOWN, "1 more trials"]),  # the best two
    (["status", "hostile", "--all"], ["[red]x[/red]", SHOWN, "[/]", "'[/bold] not json"]),
    (["status", "hostile-text", "--all"], [visible(GENOTYPE)]),
    (["list"], ["hostile", "hostile-text"]),
    (["best", "hostile"], [f"tag={SHOWN}"]),
    # the table has a fixed width: long cells end in an ellipsis
    (["trials", "hostile"], ["[red]x[/red]", r"\x1b[31mred", "[/]"]),
    (["trials", "hostile", "--format", "csv"], ["[red]x[/red]", SHOWN]),
    # Markdown escapes a backslash (it renders as one)
    (["trials", "hostile", "--format", "markdown"], ["[red]x[/red]", SHOWN.replace("\\", "\\\\")]),
    (["compare", "hostile", "hostile-text"], ["[red]x[/red]", r"\x1b[31mred"]),
]


@pytest.mark.parametrize(("args", "texts"), COMMANDS, ids=[" ".join(a) for a, _ in COMMANDS])
def test_commands_show_trial_text_as_written(runs, args, texts) -> None:
    folder, _ = runs
    assert_shown_safely(automl(folder, *args), *texts)


def test_trials_as_json_on_stdout_hold_the_escaped_text(runs) -> None:
    folder, _ = runs
    result = automl(folder, "trials", "hostile", "--format", "json")
    assert_shown_safely(result)
    rows = json.loads(result.stdout)
    assert {r["params.tag"] for r in rows} == {"[red]x[/red]", "[/]", SHOWN}


def test_a_file_keeps_the_text_exactly(runs) -> None:
    folder, _ = runs
    assert automl(folder, "trials", "hostile", "--format", "csv", "-o", "t.csv").returncode == 0
    assert ESCAPES.replace("\r", "") in (folder / "t.csv").read_text()


def test_the_progress_bar_on_a_terminal_shows_trial_text_as_written(tmp_path) -> None:
    (tmp_path / "trial.py").write_text(TRIAL)
    write_experiment(tmp_path, "hostile-tty", "text", [ESCAPES])
    # A real terminal, so that the Rich bar (not the plain lines) shows the progress
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "automl", "run", "hostile-tty.yaml"],
                            cwd=tmp_path, stdin=follower, stdout=follower, stderr=follower,
                            env={**os.environ, "COLUMNS": "400", "TERM": "xterm"})
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the run ended
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert proc.wait(timeout=300) == 0, output
    text = output.decode("utf-8", "replace")
    assert "Traceback" not in text and "MarkupError" not in text, text
    assert visible(GENOTYPE) in text  # the trial line, and the best so far
    assert "\x1b]0;title\x07" not in text and "\x1b[31mred" not in text, text
