"""``automl status NAME --watch``: the status shown again and again until the run ends."""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING

from automl.errors import AutomlError

if TYPE_CHECKING:
    from automl.backends import Backend

__all__ = ["watch_status"]

log = logging.getLogger(__name__)

_FAILURES = 5
"""Looks in a row that may fail (a cluster's API server restarting) before watching ends."""

_HOME_AND_CLEAR = "\x1b[H\x1b[2J"


def watch_status(backend: Backend, name: str, interval: float, *, every: bool = False,
                 wide: bool = False) -> None:
    """Print ``name``'s status every ``interval`` seconds until its run has ended.

    A terminal gets each view in place of the last, as ``watch`` draws it; other output
    gets the views one after another, each under the time it was taken. The last view is
    taken after the run ended, so it shows how it ended. An experiment with no run going
    (finished, or interrupted and not resumed) is shown once.

    A look that fails in a way that may pass (``transient``: a cluster's API server
    restarting) is logged and made again, up to five in a row.

    Raises:
        AutomlError: When the experiment does not exist (from the backend).
    """
    tty = sys.stdout.isatty()
    failures = 0
    while True:
        try:
            # Asked before the view is taken: a run that ends in between gets one more view.
            active = backend.is_active(name)
            if tty:
                sys.stdout.write(_HOME_AND_CLEAR)
            else:
                print(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}", flush=True)
            backend.print_status(name, every=every, wide=wide)
        except AutomlError as exc:
            failures += 1
            if not getattr(exc, "transient", False) or failures > _FAILURES:
                raise
            log.warning("%s; looking again in %g s", exc, interval)
            time.sleep(interval)
            continue
        failures = 0
        if not active:
            return
        if tty:
            print(f"(again every {interval:g} s until the run ends; Ctrl-C stops watching)")
        sys.stdout.flush()
        time.sleep(interval)
