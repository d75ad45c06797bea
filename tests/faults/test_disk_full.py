"""A full disk under the trial logs or the journal: recorded or stopped cleanly, never lost.

A file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored as Python does) makes writes past it
fail with EFBIG in any environment; a tiny tmpfs gives a real ENOSPC where this user may
mount one in a private namespace (``unshare``), and is skipped elsewhere.
"""

from __future__ import annotations

import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.helpers import automl_run, finished, run_argv, trials, write_experiment

_MB = 1024 * 1024
# Trial t-0001 writes 2 MB before its metric; the others print their metric only.
_FLOODS_ONCE = ("import os, sys\n"
                "if os.environ['KATIB_TRIAL_NAME'] == 't-0001':\n"
                "    sys.stdout.write(('x' * 1023 + '\\n') * 2048)\n"
                "print('loss=0.5')\n")


def _experiment(folder: Path) -> None:
    write_experiment(folder, max_trials=3, parallel_trials=1, command=[
        sys.executable, "-c", _FLOODS_ONCE, "${trialParameters.x}", "${trialParameters.y}"])


def _file_size_limit(limit: int):
    def setup() -> None:  # in the child, before exec
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return setup


def test_a_trial_log_past_the_size_limit_stops_and_the_trials_metric_is_kept(tmp_path):
    _experiment(tmp_path)
    result = automl_run(tmp_path, preexec_fn=_file_size_limit(_MB))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.splitlines()[0] == (
        "t: Succeeded (ExperimentMaxTrialsReached: 3 trials completed); trials: 3 Succeeded")
    rows = list(finished(trials(tmp_path)).values())
    assert [(r["name"], r["status"], r["objective"], r["reason"]) for r in rows] == [
        ("t-0000", "Succeeded", 0.5, ""),
        ("t-0001", "Succeeded", 0.5,
         f"stdout.log stops at {_MB} bytes (File too large); its metrics were still read"),
        ("t-0002", "Succeeded", 0.5, "")]
    assert (tmp_path / ".automl/runs/t/t-0001/stdout.log").stat().st_size == _MB


def test_a_journal_write_cut_short_stops_the_run_cleanly_and_the_next_run_resumes(tmp_path):
    # The journal outgrows the limit while the experiment runs: the record being written is
    # undone (half a record would make the journal unreadable once the next is appended).
    write_experiment(tmp_path, max_trials=8, parallel_trials=1)
    first = automl_run(tmp_path, preexec_fn=_file_size_limit(7 * 1024))  # about 3 trials
    assert first.returncode == 1
    assert first.stderr.splitlines() == [
        "error: experiment 't' stopped: File too large; the study keeps every trial recorded "
        "so far: make room, then run the same command to resume"]
    assert (tmp_path / ".automl/studies.journal").read_bytes().endswith(b"}\n")
    kept = finished(trials(tmp_path))
    assert 0 < len(kept) < 8

    second = automl_run(tmp_path)
    assert second.returncode == 0, second.stderr
    rows = finished(trials(tmp_path))
    # a trial the cut write left running is recorded as interrupted and replaced: it is not
    # one of the 8 (cut-trials-uncounted)
    cut = [r for r in rows.values() if r["reason"].startswith("interrupted:")]
    assert len(rows) - len(cut) == 8
    assert all(rows[number] == record for number, record in kept.items())


def _tiny_disk_runner(probe: Path) -> list[str]:
    """``unshare`` that mounts a 1 MB tmpfs on $0 for the command after it, if allowed here.

    The mount lives in a private namespace: gone with the command, whatever happens to it.
    """
    if shutil.which("unshare") is None:
        pytest.skip("no unshare here")
    argv = ["unshare", "--mount", "--map-root-user", "sh", "-c",
            'mount -t tmpfs -o size=1m tmpfs "$0" && exec "$@"']
    probe.mkdir()
    check = subprocess.run([*argv, str(probe), "true"], capture_output=True, timeout=30)
    if check.returncode != 0:
        pytest.skip("this user may not mount a tmpfs in a private namespace")
    return argv


def test_a_full_log_disk_records_every_trial_and_the_run_goes_on(tmp_path):
    runner = _tiny_disk_runner(tmp_path / "probe")
    _experiment(tmp_path)
    runs = tmp_path / ".automl/runs"
    runs.mkdir(parents=True)
    # The trial logs on a 1 MB disk (gone with the namespace), the journal beside it on disk.
    result = subprocess.run([*runner, str(runs), *run_argv()], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    rows = list(finished(trials(tmp_path)).values())
    # t-0001 fills the disk: its log stops and its observations file cannot be written, but
    # its metric was read from its output; t-0002 runs on a full disk the same way.
    assert [(r["name"], r["status"], r["objective"]) for r in rows] == [
        ("t-0000", "Succeeded", 0.5), ("t-0001", "Succeeded", 0.5), ("t-0002", "Succeeded", 0.5)]
    assert "No space left on device" in rows[1]["reason"]
    assert "observations.jsonl not written" in rows[1]["reason"]
