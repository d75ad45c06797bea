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
from pathlib import Path

import pytest
import yaml

import automl
from automl.local.job import CHECKPOINT_ENV, build_job, replace_paths
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


# ---- the File collector's path and pbt's folder, replaced only where named whole ----------

@pytest.mark.parametrize(("text", "expected"), [
    ("/out/m", "/L/m"),
    ("/out/m/", "/L/m/"),
    ("/out/m/epoch-1.log", "/L/m/epoch-1.log"),
    ("--metrics=/out/m", "--metrics=/L/m"),
    ("METRICS=/out/m", "METRICS=/L/m"),
    ("python train.py 1>/out/m 2>&1", "python train.py 1>/L/m 2>&1"),
    ("--log '/out/m'", "--log '/L/m'"),
    ("/a:/out/m:/b", "/a:/L/m:/b"),
    ("--model=/out/model.pt", "--model=/out/model.pt"),
    ("/out/multi-gpu-data", "/out/multi-gpu-data"),
    ("/data/out/m", "/data/out/m"),
    ("./out/m", "./out/m"),
    ("/out/m.bak", "/out/m.bak"),
    ("/out/m-2", "/out/m-2"),
    ("/out/mm", "/out/mm"),
])
def test_a_container_path_is_replaced_only_where_named_whole(text, expected) -> None:
    assert replace_paths(text, {"/out/m": Path("/L/m")}) == expected
    assert replace_paths(text, {"/out/m/": Path("/L/m")}) == expected  # a trailing / or not


def test_two_paths_are_replaced_in_one_pass_the_longest_first() -> None:
    paths = {"/ckpt": Path("/out/m"), "/out/m": Path("/L/m"), "/ckpt/sub": Path("/S")}
    assert replace_paths("/ckpt /out/m /ckpt/sub/x /ckpt/subway", paths) == (
        "/out/m /L/m /S/x /out/m/subway")


@pytest.mark.parametrize("kind", ["collector", "pbt"])
def test_the_trial_gets_its_own_path_only_where_the_template_names_it(
        tmp_path, monkeypatch, kind) -> None:
    monkeypatch.setenv("DATA_DIR", "/out/multi-gpu-data")
    monkeypatch.setenv("INHERITED", "/out/m")  # the user's, not the template's: left alone
    experiment = {
        **_experiment([sys.executable, TRIAL, "--metrics=/out/m", "--model=/out/model.pt",
                       "/out/m/x.log", "--opt=${trialParameters.opt}"]),
        "objective": {"metric": "loss", "type": "minimize"}}
    experiment["trial"]["env"] = {"WRITTEN": "/out/m", "OTHER": "/out/multi"}
    mounts = None
    if kind == "collector":
        experiment["trial"]["metrics_collector"] = {"kind": "File", "path": "/out/m"}
    else:
        mounts = {"/out/m/": tmp_path / "checkpoint"}
    job = build_job(automl.load(experiment), "t-0000", {"opt": "adam w"}, tmp_path / "run",
                    mounts=mounts)
    local = str(tmp_path / "run" / "metrics" / "m") if kind == "collector" else str(
        tmp_path / "checkpoint")
    assert job.argv[2:] == [f"--metrics={local}", "--model=/out/model.pt", f"{local}/x.log",
                            "--opt=adam w"]
    assert job.env["WRITTEN"] == local and job.env["OTHER"] == "/out/multi"
    assert job.env["INHERITED"] == "/out/m" and job.env["DATA_DIR"] == "/out/multi-gpu-data"
    assert job.env["AUTOML_METRICS_PATH" if kind == "collector" else CHECKPOINT_ENV] == local
