"""The command Katib runs around a trial's primary container, and the warning that shows it.

Katib's commands are pinned as data built by pkg/webhook/v1beta1/pod/utils.go
``wrapWorkerContainer`` (with ``getEarlyStoppingCommand`` and ``getMarkCompletedCommand``; the
same shapes as its inject_webhook_test.go cases).
"""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from automl.cli import app
from automl.spec.shell import katib_command

DONE = "&& echo completed > /var/log/katib/$$$$.pid"
TO_LOG = "1>/var/log/katib/metrics.log 2>&1"


@pytest.mark.parametrize(("words", "kind", "path", "early", "expected"), [
    (["python3", "-c", "import sys; print(sys.argv)", "--opt=adam w"], "StdOut", None, False,
     ["sh", "-c", f"python3 -c import sys; print(sys.argv) --opt=adam w {TO_LOG} {DONE}"]),
    (["sh", "-c", "python a.py; python b.py"], "StdOut", None, False,
     ["sh", "-c", f"python a.py; python b.py {TO_LOG} {DONE}"]),
    (["bash", "-c", "python train.py", "--lr=0.1"], "StdOut", None, False,
     ["bash", "-c", f"python train.py --lr=0.1 {TO_LOG} {DONE}"]),
    (["python", "train.py", "--name=$(whoami)", "`id`"], "File", "/katib/mnist.log", False,
     ["sh", "-c", "python train.py --name=$(whoami) `id` && echo completed > /katib/$$$$.pid"]),
    (["python", "train.py"], "TensorFlowEvent", "/var/log/katib/tfevent/", False,
     ["sh", "-c", "python train.py && echo completed > /var/log/katib/tfevent/$$$$.pid"]),
    (["python", "main.py"], "StdOut", None, True,
     ["sh", "-c", f"python main.py {TO_LOG} || if test -f /var/log/katib/$$$$.pid && "
                  "[ $(head -n 1 /var/log/katib/$$.pid) = early-stopped ]; then echo Training "
                  "Container was Early Stopped; else echo Training Container was Failed; "
                  f"exit 1; fi {DONE}"]),
])
def test_katib_command_is_the_one_katibs_webhook_builds(words, kind, path, early,
                                                        expected) -> None:
    assert katib_command(words, kind, path, early) == expected


def _experiment(tmp_path, command, values=("sgd", "adam")):
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump({
        "name": "shell", "objective": {"metric": "loss", "type": "minimize"},
        "parameters": [{"name": "opt", "type": "categorical", "list": list(values)}],
        "trial": {"image": "python:3.11-slim", "command": command}}, sort_keys=False))
    return path


@pytest.mark.parametrize(("command", "values", "expected"), [
    (["python3", "train.py", "--opt=${trialParameters.opt}"], ("sgd", "adam w"),
     "splits it into other words than the argument list the local engine runs (with "
     "opt='adam w'): sh -c \"python3 train.py --opt=adam w " + TO_LOG + " " + DONE + '"'),
    (["python3", "-c", "import sys; print(sys.argv)", "--opt=${trialParameters.opt}"],
     ("sgd",),
     "reads ';' as a command separator, and only the last command's output reaches Katib's "
     "collector: sh -c \"python3 -c import sys; print(sys.argv) --opt=sgd " + TO_LOG + " "
     + DONE + '"'),
    (["python3", "train.py", "--opt=${trialParameters.opt}"], ("sgd", "$(reboot)"),
     "reads '$' in it as shell syntax (with opt='$(reboot)'): sh -c \"python3 train.py "
     "--opt=$(reboot) " + TO_LOG + " " + DONE + '"'),
])
def test_validate_katib_and_compile_warn_with_the_command_katib_runs(
        tmp_path, command, values, expected) -> None:
    path = _experiment(tmp_path, command, values)
    line = path.read_text().splitlines().index("  command:") + 1
    for args in (["validate", "--katib"], ["compile", "-o", str(tmp_path / "k.yaml")]):
        result = CliRunner().invoke(app, [*args, str(path)])
        assert result.exit_code == 0, result.output
        assert (f"warning: {path}:{line}: trial.command: Katib runs this command under sh -c, "
                f"which {expected} [Katib differs: shell-wrapped-command, ") in result.stderr
    assert "warning" not in CliRunner().invoke(app, ["validate", str(path)]).stderr


@pytest.mark.parametrize("command", [
    ["python3", "train.py", "--opt=${trialParameters.opt}"],
    ["python3", "train.py", "--opt=\"${trialParameters.opt}\""],   # quoted as in Katib's NAS
    ["sh", "-c", "python3 train.py --opt=${trialParameters.opt}"],
])
def test_a_command_sh_runs_unchanged_gets_no_warning(tmp_path, command) -> None:
    path = _experiment(tmp_path, command, ("sgd", "adam w") if '"' in str(command) else
                       ("sgd", "adam"))
    result = CliRunner().invoke(app, ["validate", "--katib", str(path)])
    assert result.exit_code == 0 and "warning" not in result.stderr, result.stderr
