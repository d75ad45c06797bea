"""Input files a user names that are no file to read whole: each reader refuses at once.

The experiment file, a search space it names, a Katib YAML, a pipeline (Python, compiled or
an experiment) and a storage file can each be a FIFO (a plain read waits for a writer
forever), a device such as ``/dev/zero`` (a read never ends) or a 4 GiB sparse file (read to
its end: minutes, or all of memory). Every command refuses before reading, in one line that
names the file and why, with exit status 2 (bad input).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml

from tests.faults.helpers import automl_each, write_experiment


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _device(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _sparse(path: Path) -> None:
    path.touch()
    os.truncate(path, 4 << 30)  # costs no disk


_MAKE = {"fifo": _fifo, "device": _device, "sparse": _sparse}
_SAID = {"fifo": "a FIFO (named pipe), not a regular file",
         "device": "a character device, not a regular file",
         "sparse": "4.0 GiB, more than the 16.0 MiB automl reads of such a file"}

# Each reader: the file's name (its suffix says what it is) and the command that reads it.
_READERS = {
    "experiment file (validate)": ("bad.yaml", ["validate", "bad.yaml"]),
    "experiment file (run)": ("bad.yaml", ["run", "bad.yaml"]),
    "search space it names": ("bad.yaml", ["validate", "ref.yaml"]),
    "Katib YAML (import)": ("bad.yaml", ["import", "bad.yaml"]),
    "pipeline in Python": ("bad.py", ["pipeline", "compile", "bad.py", "-o", "out.yaml"]),
    "compiled pipeline or experiment": ("bad.yaml", ["pipeline", "run", "bad.yaml", "--local"]),
    "storage file": ("bad.journal", ["list", "--storage", "bad.journal"]),
}


@pytest.mark.parametrize("kind", list(_MAKE))
def test_an_input_file_that_is_no_regular_file_or_too_large_is_refused_in_one_line(
        tmp_path, kind) -> None:
    made: set[str] = set()
    for file, _ in _READERS.values():
        if file not in made:
            _MAKE[kind](tmp_path / file)
            made.add(file)
    data = yaml.safe_load(write_experiment(tmp_path / "ok").read_text())
    del data["parameters"]
    data["search_space"] = str(tmp_path / "bad.yaml")
    (tmp_path / "ref.yaml").write_text(yaml.safe_dump(data))

    started = time.monotonic()
    answers = automl_each(tmp_path, [command for _, command in _READERS.values()])
    assert time.monotonic() - started < 60  # each at once (a FIFO would never end)

    for reader, (file, _), (code, _, err) in zip(_READERS, _READERS.values(), answers,
                                                 strict=True):
        lines = err.splitlines()
        assert code == 2, (reader, err)
        assert len(lines) == 1 and lines[0].startswith("error: "), (reader, err)
        if kind == "sparse" and file == "bad.journal":
            # A storage file is not read whole: only its first bytes, which say what it is.
            assert "is neither an Optuna journal nor a SQLite database" in lines[0]
            continue
        assert file in lines[0] and _SAID[kind] in lines[0], (reader, err)
