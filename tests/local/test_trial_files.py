"""Every reader of a file a trial wrote returns at once, whatever the trial left at its path.

Each reader meets a FIFO (a plain open() waits for a writer for ever), a socket, a device
(a symbolic link to /dev/zero, which never ends), a folder, a sparse file of 20 GB (costs no
disk; its hole holds no metrics), a symbolic link to nothing and a last line cut short.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.summary.writer.event_file_writer import EventFileWriter

import automl
from automl.errors import AutomlError
from automl.local import runner
from automl.local.job import TrialJob, build_job
from automl.local.logs import trial_logs
from automl.local.metrics import ReadingCut, TfEventCollector
from automl.local.runner import Watcher
from automl.local.snapshot import load_snapshot
from automl.local.trial_files import CHUNK, UnreadableFile, open_trial_file, read_lines
from tests.local.helpers import spec

KINDS = ["fifo", "socket", "device", "folder", "sparse", "dangling", "torn"]
REFUSED = {"fifo": "a FIFO (named pipe), not a regular file", "socket": "a socket, not a "
           "regular file", "device": "a character device, not a regular file",
           "folder": "a folder, not a regular file", "sparse": "18.6 GiB, more than the "
           "1.0 GiB automl reads of such a file", "dangling": "a symbolic link to "}
"""What the one-line reason says of each kind of path that is refused."""
_BOUND = 5.0
"""Seconds any reader may take, on a loaded machine, for what it reads at once."""


def make(path: Path, kind: str, whole: bytes, cut: bytes) -> None:
    """Put ``kind`` at ``path``: ``whole`` lines then ``cut`` (no newline) for torn."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))  # left bound: a listening path, as a trial would leave it
        server.close()
    elif kind == "device":
        path.symlink_to("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    elif kind == "sparse":
        with open(path, "wb") as file:
            file.truncate(20_000_000_000)
            file.seek(0, os.SEEK_END)
            file.write(b"\n" + whole)
    elif kind == "dangling":
        path.symlink_to(path.parent / "gone")
    else:
        path.write_bytes(whole + cut)


def timed(read: Callable[[], object]) -> object:
    """``read()``, asserted to return within ``_BOUND`` seconds."""
    began = time.monotonic()
    try:
        return read()
    finally:
        assert time.monotonic() - began < _BOUND


def _watched(tmp_path: Path, kind: str, collector: dict, whole: bytes, cut: bytes
             ) -> tuple[str | None, list[str]]:
    """A trial's watched file (File or Push collector) read to the end, as after its exit."""
    job = _job(tmp_path, collector)
    make(job.watch_file, kind, whole, cut)
    watcher = Watcher(job, None)
    assert timed(lambda: watcher.finish(threading.Event(), time.monotonic())) is None
    return watcher.file_problem or watcher.error, [o.value for o in watcher.observations
                                                   if o.metric == "loss"]


def _job(tmp_path: Path, collector: dict, deadline: int | None = None) -> TrialJob:
    """Trial ``t-0000`` of a one-trial experiment with ``collector``, in ``tmp_path``."""
    experiment = spec(budget={"max_trials": 1, "parallel_trials": 1})
    trial = experiment.trial.model_copy(update={
        "active_deadline_seconds": deadline,
        "metrics_collector": experiment.trial.metrics_collector.model_validate(collector)})
    return build_job(experiment.model_copy(update={"trial": trial}), "t-0000",
                     {"x": "0.5", "y": "1"}, tmp_path / "t-0000")


def read_text_file(tmp_path: Path, kind: str) -> tuple[str | None, list[str]]:
    return _watched(tmp_path, kind, {"kind": "File", "path": "/var/log/katib/metrics.log"},
                    b"loss=0.5\n", b"loss=0.25")


def read_json_file(tmp_path: Path, kind: str) -> tuple[str | None, list[str]]:
    return _watched(tmp_path, kind, {"kind": "File", "path": "/k/m.json", "format": "JSON"},
                    b'{"loss": "0.5"}\n', b'{"loss": "0.')


def read_pushed(tmp_path: Path, kind: str) -> tuple[str | None, list[str]]:
    return _watched(tmp_path, kind, {"kind": "Push"}, b'{"metrics": {"loss": 0.5}}\n',
                    b'{"metrics": {"lo')


def _event_file(folder: Path, value: float) -> Path:
    """A TensorFlow event file with one loss value, alone in ``folder``."""
    writer = EventFileWriter(str(folder))
    writer.add_event(Event(wall_time=100.0, step=0, summary=Summary(
        value=[Summary.Value(tag="loss", simple_value=value)])))
    writer.close()
    (file,) = folder.iterdir()
    return file


def read_event_files(tmp_path: Path, kind: str) -> tuple[str | None, list[str]]:
    folder = tmp_path / "tfevent"
    _event_file(folder / "good", 0.5)
    torn = _event_file(tmp_path / "elsewhere", 0.25).read_bytes()
    make(folder / "events.out.tfevents.x", kind, torn, b"")
    if kind == "torn":  # the last record cut short, as by a trial killed while writing it
        (folder / "events.out.tfevents.x").write_bytes(torn[:-3])
    collector = TfEventCollector(["loss"], folder)
    found = timed(lambda: list(collector.after_exit(tmp_path)))
    return "; ".join(collector.skipped) or None, [o.value for o in found]


def read_log(tmp_path: Path, kind: str) -> tuple[str | None, list[str]]:
    make(tmp_path / "runs/t/t-0000/stdout.log", kind, b"loss=0.5\n", b"loss=0.25")
    try:
        return None, timed(lambda: list(trial_logs("t", "t-0000", tmp_path, tail=1)))
    except AutomlError as exc:
        assert "\n" not in str(exc)
        return str(exc), []


def read_snapshot(tmp_path: Path, kind: str) -> tuple[str | None, list[str]]:
    make(tmp_path / "status.json", kind, b'{"version": 2}\n', b"{")
    journal = tmp_path / "studies.journal"
    journal.write_bytes(b"")
    view = timed(lambda: load_snapshot(tmp_path, journal))
    return ("not used" if view is None else "used"), []


# What each reader makes of a torn last line: TEXT reads it as Katib does (it splits the
# whole file at newlines); the JSON readers fail as Go's json.Unmarshal does; an event file
# cut in its last record gives the records before it; a log shows the line.
TORN = {
    read_text_file: (None, ["0.5", "0.25"]),
    read_json_file: ("failed to parse the json object: '{\"loss\": \"0.'", ["0.5"]),
    read_pushed: ("unreadable report line: '{\"metrics\": {\"lo'", ["0.5"]),
    read_event_files: (None, ["0.5"]),
    read_log: (None, ["loss=0.25"]),
    read_snapshot: ("not used", []),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reader", list(TORN), ids=lambda r: r.__name__)
def test_every_reader_of_a_trials_file_returns_at_once_with_the_right_outcome(
        tmp_path, reader, kind) -> None:
    problem, values = reader(tmp_path, kind)
    if kind == "torn":
        assert (problem, values) == TORN[reader]
    elif reader is read_snapshot:  # a cache: anything unreadable means replay the journal
        assert problem == "not used"
    elif reader is read_event_files and kind == "folder":
        # Katib's loader walks into a folder, whatever its name, and reads only files
        assert (problem, values) == (None, ["0.5"])
    elif reader is read_event_files:  # skipped, as Katib skips a file it cannot read
        assert problem is not None and REFUSED[kind] in problem
        assert problem.endswith("skipped, as Katib's collector skips a file it cannot read")
        assert values == ["0.5"]
    elif kind == "sparse" and reader is read_log:  # a log is shown from its end
        assert (problem, values) == (None, ["loss=0.5"])
    else:
        assert problem is not None and REFUSED[kind] in problem
        assert values == []


@pytest.fixture(scope="module")
def experiment(tmp_path_factory) -> Path:
    """The root of a finished two-trial experiment ``fn`` (each reports loss twice)."""
    root = tmp_path_factory.mktemp("fn") / ".automl"
    automl.tune("fn", _twice, {"x": {"type": "double", "min": 0, "max": 1}},
                objective_metric_name="loss", objective_type="minimize", max_trial_count=2,
                parallel_trial_count=2, root=root, progress=False)
    automl.load_results("fn", root=root).observations  # noqa: B018 - imports paid here, untimed
    return root


def _twice(params: dict[str, str]) -> None:
    print("loss=0.5\nloss=0.25")


@pytest.mark.parametrize("kind", KINDS)
def test_results_leave_out_an_unreadable_observations_file_and_say_which(
        experiment, kind, caplog) -> None:
    path = experiment / "runs/fn/fn-0000/observations.jsonl"
    kept = path.with_suffix(".kept")
    if not kept.exists():
        path.rename(kept)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    whole = kept.read_bytes().splitlines(keepends=True)[0]
    make(path, kind, whole, b'{"metric": "lo')
    with caplog.at_level(logging.WARNING, logger="automl"):
        observations = timed(lambda: automl.load_results("fn", root=experiment).observations)
    mine = observations[observations["trial"] == "fn-0000"]["value"].tolist()
    assert len(observations[observations["trial"] == "fn-0001"]) == 2  # the other trial's
    (warning,) = [r.getMessage() for r in caplog.records if r.name.startswith("automl")]
    if kind == "torn":
        assert mine == [0.5]
        assert warning == (f"{path} line 2: not a whole observation ('{{\"metric\": \"lo'), "
                           "left out")
    else:
        assert mine == []
        assert warning.startswith(f"observations of fn-0000 left out: {path}: ")
        assert REFUSED[kind] in warning


def test_a_file_replaced_between_its_check_and_its_open_is_examined_again(
        tmp_path, monkeypatch) -> None:
    """The check after the open is on what was opened: a FIFO put there is refused."""
    path = tmp_path / "metrics.log"
    path.write_bytes(b"loss=0.5\n")
    real_open = os.open

    def swapping_open(name, flags, *args):
        os.unlink(path)
        os.mkfifo(path)
        return real_open(name, flags, *args)

    monkeypatch.setattr(os, "open", swapping_open)
    with pytest.raises(UnreadableFile, match="a FIFO"):
        timed(lambda: open_trial_file(path))


def test_lines_longer_than_the_limit_come_cut_and_marked(tmp_path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"ab\n" + b"x" * 10 + b"\ncd")
    with open_trial_file(path) as file:
        assert list(read_lines(file, 4)) == [(1, b"ab", True), (2, b"xxxx", False),
                                             (3, b"cd", False)]



def test_reading_a_watched_file_after_the_exit_stops_at_the_deadline(tmp_path,
                                                                      monkeypatch) -> None:
    """A look reads one chunk (the slice shortened to nothing) and the deadline has passed:
    reading stops there, and the note says how far it got."""
    monkeypatch.setattr(runner, "_SLICE_SECONDS", 0.0)
    job = _job(tmp_path, {"kind": "File", "path": "/k/metrics.log"}, deadline=1)
    job.watch_file.write_bytes(b"x" * (3 * CHUNK))
    watcher = Watcher(job, None)
    assert watcher.finish(threading.Event(), time.monotonic() - 2) == "deadline"
    assert watcher.log_errors == [f"reading {job.watch_file} stopped at 1.0 MiB of 3.0 MiB"]


def test_event_files_are_not_read_past_the_deadline(tmp_path) -> None:
    _event_file(tmp_path / "tfevent", 0.5)
    collector = TfEventCollector(["loss"], tmp_path / "tfevent")
    with pytest.raises(ReadingCut, match=r"the deadline passed while the event files in "
                                         r".*tfevent were read \(0 of 1 read\)"):
        list(collector.after_exit(tmp_path, until=time.monotonic() - 1))
    assert [o.value for o in collector.after_exit(tmp_path, until=time.monotonic() + 60)] == ["0.5"]
