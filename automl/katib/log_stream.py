"""Following a pod's log through a stream that may break: open it again and go on where it
was, without a line twice or a line lost."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

from automl._network import ATTEMPTS, AnswerError, backoff

__all__ = ["follow_log"]

log = logging.getLogger(__name__)

_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$")


def follow_log(open_stream: Callable[[bool], Any], what: str) -> Iterator[str]:
    """The lines of a followed log, its stream opened again each time it breaks.

    The log is read with timestamps (``timestamps=true``): when the stream breaks (a reset,
    a proxy's idle cut, an API server restart), it is opened again from the start of the
    log and the lines up to the last one shown are skipped by their timestamp. Kubernetes
    has no ``sinceTime`` in the Python client, and ``sinceSeconds`` would trust our clock.
    A stream has no total deadline (a followed log may go on for days), only the timeout of
    each read: a quiet stream is opened again, without counting as a break.

    Args:
        open_stream: Opens the followed log (a urllib3 response, unread); its argument says
            whether this is a reopening (then without ``tail``).
        what: What is followed, for the message.

    Raises:
        AnswerError: When the stream broke :data:`~automl._network.ATTEMPTS` times in a row.
    """
    from urllib3.exceptions import ProtocolError, ReadTimeoutError

    last, shown = "", 0  # the last shown line's instant, and how many lines had it
    breaks, opened = 0, False
    while True:
        stream = open_stream(opened)
        opened = True
        until, count, skipped = last, shown, 0  # this opening repeats what was shown so far
        try:
            for line in _lines(stream):
                stamp, _, text = line.partition(" ")
                instant = _instant(stamp)
                if instant is None:  # no timestamp: nothing to go by, show it
                    yield line
                    continue
                if instant < until or (instant == until and skipped < count):
                    skipped += instant == until
                    continue
                until = ""  # past what was shown: the rest is new
                last, shown = instant, (shown + 1 if instant == last else 1)
                breaks = 0
                yield text
            return
        except ReadTimeoutError:
            # Quiet for a whole read timeout: a trial may rightly be; opening the log again
            # asks the server whether it is still there (that open has its own deadline).
            log.info("%s was quiet for a read timeout; opening it again", what)
        except ProtocolError as exc:
            breaks += 1
            if breaks >= ATTEMPTS:
                raise AnswerError(f"the stream of {what} broke {breaks} times in a row "
                                  f"({exc})", transient=True) from None
            backoff(breaks, f"the stream of {what} broke")
        finally:
            stream.release_conn()


def _lines(stream: Any) -> Iterator[str]:
    rest = b""
    for chunk in stream.stream(4096):
        *lines, rest = (rest + chunk).split(b"\n")
        yield from (line.decode("utf-8", errors="replace") for line in lines)
    if rest:
        yield rest.decode("utf-8", errors="replace")


def _instant(stamp: str) -> str | None:
    """An RFC 3339 timestamp with nanoseconds (as the API server writes them: trailing
    zeros dropped) as a text that sorts as its instant; None when it is not one."""
    match = _STAMP.match(stamp)
    if match is None:
        return None
    return f"{match.group(1)}.{(match.group(2) or '').ljust(9, '0')}"
