"""Every output path of every command: a wrong or failing one never harms a user's file.

A path that is a folder, in a missing folder or under a file is a bad input (exit 2); a
folder nobody may write (sysfs refuses even root) or a full disk (a file size limit, as in
tests/faults/test_disk_full.py) is an I/O failure (exit 1). Either ends with one line on
stderr, and every file that was there is left byte for byte as it was.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import KATIB, needs_katib
from tests.faults.helpers import automl_run, write_experiment

# What each command writes with OUT as its output path.
COMMANDS = {
    **{f"trials-{fmt}": ["trials", "t", "--format", fmt, "-o", "OUT"]
       for fmt in ("table", "csv", "json", "parquet", "markdown")},
    "compare-csv": ["compare", "t", "t", "--format", "csv", "-o", "OUT"],
    "compare-parquet": ["compare", "t", "--format", "parquet", "-o", "OUT"],
    "report-html": ["report", "t", "-o", "OUT"],
    "compile-yaml": ["compile", "EXP", "-o", "OUT"],
    "import-yaml": ["import", str(KATIB / "examples/hp-tuning/grid.yaml"), "-o", "OUT"],
    "pipeline-compile-yaml": ["pipeline", "compile", "EXP", "-o", "OUT"],
}
_STORES = {"trials", "compare", "report", "tensorboard"}  # commands reading the experiment

# kind -> (the path given, exit status, what stderr says)
FILE_KINDS = {
    "a folder": ("folder", 2, "it is a folder"),
    "in a missing folder": ("missing/out.yaml", 2, "the folder missing does not exist"),
    "under a file": ("file.txt/out.yaml", 2, "file.txt is not a folder"),
    "in an unwritable folder": ("/sys/out.yaml", 1, ""),
    "on a full disk": ("good.yaml", 1, "File too large"),
}
# An existing output is replaced only by what its name says it holds (automl._output.check_kind).
_SUFFIXES = {"table": ".txt", "csv": ".csv", "json": ".json", "parquet": ".parquet",
             "markdown": ".md", "html": ".html", "yaml": ".yaml"}
LOGDIR_KINDS = {
    "a file": ("file.txt", 2, "it is not a folder"),
    "under a file": ("file.txt/tb", 2, "file.txt is not a folder"),
    "in an unwritable folder": ("/sys/tb", 1, ""),
    "on a full disk": ("tb", 1, "File too large"),
}


@pytest.fixture(scope="module")
def experiment(tmp_path_factory) -> tuple[Path, Path]:
    """A finished two-trial experiment: its file (with an image, for compile) and journal."""
    folder = tmp_path_factory.mktemp("experiment")
    path = write_experiment(folder, max_trials=2, parallel_trials=1)
    data = yaml.safe_load(path.read_text())
    data["trial"]["image"] = "registry.example.org/automl-tests/trainer:1"  # holds the trial
    path.write_text(yaml.safe_dump(data))
    assert automl_run(folder).returncode == 0
    return path, folder / ".automl/studies.journal"


def _file_size_limit() -> None:  # in the child, before exec
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))


def _automl(argv: list[str], cwd: Path, full_disk: bool) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "automl", *argv], cwd=cwd, capture_output=True, text=True,
        timeout=120, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        preexec_fn=_file_size_limit if full_disk else None)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _argv(template: list[str], out: str, experiment: tuple[Path, Path]) -> list[str]:
    spec, journal = experiment
    argv = [{"OUT": out, "EXP": str(spec)}.get(a, a) for a in template]
    return argv + (["--storage", str(journal)] if argv[0] in _STORES else [])


def _user_files(folder: Path) -> None:
    """A folder with a file in it, a plain file, and a good earlier output."""
    (folder / "folder").mkdir()
    (folder / "folder/kept.txt").write_text("kept\n")
    (folder / "file.txt").write_text("a plain file\n")
    (folder / "good.yaml").write_text("a good earlier output\n")


def _assert_refused(result: subprocess.CompletedProcess, code: int, says: str) -> None:
    assert result.returncode == code, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: cannot write") and says in lines[0]


# Every format of every command on a full disk (each writes its own way) and to a folder; the
# other wrong paths once per command (they are refused before any work, by one check).
_CASES = [pytest.param(c, k, marks=[needs_katib] if c == "import-yaml" else [])
          for c, k in [(c, k) for c in COMMANDS for k in ("a folder", "on a full disk")] + [
              (c, k) for c in ("trials-csv", "compare-parquet", "report-html", "compile-yaml",
                               "import-yaml", "pipeline-compile-yaml")
              for k in ("in a missing folder", "under a file", "in an unwritable folder")]]


@pytest.mark.parametrize(("command", "kind"), _CASES)
def test_a_bad_or_failing_output_file_is_one_line_and_leaves_every_file_as_it_was(
        tmp_path, experiment, command, kind) -> None:
    out, code, says = FILE_KINDS[kind]
    _user_files(tmp_path)
    if kind == "on a full disk":  # an earlier output named as what the command writes
        out = f"good{_SUFFIXES[command.rsplit('-', 1)[1]]}"
        (tmp_path / out).write_text("a good earlier output\n")
    before = _files(tmp_path)
    result = _automl(_argv(COMMANDS[command], out, experiment), tmp_path,
                     full_disk=kind == "on a full disk")
    _assert_refused(result, code, says)
    assert _files(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        {"file.txt", "folder", "good.yaml", Path(out).name} if kind == "on a full disk"
        else {"file.txt", "folder", "good.yaml"})


@pytest.mark.parametrize("kind", LOGDIR_KINDS)
def test_a_bad_or_failing_tensorboard_logdir_is_one_line_and_leaves_the_logs_as_they_were(
        tmp_path, experiment, kind) -> None:
    out, code, says = LOGDIR_KINDS[kind]
    _user_files(tmp_path)
    earlier = _automl(_argv(["tensorboard", "t", "--logdir", "tb"], "", experiment), tmp_path,
                      full_disk=False)
    assert earlier.returncode == 0, earlier.stderr
    before = _files(tmp_path)
    assert any(name.startswith("tb/t-0001/events.out.tfevents.") for name in before)
    result = _automl(_argv(["tensorboard", "t", "--logdir", out], "", experiment), tmp_path,
                     full_disk=kind == "on a full disk")
    _assert_refused(result, code, says)
    assert _files(tmp_path) == before  # hidden temporary files included


def test_a_good_output_replaces_the_earlier_file_and_keeps_its_mode(tmp_path, experiment):
    _user_files(tmp_path)
    (tmp_path / "good.yaml").chmod(0o640)
    result = _automl(_argv(COMMANDS["compile-yaml"], "good.yaml", experiment), tmp_path, False)
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load((tmp_path / "good.yaml").read_text())["kind"] == "Experiment"
    assert (tmp_path / "good.yaml").stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt", "folder", "good.yaml"]


def test_a_tensorboard_logdir_in_missing_folders_is_created(tmp_path, experiment) -> None:
    result = _automl(_argv(["tensorboard", "t", "--logdir", "OUT"], "a/b/tb", experiment),
                     tmp_path, full_disk=False)
    assert result.returncode == 0, result.stderr
    assert list((tmp_path / "a/b/tb/t-0000").glob("events.out.tfevents.*.automl"))


@pytest.mark.parametrize("files", [1, 3])
def test_every_file_is_on_disk_before_any_is_renamed_into_place(tmp_path, monkeypatch,
                                                                 files) -> None:
    from automl._output import outputs

    events: list[str] = []
    monkeypatch.setattr(os, "fsync", lambda fd: events.append("fsync"))
    monkeypatch.setattr(os, "sync", lambda: events.append("sync"))
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("rename"),
                                                     real_replace(a, b))[1])
    with outputs(tmp_path) as out:
        for i in range(files):
            out.add(tmp_path / f"f{i}.txt", f"text {i}")
        assert not any(tmp_path.glob("f*.txt"))
    # one file: its own fsync; several: one sync of them all, then the renames
    assert events == ["fsync" if files == 1 else "sync"] + ["rename"] * files
    assert sorted(p.read_text() for p in tmp_path.glob("f*.txt")) == [
        f"text {i}" for i in range(files)]
