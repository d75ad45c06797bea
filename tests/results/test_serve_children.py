"""A long-lived child automl starts ends with automl, however automl ends.

``automl tensorboard --serve`` runs TensorBoard as its child: a real experiment, a real
``automl`` process on a free loopback port, stopped by pid with SIGTERM, SIGINT or kill -9.
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

from tests.faults.helpers import alive, automl_run, wait_until, write_experiment


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
