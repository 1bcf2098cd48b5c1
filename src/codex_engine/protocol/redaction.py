"""Which request and response header values are secrets, and hiding them wherever text is made
from headers: header mappings, log records, error messages. Pure functions, no I/O.

A header is a secret when its name looks like a credential (``Authorization``, ``*api-key*``,
``*token*``, ``Cookie`` ...) or, among the headers codex-engine sends, when it is not one of the
headers codex-engine itself sets: those come from a provider's ``http_headers`` /
``env_http_headers``, which exist to carry credentials.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Collection, Iterable, Mapping
from urllib.parse import quote, unquote

__all__ = [
    "MIN_SECRET_CHARS",
    "PLAIN_REQUEST_HEADERS",
    "REDACTED",
    "is_credential_header",
    "redact_header_line",
    "redact_headers",
    "redact_text",
    "redact_url",
    "request_secrets",
]

REDACTED = "[redacted]"

#: Shorter values are not scrubbed from free text: replacing every "1" or "eu" would mangle
#: messages, and a credential that short is not a credential.
MIN_SECRET_CHARS = 8

_CREDENTIAL_NAMES = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
# Names that contain a credential word but carry none (the WebSocket handshake nonce).
_NOT_CREDENTIALS = frozenset({"sec-websocket-key"})
_CREDENTIAL_WORDS = (
    "key",
    "token",
    "secret",
    "password",
    "passwd",
    "credential",
    "auth",
    "cookie",
    "signature",
)

#: Headers codex-engine (or the HTTP/WebSocket libraries) set itself whose values are not
#: secrets; any other header a request carries came from the provider's settings.
PLAIN_REQUEST_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "chatgpt-account-id",
        "connection",
        "content-encoding",
        "content-length",
        "content-type",
        "host",
        "openai-beta",
        "originator",
        "sec-websocket-extensions",
        "sec-websocket-key",
        "sec-websocket-version",
        "session-id",
        "session_id",
        "thread-id",
        "upgrade",
        "user-agent",
        "x-client-request-id",
        "x-codex-beta-features",
        "x-codex-turn-metadata",
        "x-codex-turn-state",
        "x-responsesapi-include-timing-metrics",
    }
)


def _normal(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def is_credential_header(name: str) -> bool:
    """Whether a header of this name carries a credential, judged by the name alone."""
    normal = _normal(name)
    if normal in _NOT_CREDENTIALS:
        return False
    return normal in _CREDENTIAL_NAMES or any(word in normal for word in _CREDENTIAL_WORDS)


def _is_secret_request_header(name: str) -> bool:
    return is_credential_header(name) or name.strip().lower() not in PLAIN_REQUEST_HEADERS


def request_secrets(headers: Mapping[str, str]) -> frozenset[str]:
    """The secret values among headers codex-engine is about to send.

    For ``Bearer <token>`` (any scheme) the bare token counts too, so it is found wherever it
    shows up alone.
    """
    secrets: set[str] = set()
    for name, value in headers.items():
        if not _is_secret_request_header(name):
            continue
        secrets.add(value)
        scheme, _, credential = value.strip().partition(" ")
        if credential and scheme.isalpha():
            secrets.add(credential.strip())
    return frozenset(s for s in secrets if len(s) >= MIN_SECRET_CHARS)


def redact_headers(
    headers: Mapping[str, str], *, secrets: Collection[str] = (), outgoing: bool = False
) -> dict[str, str]:
    """A copy safe to show: credential values replaced by :data:`REDACTED`.

    ``outgoing`` marks headers codex-engine sends, where every header it does not set itself is
    treated as a credential; values equal to one of ``secrets`` are hidden too.
    """
    shown: dict[str, str] = {}
    for name, value in headers.items():
        secret = _is_secret_request_header(name) if outgoing else is_credential_header(name)
        shown[name] = REDACTED if secret or value in secrets else value
    return shown


def _forms(secret: str) -> set[str]:
    """The ways a value shows up in text: as is, URL-encoded, escaped as in a repr or JSON,
    and each line of a multi-line value on its own."""
    forms = {
        secret,
        quote(secret, safe=""),
        secret.encode("unicode_escape").decode("ascii"),
        json.dumps(secret)[1:-1],
    }
    forms.update(line for line in secret.splitlines() if line.strip())
    return {form for form in forms if len(form) >= MIN_SECRET_CHARS}


@functools.lru_cache(maxsize=64)
def _all_forms(secrets: frozenset[str]) -> tuple[str, ...]:
    # Longest first, so a secret is not half-replaced by a shorter one it contains.
    forms: set[str] = set()
    for secret in secrets:
        if len(secret) >= MIN_SECRET_CHARS:
            forms |= _forms(secret)
    return tuple(sorted(forms, key=len, reverse=True))


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret (in any of its usual forms) hidden."""
    if not text:
        return text
    for form in _all_forms(frozenset(secrets)):
        if form in text:
            text = text.replace(form, REDACTED)
    return text


def redact_header_line(name: str, value: str, secrets: Collection[str] = ()) -> str:
    """The value to show on a ``name: value`` log line."""
    if is_credential_header(name) or value in secrets:
        return REDACTED
    return redact_text(value, secrets)


_USERINFO = re.compile(r"(?<=://)[^/@\s?#]+@")
_QUERY_PAIR = re.compile(r"([?&;])([^=&;#\s]+)=([^&;#\s]*)")


def redact_url(text: str) -> str:
    """``text`` with URL passwords and credential-named query values hidden."""
    text = _USERINFO.sub(f"{REDACTED}@", text)

    def pair(match: re.Match[str]) -> str:
        sep, key, value = match.groups()
        secret = is_credential_header(unquote(key))
        return f"{sep}{key}={REDACTED if secret and value else value}"

    return _QUERY_PAIR.sub(pair, text)
