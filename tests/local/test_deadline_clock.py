"""A trial's deadline counts the time that passed: a step of the wall clock does not fail it."""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time

import pytest

from automl.local.job import build_job
from automl.local.runner import SubprocessRunner, Watcher
from tests.local.helpers import spec

DEADLINE = 30


def _job(tmp_path, *args: str):
    experiment = spec(args=list(args))
    job = build_job(experiment, "t-0000", {"x": "0.3", "y": "2"}, tmp_path, cwd=tmp_path)
    return dataclasses.replace(job, deadline=DEADLINE)


@pytest.fixture(params=[3600, -3600], ids=["an-hour-ahead", "an-hour-back"])
def stepped_wall_clock(request, monkeypatch) -> None:
    """time.time() steps by an hour after its first read, as NTP or a manual change does."""
    real, reads = time.time, itertools.count()
    monkeypatch.setattr(time, "time", lambda: real() + (request.param if next(reads) else 0))


def test_the_deadline_is_measured_on_the_monotonic_clock(tmp_path, stepped_wall_clock) -> None:
    watcher = Watcher(_job(tmp_path), None)
    cancel = threading.Event()
    time.time()  # the step happens
    assert watcher.stop_reason(cancel, time.monotonic()) is None
    assert watcher.stop_reason(cancel, time.monotonic() - DEADLINE - 1) == "deadline"


def test_a_trial_running_while_the_wall_clock_steps_succeeds(tmp_path,
                                                             stepped_wall_clock) -> None:
    outcome = SubprocessRunner().run(_job(tmp_path, "--sleep=0.3"), threading.Event())
    assert (outcome.status, outcome.reason) == ("Succeeded", "")
