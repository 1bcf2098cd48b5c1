"""JSON-RPC messages as the app-server speaks them: one JSON object per line, no ``jsonrpc`` field.

Pure code: :class:`LineFramer` turns bytes into lines, :func:`decode` turns a line into a message
(or a :class:`DecodeFailure` that says how to answer), :func:`encode` does the reverse.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

from codex_engine.errors import JsonRpcError  # defined in the one tree, importable from here

__all__ = [
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "MAX_DEPTH",
    "METHOD_NOT_FOUND",
    "OVERLOADED",
    "PARSE_ERROR",
    "DecodeFailure",
    "ErrorResponse",
    "JsonRpcError",
    "LineFramer",
    "Message",
    "Notification",
    "Request",
    "RequestId",
    "Response",
    "decode",
    "encode",
]

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
#: Server-defined: too many requests in flight on this connection; retry later.
OVERLOADED = -32001

RequestId = str | int

#: The deepest nesting of arrays and objects a message may have. serde_json, the reference's
#: parser, stops at 128 too; Python's own parser would hit its recursion limit near 1,000.
MAX_DEPTH = 128


class Request(msgspec.Struct, frozen=True, omit_defaults=True):
    id: RequestId
    method: str
    params: Any = None


class Notification(msgspec.Struct, frozen=True, omit_defaults=True):
    method: str
    params: Any = None
    #: Unix milliseconds; the app-server stamps every notification it sends (schema field).
    emitted_at_ms: int | None = msgspec.field(default=None, name="emittedAtMs")


class Response(msgspec.Struct, frozen=True):
    id: RequestId
    result: Any


class ErrorResponse(msgspec.Struct, frozen=True):
    id: RequestId
    code: int
    message: str
    data: Any = None


Message = Request | Notification | Response | ErrorResponse


class DecodeFailure(msgspec.Struct, frozen=True):
    """A line that is not a valid message; answer with ``code`` when ``id`` could be recovered."""

    code: int
    message: str
    id: RequestId | None = None


def _is_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


# Used only on lines that are not valid JSON, to answer the request the client is waiting on.
_ID_IN_BROKEN_JSON = re.compile(r'"id"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)\s*[,}]')


def _salvage_id(text: str) -> RequestId | None:
    match = _ID_IN_BROKEN_JSON.search(text)
    if match is None:
        return None
    try:
        value = json.loads(match.group(1))
    except ValueError:
        return None
    return value if _is_id(value) else None


# A string (skipped whole, escapes included) or one bracket.
_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _nesting_depth(text: str) -> int:
    depth = deepest = 0
    for match in _STRUCTURE.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in ("]", "}"):
            depth -= 1
    return deepest


def decode(line: bytes | str) -> Message | DecodeFailure:
    """One line (without its newline) as a message, or why it is not one."""
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
    except UnicodeDecodeError as exc:
        return DecodeFailure(PARSE_ERROR, f"message is not valid UTF-8 (byte {exc.start})")
    # Counting brackets is cheap; only a line with many of them is scanned for its depth.
    if text.count("[") + text.count("{") > MAX_DEPTH and _nesting_depth(text) > MAX_DEPTH:
        return _too_deep(text)
    try:
        value = json.loads(text)
    except RecursionError:
        return _too_deep(text)
    except ValueError as exc:
        return DecodeFailure(PARSE_ERROR, f"message is not valid JSON: {exc}", _salvage_id(text))
    if not isinstance(value, dict):
        return DecodeFailure(INVALID_REQUEST, "message must be a JSON object")
    raw_id = value.get("id")
    has_id = "id" in value and raw_id is not None
    if has_id and not _is_id(raw_id):
        return DecodeFailure(INVALID_REQUEST, "`id` must be a string or an integer")
    msg_id: RequestId | None = raw_id if has_id else None
    if "method" in value:
        method = value["method"]
        if not isinstance(method, str) or not method:
            return DecodeFailure(INVALID_REQUEST, "`method` must be a non-empty string", msg_id)
        params = value.get("params")
        if msg_id is None:
            return Notification(method, params)
        return Request(msg_id, method, params)
    if msg_id is None:
        return DecodeFailure(INVALID_REQUEST, "message has neither `method` nor `id`")
    if "result" in value:
        return Response(msg_id, value["result"])
    error = value.get("error")
    if isinstance(error, dict) and isinstance(error.get("code"), int):
        return ErrorResponse(
            msg_id, int(error["code"]), str(error.get("message", "")), error.get("data")
        )
    return DecodeFailure(
        INVALID_REQUEST, "message has an `id` but no `method`, `result` or `error`", msg_id
    )


def _too_deep(text: str) -> DecodeFailure:
    return DecodeFailure(
        PARSE_ERROR,
        f"message is nested deeper than {MAX_DEPTH} levels of arrays and objects",
        _salvage_id(text),
    )


#: One encoder for every outgoing line: a message is encoded once, straight from its fields
#: (Request, Notification and Response are laid out as their wire objects).
_encoder = msgspec.json.Encoder()


def encode(message: Message) -> bytes:
    """The message as one line of compact JSON (UTF-8, not ASCII-escaped), newline included."""
    if isinstance(message, ErrorResponse):
        error: dict[str, Any] = {"code": message.code, "message": message.message}
        if message.data is not None:
            error["data"] = message.data
        return _encoder.encode({"id": message.id, "error": error}) + b"\n"
    return _encoder.encode(message) + b"\n"


class LineFramer(msgspec.Struct):
    """Splits a byte stream into lines; a line longer than ``max_line_bytes`` becomes ``None``.

    The overlong line is skipped up to its newline without being kept in memory, so a client
    that sends a huge message gets an error and the connection stays usable.
    """

    max_line_bytes: int = 64 * 1024 * 1024
    _buffer: bytearray = msgspec.field(default_factory=bytearray)
    _discarding: bool = False

    def feed(self, data: bytes) -> list[bytes | None]:
        lines: list[bytes | None] = []
        start = 0
        while True:
            newline = data.find(b"\n", start)
            if newline < 0:
                break
            chunk = data[start:newline]
            start = newline + 1
            if self._discarding:
                self._discarding = False
                lines.append(None)
                continue
            self._buffer += chunk
            if len(self._buffer) > self.max_line_bytes:
                lines.append(None)
            else:
                line = bytes(self._buffer).rstrip(b"\r")
                if line.strip():
                    lines.append(line)
            self._buffer.clear()
        rest = data[start:]
        if not self._discarding:
            self._buffer += rest
            if len(self._buffer) > self.max_line_bytes:
                self._buffer.clear()
                self._discarding = True
        return lines

    def at_eof(self) -> list[bytes | None]:
        """The last line when the stream ended without a newline."""
        if self._discarding:
            self._discarding = False
            return [None]
        line = bytes(self._buffer).strip()
        self._buffer.clear()
        return [line] if line else []
