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


OTHER = "${trialParameters.other}"


@pytest.mark.parametrize("value", [
    "\x000\x00", "\ue0000\ue000", "\ue0001\ue000", "\ue000", OTHER, "$", "$$", "${HOME}",
    "a\\\"b'c", "${trialParameters.opt", "", "x y"])
@pytest.mark.parametrize("template", [
    "--opt=${trialParameters.opt}:${trialParameters.other}",
    "--opt=\"${trialParameters.opt}\":${trialParameters.other}",
    "\ue000${trialParameters.opt}\ue0000\ue000${trialParameters.other}"])
@pytest.mark.parametrize("unquote", [True, False])
def test_a_value_is_put_in_literally_and_never_substituted_again(value, template,
                                                                unquote) -> None:
    from automl.spec.shell import render_word

    rendered = render_word(template, {"opt": value, "other": "O"}, unquote=unquote)
    written = template.replace('"', "") if unquote and '"' in template else template
    before, after = written.split("${trialParameters.opt}")
    assert rendered == before + value + after.replace(OTHER, "O")


def _wide_katib(tmp_path, count, quoted):
    """A Katib Experiment of ``count`` parameters, each a word of the command; the quoted
    ones hold values with a space in ``"..."``, which sh reads as one word."""
    parameters, trial_parameters = [], []
    command = ["python3", "/opt/train.py"]
    for i in range(count):
        values = ["a a", "b b", "c c"] if quoted else ["a", "b", "c"]
        parameters.append({"name": f"p{i}", "parameterType": "categorical",
                           "feasibleSpace": {"list": values}} if i % 2 else
                          {"name": f"p{i}", "parameterType": "double",
                           "feasibleSpace": {"min": "0.1", "max": "0.9"}})
        trial_parameters.append({"name": f"t{i}", "reference": f"p{i}"})
        command.append(f'--p{i}="${{trialParameters.t{i}}}"' if quoted
                       else f"--p{i}=${{trialParameters.t{i}}}")
    path = tmp_path / "wide.yaml"
    path.write_text(yaml.safe_dump({
        "apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment",
        "metadata": {"name": "wide", "namespace": "kubeflow"},
        "spec": {"objective": {"type": "minimize", "objectiveMetricName": "loss"},
                 "algorithm": {"algorithmName": "random"}, "parameters": parameters,
                 "trialTemplate": {"primaryContainerName": "training",
                                   "trialParameters": trial_parameters,
                                   "trialSpec": {"apiVersion": "batch/v1", "kind": "Job",
                                                 "spec": {"template": {"spec": {
                                                     "containers": [{
                                                         "name": "training", "image": "x:1",
                                                         "command": command}],
                                                     "restartPolicy": "Never"}}}}}}}))
    return path


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])
def test_a_1000_parameter_katib_experiment_validates_in_under_2s_of_cpu(tmp_path,
                                                                       quoted) -> None:
    import time

    path = _wide_katib(tmp_path, 1000, quoted)
    started = time.process_time()
    result = CliRunner().invoke(app, ["validate", "--katib", str(path)])
    spent = time.process_time() - started
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
    assert spent < 2.0, f"{spent:.1f}s of CPU"  # was 22s: the command rendered per value


def test_the_warning_of_a_wide_experiment_names_the_value_sh_reads_otherwise(tmp_path) -> None:
    path = _wide_katib(tmp_path, 200, quoted=False)
    text = path.read_text().replace("- c\n", "- c\n      - $(reboot)\n", 1)  # p1's last value
    path.write_text(text)
    result = CliRunner().invoke(app, ["validate", "--katib", str(path)])
    assert result.exit_code == 0, result.output
    assert "reads '$' in it as shell syntax (with t1='$(reboot)')" in result.stderr
