"""What the emulator answers: scripted `Reply` values and the built-in model, rendered to events.

Pure code: no sockets, no clock. The server decides *when* and *how* the events travel.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypedDict, Unpack

__all__ = [
    "HandshakeReply",
    "IdAllocator",
    "Reply",
    "ReplyContext",
    "StreamOptions",
    "default_error_body",
    "default_models",
    "oversized_payload",
    "render_events",
    "scripted_reply",
]

JsonDict = dict[str, Any]
DropMode = Literal["close", "abort"]


class StreamOptions(TypedDict, total=False):
    """Options accepted by every streaming `Reply` constructor."""

    drop_after: int | None
    drop_mode: DropMode
    ws_close_code: int
    first_event_delay: float | None
    event_delay: float | None
    oversized_event_bytes: int | None
    headers: Mapping[str, str] | None
    turn_state: str | None


class IdAllocator:
    """Per-emulator counters behind `resp_<n>`, `msg_<n>`, `fc_<n>`, `call_<n>`, `req_<n>` ids."""

    def __init__(self) -> None:
        self._counters: dict[str, int] = {}

    def next(self, prefix: str) -> str:
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        return f"{prefix}_{n}"


@dataclass(frozen=True)
class ReplyContext:
    """The request a reply answers, plus what rendering needs from the emulator."""

    body: Mapping[str, Any]
    ids: IdAllocator
    created_at: int = 0

    @property
    def model(self) -> str:
        model = self.body.get("model")
        return model if isinstance(model, str) else "unknown"

    def input_tokens(self) -> int:
        return max(1, len(json.dumps(self.body, ensure_ascii=False)) // 4)


ReplyKind = Literal["status", "text", "function_call", "events", "failed", "empty", "scripted"]


@dataclass(frozen=True)
class Reply:
    """One scripted answer to one model request (HTTP POST or WebSocket `response.create`).

    Build with the classmethods; the same value works for both transports. On WebSocket a
    `status` reply becomes an error frame and `headers`/`turn_state` of streaming replies are
    not sent (there are no per-response headers on a socket).
    """

    kind: ReplyKind
    status_code: int = 200
    body: Mapping[str, Any] | None = None
    retry_after: float | None = None
    retry_after_ms: int | None = None
    text_value: str = ""
    usage: Mapping[str, Any] | None = None
    response_id: str | None = None
    call_name: str = ""
    call_arguments: str = ""
    call_id: str | None = None
    event_list: tuple[Mapping[str, Any], ...] = ()
    error: Mapping[str, Any] | None = None
    drop_after: int | None = None
    drop_mode: DropMode = "close"
    ws_close_code: int = 1011
    first_event_delay: float | None = None
    event_delay: float | None = None
    oversized_event_bytes: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    turn_state: str | None = None

    @classmethod
    def status(
        cls,
        code: int,
        *,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_after: float | None = None,
        retry_after_ms: int | None = None,
    ) -> Reply:
        """A non-streaming error answer; `body` defaults to an OpenAI-style error for `code`."""
        return cls(
            kind="status",
            status_code=code,
            body=body,
            headers=dict(headers or {}),
            retry_after=retry_after,
            retry_after_ms=retry_after_ms,
        )

    @classmethod
    def text(
        cls,
        text: str,
        *,
        usage: Mapping[str, Any] | None = None,
        response_id: str | None = None,
        **options: Unpack[StreamOptions],
    ) -> Reply:
        """An assistant message streamed word by word, then `response.completed`."""
        reply = cls(kind="text", text_value=text, usage=usage, response_id=response_id)
        return reply.with_options(**options)

    @classmethod
    def function_call(
        cls,
        name: str,
        arguments: Mapping[str, Any] | str,
        call_id: str | None = None,
        *,
        usage: Mapping[str, Any] | None = None,
        response_id: str | None = None,
        **options: Unpack[StreamOptions],
    ) -> Reply:
        """One `function_call` output item; dict arguments are JSON-encoded."""
        args = arguments if isinstance(arguments, str) else json.dumps(dict(arguments))
        reply = cls(
            kind="function_call",
            call_name=name,
            call_arguments=args,
            call_id=call_id,
            usage=usage,
            response_id=response_id,
        )
        return reply.with_options(**options)

    @classmethod
    def events(cls, events: Sequence[Mapping[str, Any]], **options: Unpack[StreamOptions]) -> Reply:
        """Exactly these events, untouched (no sequence numbers are added)."""
        return cls(kind="events", event_list=tuple(events)).with_options(**options)

    @classmethod
    def failed(
        cls,
        error: Mapping[str, Any],
        *,
        response_id: str | None = None,
        **options: Unpack[StreamOptions],
    ) -> Reply:
        """`response.created` then `response.failed` carrying `response.error = error`."""
        reply = cls(kind="failed", error=error, response_id=response_id)
        return reply.with_options(**options)

    @classmethod
    def empty(cls, *, response_id: str | None = None, **options: Unpack[StreamOptions]) -> Reply:
        """`response.created` then `response.completed` with no output (a prewarm answer)."""
        return cls(kind="empty", response_id=response_id).with_options(**options)

    @classmethod
    def scripted(cls, **options: Unpack[StreamOptions]) -> Reply:
        """What the built-in model would answer, with stream options (delays, drops...)."""
        return cls(kind="scripted").with_options(**options)

    def with_options(self, **options: Unpack[StreamOptions]) -> Reply:
        """A copy with stream options changed; `headers` are copied."""
        values: dict[str, Any] = dict(options)
        if "headers" in values:
            values["headers"] = dict(values["headers"] or {})
        return replace(self, **values)

    @property
    def is_status(self) -> bool:
        return self.kind == "status"


@dataclass(frozen=True)
class HandshakeReply:
    """How to answer one WebSocket upgrade attempt: accept (optionally late) or refuse."""

    status: int | None = None
    delay: float | None = None
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    turn_state: str | None = None

    @classmethod
    def accept(
        cls,
        *,
        delay: float | None = None,
        turn_state: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HandshakeReply:
        return cls(delay=delay, turn_state=turn_state, headers=dict(headers or {}))

    @classmethod
    def refuse(
        cls,
        status: int,
        *,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        delay: float | None = None,
    ) -> HandshakeReply:
        return cls(status=status, body=body, headers=dict(headers or {}), delay=delay)


# --- errors -------------------------------------------------------------------------------------

_DEFAULT_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to use this endpoint.", "permission_error", None),
    404: ("Not found.", "invalid_request_error", None),
    426: ("Upgrade required.", "invalid_request_error", None),
    429: (
        "Rate limit reached for requests. Please try again in 1.5s.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: (
        "The server had an error while processing your request.",
        "server_error",
        None,
    ),
    503: ("The server is overloaded. Please retry later.", "server_error", "server_is_overloaded"),
}


def default_error_body(status: int, message: str | None = None) -> JsonDict:
    """An OpenAI-style `{"error": {...}}` body for `status`."""
    default_message, kind, code = _DEFAULT_ERRORS.get(
        status, (f"The server answered with status {status}.", "server_error", None)
    )
    return {"error": {"message": message or default_message, "type": kind, "code": code}}


# --- rendering ----------------------------------------------------------------------------------


def oversized_payload(size: int) -> str:
    """`size` ASCII characters in a repeating, position-revealing pattern (corruption shows)."""
    alphabet = string.ascii_letters + string.digits
    reps = size // len(alphabet) + 1
    return (alphabet * reps)[:size]


class _Builder:
    """Accumulates events for one response and numbers them."""

    def __init__(self, ctx: ReplyContext, response_id: str | None) -> None:
        self.ctx = ctx
        self.response_id = response_id or ctx.ids.next("resp")
        self.events: list[JsonDict] = []
        self.output: list[JsonDict] = []

    def emit(self, event_type: str, **fields: Any) -> None:
        self.events.append({"type": event_type, "sequence_number": len(self.events), **fields})

    def response(self, status: str, **extra: Any) -> JsonDict:
        return {
            "id": self.response_id,
            "object": "response",
            "created_at": self.ctx.created_at,
            "status": status,
            "model": self.ctx.model,
            "output": list(self.output) if status != "in_progress" else [],
            **extra,
        }

    def start(self, *, in_progress: bool = True) -> None:
        self.emit("response.created", response=self.response("in_progress"))
        if in_progress:
            self.emit("response.in_progress", response=self.response("in_progress"))

    def message(self, deltas: Sequence[str]) -> None:
        item_id = self.ctx.ids.next("msg")
        index = len(self.output)
        text = "".join(deltas)
        item: JsonDict = {
            "id": item_id,
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        self.emit("response.output_item.added", output_index=index, item=item)
        where = {"item_id": item_id, "output_index": index, "content_index": 0}
        empty_part = {"type": "output_text", "text": "", "annotations": []}
        self.emit("response.content_part.added", **where, part=empty_part)
        for delta in deltas:
            self.emit("response.output_text.delta", **where, delta=delta, logprobs=[])
        self.emit("response.output_text.done", **where, text=text, logprobs=[])
        part = {"type": "output_text", "text": text, "annotations": []}
        self.emit("response.content_part.done", **where, part=part)
        done = {**item, "status": "completed", "content": [part]}
        self.output.append(done)
        self.emit("response.output_item.done", output_index=index, item=done)

    def function_call(self, name: str, arguments: str, call_id: str | None) -> None:
        item_id = self.ctx.ids.next("fc")
        index = len(self.output)
        item: JsonDict = {
            "id": item_id,
            "type": "function_call",
            "status": "in_progress",
            "call_id": call_id or self.ctx.ids.next("call"),
            "name": name,
            "arguments": "",
        }
        self.emit("response.output_item.added", output_index=index, item=item)
        for chunk in _chunks(arguments, 16):
            self.emit(
                "response.function_call_arguments.delta",
                item_id=item_id,
                output_index=index,
                delta=chunk,
            )
        self.emit(
            "response.function_call_arguments.done",
            item_id=item_id,
            output_index=index,
            arguments=arguments,
        )
        done = {**item, "status": "completed", "arguments": arguments}
        self.output.append(done)
        self.emit("response.output_item.done", output_index=index, item=done)

    def complete(self, usage: Mapping[str, Any] | None, output_words: int) -> None:
        self.emit(
            "response.completed",
            response=self.response("completed", usage=dict(usage or self._usage(output_words))),
        )

    def _usage(self, output_words: int) -> JsonDict:
        input_tokens = self.ctx.input_tokens()
        return {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_words,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_words,
        }


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _words(text: str) -> list[str]:
    # Each piece keeps its trailing whitespace so the deltas concatenate to the exact text.
    return re.findall(r"\s*\S+\s*", text) or [text]


def render_events(reply: Reply, ctx: ReplyContext) -> list[JsonDict]:
    """The events a streaming reply sends, in order. `status` replies have none."""
    if reply.kind == "status":
        return []
    if reply.kind == "scripted":
        inner = scripted_reply(ctx.body)
        return render_events(replace(inner, oversized_event_bytes=reply.oversized_event_bytes), ctx)
    oversized = reply.oversized_event_bytes
    if reply.kind == "events":
        events = [dict(event) for event in reply.event_list]
        if oversized:
            events.insert(1 if events else 0, _standalone_delta(ctx, oversized))
        return events

    b = _Builder(ctx, reply.response_id)
    b.start(in_progress=reply.kind not in ("failed", "empty"))
    if reply.kind == "failed":
        b.emit("response.failed", response=b.response("failed", error=dict(reply.error or {})))
    elif reply.kind == "empty":
        b.complete(reply.usage, 0)
    elif reply.kind == "text":
        deltas = _words(reply.text_value)
        if oversized:
            deltas.insert(0, oversized_payload(oversized))
        b.message(deltas)
        b.complete(reply.usage, len(reply.text_value.split()))
    elif reply.kind == "function_call":
        b.function_call(reply.call_name, reply.call_arguments, reply.call_id)
        b.complete(reply.usage, max(1, len(reply.call_arguments) // 4))
    events = b.events
    if oversized and reply.kind != "text":
        events.insert(1, _standalone_delta(ctx, oversized))
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return events


def _standalone_delta(ctx: ReplyContext, size: int) -> JsonDict:
    return {
        "type": "response.output_text.delta",
        "item_id": ctx.ids.next("msg"),
        "output_index": 0,
        "content_index": 0,
        "delta": oversized_payload(size),
    }


# --- the built-in model -------------------------------------------------------------------------

_RUN_PATTERNS = (
    re.compile(r"\brun\s+`([^`\n]+)`", re.IGNORECASE),
    re.compile(r"\brun:\s*(\S[^\n]*)", re.IGNORECASE),
    re.compile(r"^\s*\$\s+(\S[^\n]*)", re.MULTILINE),
)
_SUMMARY_LINES = 20


def scripted_reply(body: Mapping[str, Any]) -> Reply:
    """The built-in model's deterministic answer to a request body.

    After a tool result it summarises the output; when the user asks to run a command and a
    `shell` (or `exec_command`) function tool is offered it calls it; otherwise it echoes.
    `generate: false` (a prewarm request) completes with no output.
    """
    if body.get("generate") is False:
        return Reply.empty()
    items = body.get("input")
    items = items if isinstance(items, list) else []
    last = items[-1] if items else None
    if isinstance(last, dict) and last.get("type") in (
        "function_call_output",
        "custom_tool_call_output",
    ):
        output = _output_text(last.get("output"))
        lines = output.splitlines()
        shown = "\n".join(lines[:_SUMMARY_LINES])
        more = "\n…" if len(lines) > _SUMMARY_LINES else ""
        return Reply.text(f"The command finished. Its output was:\n{shown}{more}")
    said = _last_user_text(items)
    command = _requested_command(said)
    tools = _function_tool_names(body.get("tools"))
    if command is not None:
        if "shell" in tools:
            return Reply.function_call("shell", {"command": ["bash", "-lc", command]})
        if "exec_command" in tools:
            return Reply.function_call("exec_command", {"cmd": command})
    if said.strip():
        return Reply.text(
            f"Hello from the codex-engine emulator, a scripted stand-in for the model. "
            f"You said: {said.strip()}"
        )
    return Reply.text("Hello from the codex-engine emulator. What would you like to do?")


def _output_text(output: Any) -> str:
    if isinstance(output, str):
        # codex-engine's shell tool answers {"output": ..., "metadata": {...}}; show the output.
        if output.startswith("{"):
            try:
                decoded = json.loads(output)
            except ValueError:
                return output
            if isinstance(decoded, dict) and isinstance(decoded.get("output"), str):
                return str(decoded["output"])
        return output
    if isinstance(output, list):
        return "".join(part.get("text", "") for part in output if isinstance(part, dict))
    if isinstance(output, dict):
        return _output_text(output.get("content"))
    return ""


def _last_user_text(items: Sequence[Any]) -> str:
    for item in reversed(items):
        if not isinstance(item, dict) or item.get("role") != "user":
            continue
        if item.get("type", "message") != "message":
            continue
        content = item.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "\n".join(
                part.get("text", "")
                for part in content
                if isinstance(part, dict) and part.get("type") == "input_text"
            )
    return ""


def _requested_command(text: str) -> str | None:
    for pattern in _RUN_PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(1).strip()
    return None


def _function_tool_names(tools: Any) -> set[str]:
    if not isinstance(tools, list):
        return set()
    return {
        tool["name"]
        for tool in tools
        if isinstance(tool, dict) and tool.get("type") == "function" and "name" in tool
    }


# --- model catalog ------------------------------------------------------------------------------


def default_models() -> list[JsonDict]:
    """The `models` entries `GET /v1/models` serves (ModelInfo shape, SPEC §10)."""
    levels = [
        {"effort": "low", "description": "Fast answers"},
        {"effort": "medium", "description": "Balanced"},
        {"effort": "high", "description": "Thorough"},
    ]
    common: JsonDict = {
        "default_reasoning_level": "medium",
        "supported_reasoning_levels": levels,
        "shell_type": "default",
        "visibility": "list",
        "supported_in_api": True,
        "base_instructions": "",
        "supports_reasoning_summaries": True,
        "support_verbosity": False,
        "truncation_policy": {"mode": "tokens", "limit": 10000},
        "supports_parallel_tool_calls": True,
        "context_window": 272000,
        "effective_context_window_percent": 95,
        "experimental_supported_tools": [],
        "input_modalities": ["text", "image"],
        "prefer_websockets": False,
    }
    return [
        {
            "slug": "gpt-5.1-codex",
            "display_name": "gpt-5.1-codex",
            "description": "Emulated coding model.",
            "priority": 1,
            **common,
        },
        {
            "slug": "gpt-5.1-codex-mini",
            "display_name": "gpt-5.1-codex-mini",
            "description": "Emulated small coding model.",
            "priority": 2,
            **common,
        },
    ]
