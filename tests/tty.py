"""Run a command with a real terminal (a pseudo-terminal) as its stdout, as a user sees it."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
from pathlib import Path

_STYLE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def on_terminal(argv: list[str], *, cwd: Path, columns: int, env: dict[str, str] | None = None,
                timeout: float = 120) -> str:
    """What ``argv`` writes to a terminal ``columns`` wide (stderr not included).

    The terminal has that size (TIOCSWINSZ) and ``COLUMNS`` says it too; its ``\\r\\n`` line
    ends are read back as ``\\n`` and colours and styles (escape sequences) are left out.

    Raises:
        subprocess.CalledProcessError: When the command exits with a status other than 0.
    """
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    environment = {**(os.environ if env is None else env), "COLUMNS": str(columns),
                   "TERM": "xterm-256color"}
    process = subprocess.Popen(argv, cwd=cwd, env=environment, stdin=subprocess.DEVNULL,
                               stdout=follower, stderr=subprocess.PIPE)
    os.close(follower)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        _, stderr = process.communicate(timeout=timeout)
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, argv, b"".join(chunks), stderr)
    return _STYLE.sub("", b"".join(chunks).decode().replace("\r\n", "\n"))
