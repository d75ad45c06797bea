"""--katib-shell runs a trial as Katib would; by default a trial is its argument list.

Katib's wrapping is pkg/webhook/v1beta1/pod/utils.go ``wrapWorkerContainer``: command and
args joined with spaces under ``sh -c``, a StdOut trial's output redirected after the last
command (``1>/var/log/katib/metrics.log 2>&1``) and only that file collected.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

import automl
from tests.conftest import REPO
from tests.local.helpers import TRIAL, records


def _experiment(command, **changes):
    return {"name": "t", "objective": {"metric": "loss", "type": "minimize"},
            "parameters": [{"name": "opt", "type": "categorical", "list": ["adam w"]}],
            "budget": {"max_trials": 1, "parallel_trials": 1},
            "trial": {"command": command}, **changes}


def _argv(tmp_path, log):
    (record,) = records(tmp_path)
    assert record["status"] == "Succeeded", record["reason"]
    text = (tmp_path / ".automl/runs/t" / record["name"] / log).read_text()
    return json.loads(text.splitlines()[0])["argv"]


def test_katib_shell_splits_a_categorical_value_with_a_space_as_katib_would(tmp_path) -> None:
    experiment = tmp_path / "experiment.yaml"
    experiment.write_text(yaml.safe_dump(_experiment(
        [sys.executable, TRIAL, "--echo", "--opt=${trialParameters.opt}"])))
    result = subprocess.run([sys.executable, "-m", "automl", "run", str(experiment), "-q",
                             "--katib-shell"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    # sh -c "python trial.py --echo --opt=adam w 1>metrics.log 2>&1": two arguments.
    assert _argv(tmp_path, "metrics.log") == ["--echo", "--opt=adam", "w"]


def test_by_default_a_value_with_a_space_stays_one_argument(tmp_path) -> None:
    automl.run(_experiment([sys.executable, TRIAL, "--echo", "--opt=${trialParameters.opt}"]),
               root=tmp_path / ".automl", progress=False)
    assert _argv(tmp_path, "stdout.log") == ["--echo", "--opt=adam w"]


def test_katib_shell_collects_only_the_last_commands_output(tmp_path) -> None:
    spec = _experiment(["sh", "-c", "echo loss=0.1; echo loss=0.9 opt=${trialParameters.opt}"])
    automl.run(spec, root=tmp_path / ".automl", progress=False, katib_shell=True)
    (record,) = records(tmp_path)
    # "echo loss=0.1; echo loss=0.9 ... 1>metrics.log 2>&1": loss=0.1 is not collected.
    assert record["objective"] == 0.9
    automl.run({**spec, "name": "u"}, root=tmp_path / ".automl", progress=False)
    (default,) = records(tmp_path, "u")
    assert default["objective"] == 0.1
