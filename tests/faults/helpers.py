"""`automl run` in a subprocess over tests/data/trial.py, and what it leaves behind."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml

from automl.local.store import ATTR, open_storage
from tests.local.helpers import TRIAL


def write_experiment(folder: Path, *, name: str = "t", max_trials: int = 4,
                     parallel_trials: int = 2, trial_args: tuple[str, ...] = (),
                     command: list[str] | None = None, resume_policy: str = "Never",
                     max_failed_trials: int | None = None) -> Path:
    """An experiment file ``exp.yaml`` in ``folder``: tests/data/trial.py over x and y.

    ``resume_policy`` LongRunning lets a later run raise the budget of a completed one.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "exp.yaml"
    path.write_text(yaml.safe_dump({
        "name": name,
        "objective": {"metric": "loss", "type": "minimize"},
        "algorithm": {"name": "random", "settings": {"random_state": 5}},
        "budget": {"max_trials": max_trials, "parallel_trials": parallel_trials,
                   "max_failed_trials": max_failed_trials},
        "parameters": [{"name": "x", "type": "double", "min": 0, "max": 1},
                       {"name": "y", "type": "int", "min": 0, "max": 4}],
        "trial": {"command": command or [sys.executable, TRIAL, "--x=${trialParameters.x}",
                                         "--y=${trialParameters.y}", *trial_args]},
        "resume_policy": resume_policy,
    }))
    return path


# A trial that runs until the test lets it end (the file "go" appears where it runs).
_WAITS = ("import os, time\n"
          "while not os.path.exists('go'):\n"
          "    time.sleep(0.05)\n"
          "print('loss=0.5')\n")


def waiting_experiment(folder: Path, max_trials: int) -> Path:
    """An experiment whose trials, one at a time, wait for the file ``go`` in ``folder``."""
    return write_experiment(folder, max_trials=max_trials, parallel_trials=1, command=[
        sys.executable, "-c", _WAITS, "${trialParameters.x}", "${trialParameters.y}"])


def finished_experiment(folder: Path, **options: Any) -> Path:
    """``folder`` after ``automl run`` ran :func:`write_experiment` (``options``) to its end."""
    write_experiment(folder, **options)
    ran = automl_run(folder)
    assert ran.returncode == 0, ran.stderr
    return folder


def run_argv(*options: str) -> list[str]:
    """The command line of ``automl run exp.yaml -q`` with more options."""
    return [sys.executable, "-m", "automl", "run", "exp.yaml", "-q", *options]


def start(folder: Path, *options: str, **popen: Any) -> subprocess.Popen:
    """Start ``automl run`` in ``folder`` (text output captured)."""
    return subprocess.Popen(run_argv(*options), cwd=folder, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)


def stopped_when(folder: Path, ready: Callable[[], bool], stop: int, *options: str) -> int:
    """Start ``automl run`` in ``folder``, send it signal ``stop`` once ``ready()``, and wait.

    Returns:
        Its exit status (negative: the signal that ended it).
    """
    engine = start(folder, *options)
    try:
        assert wait_until(lambda: ready() or engine.poll() is not None, timeout=60)
        if engine.poll() is not None:
            raise AssertionError(f"the run ended before it was stopped: "
                                 f"{engine.communicate()[1]}")
        engine.send_signal(stop)
        engine.communicate(timeout=30)
    finally:
        if engine.poll() is None:
            engine.kill()
            engine.wait()
    return engine.returncode


def automl_run(folder: Path, *options: str, timeout: float = 120,
               **popen: Any) -> subprocess.CompletedProcess:
    """Run ``automl run`` in ``folder`` to its end."""
    return subprocess.run(run_argv(*options), cwd=folder, capture_output=True, text=True,
                          timeout=timeout, **popen)


def run_to_end(folder: Path) -> str:
    """The first line ``automl run`` prints in ``folder``, run to its end with exit status 0."""
    result = automl_run(folder)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[0]


# Many commands in one process (each through the CLI's entry point), as a process per
# command would cost seconds each.
_EACH = """
import contextlib, io, json, sys
from automl.cli import main
done = []
for argv in json.loads(sys.argv[1]):
    sys.argv, out, err = ["automl", *argv], io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    done.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(done))
"""


def automl_each(folder: Path, commands: list[list[str]]) -> list[tuple[int, str, str]]:
    """Exit status, stdout and stderr of each ``automl`` command line, run in ``folder``."""
    result = subprocess.run([sys.executable, "-c", _EACH, json.dumps(commands)], cwd=folder,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return [tuple(r) for r in json.loads(result.stdout.splitlines()[-1])]


def trials(folder: Path, name: str = "t",
           storage: str | None = None) -> list[optuna.trial.FrozenTrial]:
    """The study's trials, in number order ([] before the study exists).

    Args:
        folder: Where ``automl run`` ran (its ``.automl`` holds the default journal).
        name: The experiment.
        storage: The ``--storage`` it ran with, if any.
    """
    store = open_storage(storage, folder / ".automl")
    try:
        return optuna.load_study(study_name=name, storage=store).get_trials()
    except KeyError:
        return []


def finished(found: list[optuna.trial.FrozenTrial]) -> dict[int, dict[str, Any]]:
    """automl's record of each finished trial, by trial number."""
    return {t.number: t.user_attrs[ATTR] for t in found if t.state.is_finished()}


def alive(pid: int) -> bool:
    """Whether ``pid`` is a process that has not exited (a zombie has)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def trial_processes(folder: Path, script: str | Path = TRIAL) -> list[int]:
    """Live processes of ``script`` (tests/data/trial.py) started from ``folder``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if str(script).encode() in cmdline and cwd == str(folder) and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


@contextlib.contextmanager
def mounted(folder: Path, *source: str) -> Iterator[Path]:
    """``folder`` with ``mount *source folder`` on it, unmounted after; the test is skipped
    where mounting is not allowed (not root, no mount namespace)."""
    done = subprocess.run(["mount", *source, str(folder)], capture_output=True, text=True,
                          timeout=30)
    if done.returncode != 0:
        pytest.skip(f"cannot mount {' '.join(source)} here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        # lazy: the storages this test process opened there may still hold files open
        subprocess.run(["umount", "--lazy", str(folder)], capture_output=True, timeout=30)


def wait_until(condition: Any, timeout: float, step: float = 0.05) -> bool:
    """Poll ``condition()`` until it is true or ``timeout`` seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


MARK = "AUTOML_TEST_MARK"
"""An environment variable that tags every process a test starts, and what they start."""


def marked(token: str) -> list[int]:
    """Live processes whose environment has ``AUTOML_TEST_MARK=<token>``.

    The environment a process was started with is passed on to whatever it starts, so this
    finds every process of a trial's tree, whatever its parent, group or session now is.
    """
    entry = f"{MARK}={token}".encode()
    found = []
    for pid in Path("/proc").iterdir():
        if not pid.name.isdigit():
            continue
        try:
            environ = (pid / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if entry in environ and alive(int(pid.name)):
            found.append(int(pid.name))
    return found
