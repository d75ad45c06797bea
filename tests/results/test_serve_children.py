"""A long-lived child automl starts ends with automl, however automl ends.

``automl tensorboard --serve`` runs TensorBoard as its child: a real experiment, a real
``automl`` process on a free loopback port, stopped by pid with SIGTERM, SIGINT or kill -9.
``automl pipeline run --local`` runs the tuning step under kfp.local's shells: its trials end
too when automl is killed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.faults.helpers import MARK, alive, automl_run, marked, wait_until, write_experiment


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a finished one-trial local run of experiment ``t``."""
    folder = tmp_path_factory.mktemp("served")
    write_experiment(folder, max_trials=1, parallel_trials=1)
    done = automl_run(folder)
    assert done.returncode == 0, done.stderr
    return folder


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serves(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/plugins_listing",
                                    timeout=2) as response:
            return b'"scalars"' in response.read()
    except OSError:
        return False


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL],
                         ids=lambda s: s.name)
def test_tensorboard_ends_with_automl_tensorboard_serve(finished, stop) -> None:
    port = _free_port()
    parent = subprocess.Popen(
        [sys.executable, "-m", "automl", "tensorboard", "t", "--logdir", "tb", "--serve",
         "--port", str(port)], cwd=finished, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    children: list[int] = []
    try:
        assert wait_until(lambda: _serves(port), timeout=90, step=0.3)
        children = _children(parent.pid)
        assert len(children) == 1
        os.kill(parent.pid, stop)  # the parent alone, not its process group
        parent.wait(timeout=30)
        assert wait_until(lambda: not alive(children[0]), timeout=10)
        assert not _answers(port)
    finally:
        for pid in [parent.pid, *children]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        parent.wait(timeout=30)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_the_tuning_step_and_its_trials_end_with_automl_pipeline_run(tmp_path, stop) -> None:
    token = f"pipeline-{stop.name}-{os.getpid()}"
    write_experiment(tmp_path, max_trials=2, parallel_trials=1, trial_args=("--sleep=120",))
    parent = subprocess.Popen(
        [sys.executable, "-m", "automl", "pipeline", "run", "exp.yaml", "--local", "--root",
         str(tmp_path / "kfp")], cwd=tmp_path, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True, env={**os.environ, MARK: token})
    try:
        # A trial sleeps: the step (under kfp.local's shells) runs the engine, which runs it.
        assert wait_until(lambda: any(b"trial.py" in _cmdline(pid) for pid in marked(token)),
                          timeout=120, step=0.3)
        os.kill(parent.pid, stop)  # automl alone, not its process group
        parent.wait(timeout=30)
        assert wait_until(lambda: not marked(token), timeout=30), [
            _cmdline(pid)[:80] for pid in marked(token)]
    finally:
        for pid in marked(token):
            os.kill(pid, signal.SIGKILL)
        if parent.poll() is None:
            parent.kill()
        parent.wait(timeout=30)


def _cmdline(pid: int) -> bytes:
    """A process's command line; empty once it is gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
