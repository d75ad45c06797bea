"""Timestamps on metrics lines, read exactly as Katib's file-metrics-collector reads them.

Katib (pkg/metricscollector/v1beta1/file-metricscollector/file-metricscollector.go) stamps a
value only when Go's ``time.Parse(time.RFC3339Nano, ...)`` accepts the timestamp; anything
else leaves the zero time, which sorts before every stamped value when the trial controller
picks the latest one. Python's ``datetime.fromisoformat`` accepts far more (``2024-05-01``, a
space for the ``T``, no offset), so it is not used here.
"""

from __future__ import annotations

import calendar
import math
import re
from decimal import Decimal, InvalidOperation

__all__ = ["json_timestamp", "rfc3339_nano"]

# Go's layout 2006-01-02T15:04:05.999999999Z07:00: "15" takes one or two digits, the
# fraction any number of digits after "." or ",", the offset "Z" or ±hh:mm.
_RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d?):(\d\d):(\d\d)(?:[.,](\d+))?"
                      r"(?:Z|([+-])(\d\d):(\d\d))", re.ASCII)


def rfc3339_nano(text: str) -> float | None:
    """Seconds since the epoch when Go's ``time.Parse(time.RFC3339Nano, text)`` succeeds.

    Example:
        >>> rfc3339_nano("2024-05-01T12:00:00.5Z")
        1714564800.5
        >>> rfc3339_nano("2024-05-01") is None  # Python logging's date: not RFC 3339
        True
    """
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, sign, off_hour, off_minute = match.groups()[6:]
    # Go's range checks: hour < 24, minute and second < 60, the day exists in that month;
    # an offset may go up to 24:60 ("some people do write offsets of 24 hours").
    if not (1 <= month <= 12 and hour < 24 and minute < 60 and second < 60):
        return None
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    offset = 0
    if sign is not None:
        if int(off_hour) > 24 or int(off_minute) > 60:
            return None
        offset = (int(off_hour) * 3600 + int(off_minute) * 60) * (1 if sign == "+" else -1)
    seconds = calendar.timegm((year, month, day, hour, minute, second)) - offset
    # Go keeps nanoseconds and drops further digits.
    nanos = int((fraction or "0")[:9].ljust(9, "0"))
    return seconds + nanos / 1e9


def json_timestamp(value: object) -> float | None:
    """The ``timestamp`` key of a JSON metrics line, as Katib's ``parseTimestamp`` reads it.

    A string must be RFC 3339; a number is split at its decimal point and the digits after it
    are taken as a count of nanoseconds (Katib's reading: ``1700000000.5`` is
    ``…:20.000000005Z``, not half a second later). Anything else: no timestamp.

    Example:
        >>> json_timestamp(1.5)
        1.000000005
    """
    if isinstance(value, str):
        return rfc3339_nano(value)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    if not math.isfinite(value):
        return None
    # Go formats the float64 with strconv.FormatFloat(f, 'f', -1, 64): the shortest digits
    # that read back to the same float, never an exponent.
    try:
        text = format(Decimal(repr(float(value))), "f")
    except (InvalidOperation, OverflowError):
        return None
    whole, _, digits = text.partition(".")
    # ParseInt on both parts: int64 bounds, as in Go.
    if abs(int(whole)) >= 2**63 or (digits and int(digits) >= 2**63):
        return None
    return int(whole) + (int(digits) if digits else 0) / 1e9
