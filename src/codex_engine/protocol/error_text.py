"""Reading a server's error answer and making one safe line of it: the body's ``error``
object, request ids, and excerpts with secrets and line breaks taken out. Pure, no I/O.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "EXCERPT_CHARS",
    "decode_body",
    "error_object",
    "finite_number",
    "id_suffix",
    "json_text",
    "one_line",
    "parse_non_negative",
    "redact_secrets",
    "request_id_from",
    "safe_url",
    "server_said",
    "str_field",
]

#: How much of a server's message an error quotes.
EXCERPT_CHARS = 200

_NUMBER_RE = re.compile(r"\d+(?:\.\d*)?|\.\d+")
# Bodies sometimes echo what was sent (a proxy's debug page, a misconfigured gateway); tokens must
# never reach a terminal or a log through an error message.
_SECRET_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),
)
_SECRET_QUERY_KEY_RE = re.compile(r"(?i)key|token|secret|sig|password|auth")


def decode_body(body: bytes | str) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body).decode("utf-8", errors="replace")
    return str(body)


def error_object(text: str) -> Mapping[str, Any] | None:
    try:
        # strict=False: some servers put raw newlines inside JSON strings.
        parsed = json.loads(text, strict=False)
    except (ValueError, RecursionError):
        return None
    if isinstance(parsed, Mapping):
        error = parsed.get("error")
        if isinstance(error, Mapping):
            return error
    return None


def str_field(obj: object, key: str) -> str | None:
    if not isinstance(obj, Mapping):
        return None
    value = obj.get(key)
    return value if isinstance(value, str) and value.strip() else None


def finite_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            return None
        return number if math.isfinite(number) else None
    if isinstance(value, str) and _NUMBER_RE.fullmatch(value.strip()):
        return float(value.strip())
    return None


def parse_non_negative(raw: str | None) -> float | None:
    if raw is None:
        return None
    text = raw.strip()
    if not _NUMBER_RE.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def request_id_from(lowered: Mapping[str, str]) -> str | None:
    for name in ("x-request-id", "x-oai-request-id"):
        value = one_line(lowered.get(name, ""), 100)
        if value:
            return value
    return None


def id_suffix(*, request_id: str | None = None, cf_ray: str | None = None) -> str:
    parts: list[str] = []
    if request_id:
        parts.append(f"request id {request_id}")
    ray = one_line(cf_ray or "", 100)
    if ray:
        parts.append(f"cf-ray {ray}")
    return "".join(f", {part}" for part in parts)


def server_said(message: str | None) -> str:
    # Trailing punctuation is dropped because our own clause follows the excerpt.
    excerpt = one_line(redact_secrets(message or ""), EXCERPT_CHARS).rstrip(" .;:,")
    return f": {excerpt}" if excerpt else ""


def one_line(text: str, limit: int) -> str:
    # str.split() without arguments also splits on \r, \x1c-\x1f, \u2028 and other separators
    # that would break the one-line promise; other control characters are blanked first.
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    collapsed = " ".join(printable.split())
    if len(collapsed) > limit:
        return collapsed[: limit - 1].rstrip() + "…"
    return collapsed


def redact_secrets(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub("[redacted]", text)
    return text


def safe_url(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        query = "&".join(_redact_query_pair(pair) for pair in parts.query.split("&") if pair)
        cleaned = urlunsplit((parts.scheme, host if parts.netloc else "", parts.path, query, ""))
    except ValueError:
        cleaned = url.split("?", 1)[0]
    return one_line(redact_secrets(cleaned), 300)


def _redact_query_pair(pair: str) -> str:
    key, sep, _value = pair.partition("=")
    return f"{key}=[redacted]" if sep and _SECRET_QUERY_KEY_RE.search(key) else pair


def json_text(value: object) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), default=str)
    except (TypeError, ValueError, RecursionError):
        return str(value)
