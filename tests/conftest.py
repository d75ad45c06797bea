"""Shared fixtures: where Katib's conformance corpus lives (../shared beside the repo), and a
PostgreSQL server for the storage tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
KATIB = SHARED / "katib"
KATIB_EXAMPLES = sorted((KATIB / "examples").rglob("*.yaml"))
NO_KATIB = ("needs Katib's conformance corpus, ../shared/katib beside the checkout, absent "
            "here (a fresh clone)")
"""Why a test that reads the corpus is skipped: one line, in place of a collection error."""

needs_katib = pytest.mark.skipif(not KATIB.is_dir(), reason=NO_KATIB)
"""Marks a test that reads Katib's corpus: skipped where it is absent."""


def require_katib() -> None:
    """Skip the calling test module when Katib's corpus is absent.

    For a module that reads the corpus as it is imported (a schema, an example it takes
    apart): called before that read, it turns the missing file into one skip line.
    """
    if not KATIB.is_dir():
        pytest.skip(NO_KATIB, allow_module_level=True)


@pytest.fixture
def write(tmp_path: Path):
    """Write a text file under tmp_path and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free port for this test session: its base URL.

    Started with the server's own ``initdb`` and ``pg_ctl`` (as the ``postgres`` user when
    running as root, which initdb refuses). Skipped when no server is installed, except in
    CI (``CI=true``), where that is a failure: ``.ci/run`` installs Debian's postgresql.
    """
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    initdb = shutil.which("initdb") or (str(bins[-1]) if bins else None)
    if initdb is None:
        message = "no PostgreSQL server binaries (initdb; Debian package postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    pg_ctl = str(Path(initdb).with_name("pg_ctl"))
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    # Not under pytest's tmp_path: the postgres user must be able to reach it.
    folder = Path(tempfile.mkdtemp(prefix="automl-postgres-"))
    if as_postgres:
        shutil.chown(folder, "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = folder / "data"
    try:
        subprocess.run([*as_postgres, initdb, "-D", str(data), "-A", "trust", "-U", "postgres",
                        "--no-sync"], check=True, capture_output=True, timeout=120)
        subprocess.run([*as_postgres, pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-w",
                        "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 "
                        "-c fsync=off", "start"], check=True, capture_output=True, timeout=120)
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
        finally:
            subprocess.run([*as_postgres, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                           capture_output=True, timeout=120)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """The URL of a new, empty database of the session's PostgreSQL cluster."""
    from sqlalchemy import create_engine, text

    name = f"test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(f"{postgres_server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return f"{postgres_server}/{name}"
