"""Keeping credentials out of the HTTP and WebSocket libraries' debug logs.

websockets logs every handshake header (``> name: value``) and frame; httpcore logs response
headers; httpx logs request URLs. :data:`LIBRARY_LOG_FILTER` hides credentials by header name on
those loggers; :class:`RedactingLogger` also hides the exact values one connection sends (the
provider's custom headers), which a name alone cannot reveal.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from typing import Any

from codex_engine.protocol.redaction import (
    REDACTED,
    is_credential_header,
    redact_header_line,
    redact_text,
    redact_url,
)

__all__ = [
    "LIBRARY_LOG_FILTER",
    "RedactingLogger",
    "install_library_log_filter",
    "redact_log_args",
]

# httpcore renders header lists into its message text as `(b'name', b'value')` pairs.
_BYTES_HEADER = re.compile(r"\(b(['\"])(?P<name>[^'\"]*)\1, b(['\"])(?P<value>(?:[^\\]|\\.)*?)\3\)")
# h11 quotes a header value it refuses (a newline in an http_headers value, say), and httpcore
# logs that exception; the value is one of the request's headers, so it is hidden whatever it is.
_REFUSED_VALUE = re.compile(r"(Illegal header value )b(['\"])(?:\\.|(?!\2).)*\2", re.DOTALL)


def _scrub(arg: Any, secrets: Collection[str]) -> Any:
    if isinstance(arg, int | float):
        return arg
    # URLs (httpx passes its URL object) lose passwords and credential query values; a record is
    # only filtered when it is logged, so rendering it here costs nothing otherwise.
    text = str(arg)
    cleaned = redact_url(redact_text(text, secrets))
    # Only touched args become strings, so `%d` and friends keep their numbers.
    return cleaned if cleaned != text else arg


def redact_log_args(
    msg: str, args: tuple[Any, ...], secrets: Collection[str] = ()
) -> tuple[str, tuple[Any, ...]]:
    """The message and args of one record with credentials hidden.

    Header lines (``"... %s: %s"``) lose the value of credential headers and of ``secrets``;
    other args lose ``secrets``, URL passwords and credential query values.
    """
    if msg.endswith("%s: %s") and len(args) == 2:
        name, value = str(args[0]), str(args[1])
        return msg, (args[0], redact_header_line(name, value, secrets))
    return redact_text(msg, secrets), tuple(_scrub(arg, secrets) for arg in args)


def _redact_rendered_headers(text: str) -> str:
    def pair(match: re.Match[str]) -> str:
        if not is_credential_header(match.group("name")):
            return match.group(0)
        quote = match.group(1)
        return f"(b{quote}{match.group('name')}{quote}, b'{REDACTED}')"

    return _REFUSED_VALUE.sub(rf"\1b'{REDACTED}'", _BYTES_HEADER.sub(pair, text))


class _LibraryLogFilter(logging.Filter):
    """Name-based redaction for records of the HTTP and WebSocket libraries."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        msg = str(record.msg)
        if isinstance(args, tuple) and args:
            record.msg, record.args = redact_log_args(msg, args)
        elif not args:
            # httpcore formats its messages itself (header lists, exceptions) and passes no args.
            record.msg = _redact_rendered_headers(msg)
        return True


LIBRARY_LOG_FILTER = _LibraryLogFilter()

#: Loggers whose records can carry header values or URLs (a filter on a logger applies to the
#: records logged on that very logger, so httpcore's children are named one by one).
_LIBRARY_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "codex_engine.websocket.wire",
)


def install_library_log_filter() -> None:
    """Attach :data:`LIBRARY_LOG_FILTER` to the library loggers (idempotent)."""
    for name in _LIBRARY_LOGGERS:
        logging.getLogger(name).addFilter(LIBRARY_LOG_FILTER)


class RedactingLogger(logging.LoggerAdapter[logging.Logger]):
    """A logger for one connection that hides the secret values that connection sends.

    Given to websockets as its ``logger``: the library checks ``isEnabledFor`` first, so the
    rewriting costs nothing unless debug logging is on.
    """

    def __init__(self, logger: logging.Logger, secrets: Collection[str]) -> None:
        super().__init__(logger, {})
        self.secrets = frozenset(secrets)

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        text, clean = redact_log_args(str(msg), args, self.secrets)
        self.logger.log(level, text, *clean, **kwargs)
