"""Talking to an HTTP API we do not own (Kubernetes, KFP): timeouts, retries, redirects, and
answers that are not the JSON the API promised.

Both the kubernetes client and kfp.Client send every request through their generated
``ApiClient.request``; :func:`guard` wraps that one method of one client, so every call the
client makes (kfp.Client's own health check included) gets:

- a timeout: :data:`TIMEOUT` seconds to connect and to wait for each read, unless
  ``$AUTOML_HTTP_TIMEOUT`` (seconds, one number for both) says otherwise;
- a total deadline of connect + 2 x read seconds for the whole call, retries and their
  backoff included, that ends it whatever the server does (one sending its answer a byte
  at a time never trips a read timeout): "no complete answer within N s". A stream (a
  followed log) has no total, only the timeout of each read (see automl._deadline);
- a bounded retry with exponential backoff (:data:`ATTEMPTS` tries) of a read (GET, HEAD)
  answered 429, 500, 502, 503 or 504, cut off by a reset, a timeout or a truncated body. A
  write is not retried here: whether sending it again is safe depends on what it does (see
  ``KatibCluster.create``);
- redirects followed up to :data:`MAX_REDIRECTS` times, the ``Authorization`` and ``Cookie``
  headers forwarded only to the same scheme, host and port (urllib3 drops them on the way
  to another host, so a token never leaks to a login server elsewhere); a write's
  redirect to another scheme, host or port is not followed at all (its body, an uploaded
  pipeline, would go to whatever listens there);
- an answer that is not JSON (a login page, a proxy's error page, an empty body), or JSON
  that is not an object (``null``, a list), is one :class:`AnswerError` line saying what
  came back and its likely cause. The fields of an object are checked where they are read
  (automl._answer).
"""

from __future__ import annotations

import functools
import html
import json
import logging
import os
import re
import time
from collections.abc import Callable
from typing import Any

from automl._deadline import install, within
from automl.errors import AutomlError

__all__ = ["ATTEMPTS", "MAX_REDIRECTS", "TIMEOUT", "AnswerError", "backoff", "guard", "timeout"]

log = logging.getLogger(__name__)

TIMEOUT = (10.0, 60.0)
"""Seconds to connect and to wait for each read of an answer; ``$AUTOML_HTTP_TIMEOUT``."""
ATTEMPTS = 4
"""Tries of a read that met a transient failure (the first and three retries)."""
MAX_REDIRECTS = 5
BACKOFF = 0.25
"""Seconds before the first retry; doubled before each next one (0.25, 0.5, 1)."""
TRANSIENT = frozenset({429, 500, 502, 503, 504})
READS = frozenset({"GET", "HEAD"})
EXIT_UNREACHABLE, EXIT_LOGIN, EXIT_MALFORMED = 3, 5, 1
_LOGIN = re.compile(r"log ?in|sign ?in|oauth|dex|authservice|keycloak|password", re.I)
_MAYBE_DONE = " (the change may have been made: look before sending it again)"
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


class AnswerError(AutomlError):
    """An answer automl cannot use: not JSON, malformed, or none (the API kept failing).

    The message says what came back, without saying which call it answered: the caller
    prefixes that. ``exit_code``: 5 a login page, 3 no usable server, 1 a malformed answer.
    ``transient``: it may pass (429, 5xx, a timeout, a reset), so a write whose repetition
    is safe may be sent again.
    """

    def __init__(self, message: str, exit_code: int = EXIT_UNREACHABLE,
                 transient: bool = False) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.transient = transient


def timeout() -> tuple[float, float]:
    """(connect, read) seconds: ``$AUTOML_HTTP_TIMEOUT`` for both, else :data:`TIMEOUT`.

    Raises:
        AnswerError: When the variable is not a positive number (exit status 2).
    """
    text = os.environ.get("AUTOML_HTTP_TIMEOUT", "").strip()
    if not text:
        return TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0 or seconds == float("inf"):
        raise AnswerError(f"$AUTOML_HTTP_TIMEOUT={text!r}: give the seconds to wait for a "
                          "server as a positive number, e.g. 30", 2)
    return seconds, seconds


def guard(api_client: Any, api_exception: type[Exception], login_hint: str) -> Any:
    """Give every request of a generated ``ApiClient`` the timeouts, retries and checks above.

    Args:
        api_client: A kubernetes or kfp_server_api ``ApiClient`` (guarded once; again is a
            no-op).
        api_exception: The ``ApiException`` class its REST layer raises for an HTTP error.
        login_hint: What to do when a login page answers, e.g. ``"pass --token"``.

    Returns:
        The same ``api_client``.
    """
    if getattr(api_client, "_automl_guarded", False):
        return api_client
    pools = api_client.rest_client.pool_manager
    pools.connection_pool_kw["retries"] = _redirects()
    install(pools)  # clears the pools opened before (kfp.Client's health check)
    api_client.request = functools.partial(_request, api_client.request, api_exception,
                                           login_hint)
    api_client._automl_guarded = True
    return api_client


def _request(send: Callable[..., Any], api_exception: type[Exception], login_hint: str,
             method: str, url: str, *args: Any, _preload_content: bool = True,
             _request_timeout: Any = None, **kwargs: Any) -> Any:
    from urllib3.exceptions import HTTPError

    limits = _request_timeout or timeout()
    if not isinstance(limits, tuple):
        limits = (limits, limits)
    total = limits[0] + 2 * limits[1]
    deadline = time.monotonic() + total
    read = method.upper() in READS
    for attempt in range(1, ATTEMPTS + 1):
        last = attempt == ATTEMPTS or not read
        left = deadline - time.monotonic()
        try:
            with within(deadline):
                answer = send(method, url, *args, _preload_content=_preload_content,
                              _request_timeout=(max(min(limits[0], left), 0.001), limits[1]),
                              **kwargs)
        except _WriteRedirected as exc:
            raise AnswerError(f"the server redirected this {method.upper()} to {exc} (another "
                              "scheme, host or port): not sent there; check the address "
                              "(or use the address it points to, if it is the API)") from None
        except HTTPError as exc:
            failure, transient = _failure(exc, limits)
            if time.monotonic() >= deadline:
                failure, transient = _late(total), True
            if failure is None:  # refused, no such host: nothing to wait for
                raise
            if last or not transient or not _fits(deadline, attempt):
                raise AnswerError(_tries(failure, attempt) + ("" if read else _MAYBE_DONE),
                                  transient=transient) from None
            backoff(attempt, f"{method} {_path(url)}: {failure}")
            continue
        except api_exception as exc:
            status = exc.status  # type: ignore[attr-defined]
            headers = dict(exc.headers or {})  # type: ignore[attr-defined]
            body = _text(exc.body)  # type: ignore[attr-defined]
            retry_after = _header(headers, "Retry-After")
            if status in TRANSIENT and not last and _fits(deadline, attempt, retry_after):
                backoff(attempt, f"{method} {_path(url)}: HTTP {status}", retry_after)
                continue
            if status in TRANSIENT:
                raise AnswerError(_tries(_what_came(status, headers, body), attempt) +
                                  ": the server is down or overloaded; try again later" +
                                  ("" if read else _MAYBE_DONE), transient=True) from None
            if _is_html(headers, body):  # a proxy's or a login server's page
                raise _not_json(status, headers, body, login_hint) from None
            raise
        if not _preload_content:
            return answer
        headers = dict(answer.getheaders())
        body = _text(answer.data)
        if _path(url).endswith("/log"):
            return answer
        if _is_json(headers, body, strict=True):
            _an_object(answer.status, headers, body)
            return answer
        if _is_json(headers, body) and not last and _fits(deadline, attempt):
            backoff(attempt, f"{method} {_path(url)}: a truncated JSON answer")
            continue
        raise _not_json(answer.status, headers, body, login_hint)
    raise AssertionError("unreachable")  # the loop returns or raises


def _failure(exc: Exception, limits: tuple[float, float | None]) -> tuple[str | None, bool]:
    """What a transport failure means (None: refused, said as before) and if it may pass."""
    from urllib3.exceptions import (
        MaxRetryError,
        NewConnectionError,
        ProtocolError,
        TimeoutError,
    )

    reason = exc.reason if isinstance(exc, MaxRetryError) else exc
    if isinstance(reason, NewConnectionError):
        return None, False
    if isinstance(reason, TimeoutError):
        read = "read" in str(reason).lower()
        return (f"{'no answer' if read else 'could not connect'} within "
                f"{limits[1 if read else 0]:g} s (set $AUTOML_HTTP_TIMEOUT to wait longer)",
                True)
    if isinstance(reason, ProtocolError):
        return f"the connection broke ({_one_line(str(reason))})", True
    if isinstance(exc, MaxRetryError) and "redirect" in str(reason).lower():
        return f"more than {MAX_REDIRECTS} redirects", False
    return None, False


def backoff(attempt: int, failure: str, retry_after: str = "") -> None:
    """Wait before try ``attempt + 1``: :data:`BACKOFF` doubled per try, or the server's
    ``Retry-After`` seconds (at most 10), logging ``failure``."""
    delay = _delay(attempt, retry_after)
    log.warning("%s; trying again in %g s", failure, delay)
    time.sleep(delay)


def _delay(attempt: int, retry_after: str) -> float:
    delay = BACKOFF * 2 ** (attempt - 1)
    if retry_after.strip().isdigit():
        delay = max(delay, min(float(retry_after), 10.0))
    return delay


def _fits(deadline: float, attempt: int, retry_after: str = "") -> bool:
    """Whether the backoff before another try ends before ``deadline``."""
    return time.monotonic() + _delay(attempt, retry_after) < deadline


def _late(total: float) -> str:
    return (f"no complete answer within {total:g} s (set $AUTOML_HTTP_TIMEOUT to wait "
            "longer)")


def _an_object(status: int, headers: dict[str, str], body: str) -> None:
    """Every answer the clients read (not a log) is a JSON object: an Experiment, a List,
    a Status, a KFP message; ``null``, a list or a text would be read as an empty one."""
    if not isinstance(json.loads(body), dict):
        raise AnswerError(f"{_what_came(status, headers, body)}: not a JSON object, as the "
                          "API answers; is this the API's address?", EXIT_MALFORMED)


class _WriteRedirected(Exception):
    """A write was redirected elsewhere; the message is where."""


def _redirects() -> Any:
    """urllib3's redirect policy: :data:`MAX_REDIRECTS`, a write's only to its own origin."""
    from urllib.parse import urljoin

    from urllib3.util.retry import Retry

    class Redirects(Retry):  # type: ignore[misc]
        def increment(self, method: str | None = None, url: str | None = None,
                      *args: Any, **kwargs: Any) -> Any:
            response, pool = kwargs.get("response"), kwargs.get("_pool")
            location = response.get_redirect_location() if response is not None else None
            if location and (method or "").upper() not in READS and pool is not None:
                target = urljoin(url or "", location)
                if not pool.is_same_host(target):  # scheme, host and port
                    response.drain_conn()
                    raise _WriteRedirected(target)
            return super().increment(method, url, *args, **kwargs)

    # urllib3 retries nothing itself (we do, with backoff, knowing the method); it follows
    # redirects, and strips Authorization and Cookie when one leaves the host.
    return Redirects(total=None, connect=0, read=0, status=0, other=0,
                     redirect=MAX_REDIRECTS)


def _tries(failure: str, attempt: int) -> str:
    return f"{failure} ({attempt} tries)" if attempt > 1 else failure


def _not_json(status: int, headers: dict[str, str], body: str, login_hint: str) -> AnswerError:
    came = _what_came(status, headers, body)
    if status in (401, 403) or (_is_html(headers, body) and _LOGIN.search(body)):
        return AnswerError(f"{came}: a login page: {login_hint}", EXIT_LOGIN)
    if not body.strip():
        return AnswerError(f"{came}: is this the API's address?")
    if _is_json(headers, body):
        return AnswerError(f"{came}: malformed or truncated JSON (a proxy or a broken "
                           "connection cut it); try again")
    return AnswerError(f"{came}: not the API (a proxy's or web server's page?); check the "
                       "address")


def _what_came(status: int, headers: dict[str, str], body: str) -> str:
    kind = _header(headers, "Content-Type") or "no content type"
    if not body.strip():
        return f"the server answered HTTP {status} ({kind}) with an empty body"
    title = _TITLE.search(body)
    message = _json_message(body)
    shown = html.unescape(title.group(1)) if title else message or body
    label = "an HTML page titled" if title else "the message" if message else "text"
    return f"the server answered HTTP {status} ({kind}) with {label} {_one_line(shown)[:80]!r}"


def _json_message(body: str) -> str | None:
    """The ``message`` of a JSON error answer (a Kubernetes Status, a KFP error)."""
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    message = answer.get("message") if isinstance(answer, dict) else None
    return message if isinstance(message, str) and message else None


def _is_json(headers: dict[str, str], body: str, *, strict: bool = False) -> bool:
    """Said to be JSON (strict: and parses as JSON)."""
    said = "json" in _header(headers, "Content-Type").lower() or body.lstrip()[:1] in ("{", "[")
    if not strict or not said:
        return said
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def _is_html(headers: dict[str, str], body: str) -> bool:
    return "html" in _header(headers, "Content-Type").lower() or "<html" in body[:500].lower()


def _header(headers: dict[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), "")


def _text(data: Any) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return data if isinstance(data, str) else ""


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path


def _one_line(text: str) -> str:
    return " ".join(text.split())
