"""The control plane's build: cached per machine, and one clear line without Go (no cluster
needed; the build itself is measured in the note, not here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cluster import build
from tests.conftest import REPO


def test_a_folder_holding_every_binary_is_used_without_running_go_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in build.BINARIES:
        (tmp_path / name).write_text("built before")

    def no_build(*args, **kwargs):
        raise AssertionError(f"ran {args[0]}")

    monkeypatch.setattr(build.subprocess, "run", no_build)
    assert build.build(tmp_path) == tmp_path


def test_the_cache_folder_follows_the_pins_and_the_go_version(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = build.cache_dir("go1.26.8")
    assert first.parent == tmp_path / "automl-cluster"
    assert first == build.cache_dir("go1.26.8")
    assert first != build.cache_dir("go1.24.0")


def test_without_go_the_cluster_tests_are_skipped_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(PATH="/usr/bin:/bin", XDG_CACHE_HOME=str(tmp_path), PYTHONPATH=str(REPO))
    assert subprocess.run(["sh", "-c", "command -v go"], env=env,
                          capture_output=True).returncode != 0, "go is in /usr/bin or /bin"
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "cluster", "-q", "-rs", "-p", "no:cacheprovider",
         "tests/cluster/test_webhook_verdicts.py", "-k", "quickstart"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    skipped = [line for line in ran.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1
    assert "the Katib control plane cannot be built here: no Go toolchain (go) on PATH" \
        in skipped[0]
