"""A `Reply` rendered to the Responses API events it streams, numbered as the real server does.

Pure code: no sockets, no clock.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from codex_engine.emulator.model import scripted_reply
from codex_engine.emulator.script import Event, RawEvent, Reply, ReplyContext

__all__ = ["output_items", "oversized_payload", "render_events"]

JsonDict = dict[str, Any]


def oversized_payload(size: int) -> str:
    """`size` ASCII characters in a repeating, position-revealing pattern (corruption shows)."""
    alphabet = string.ascii_letters + string.digits
    reps = size // len(alphabet) + 1
    return (alphabet * reps)[:size]


class _Builder:
    """Accumulates events for one response and numbers them."""

    def __init__(
        self, ctx: ReplyContext, response_id: str | None, served_model: str | None = None
    ) -> None:
        self.ctx = ctx
        self.served_model = served_model
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
            "model": self.served_model or self.ctx.model,
            "output": list(self.output) if status != "in_progress" else [],
            **extra,
        }

    def start(self, *, in_progress: bool = True) -> None:
        created = self.response("in_progress")
        if self.served_model is not None:
            # How the real server tells a WebSocket client what an HTTP header would say.
            created["headers"] = {"OpenAI-Model": self.served_model}
        self.emit("response.created", response=created)
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

    def reasoning(self, summary: Sequence[str], raw: Sequence[str]) -> None:
        """A reasoning item: each summary part (part added, deltas, done), then the raw text."""
        item_id = self.ctx.ids.next("rs")
        index = len(self.output)
        item: JsonDict = {"id": item_id, "type": "reasoning", "summary": []}
        self.emit("response.output_item.added", output_index=index, item=item)
        where = {"item_id": item_id, "output_index": index}
        for number, text in enumerate(summary):
            at = {**where, "summary_index": number}
            empty = {"type": "summary_text", "text": ""}
            self.emit("response.reasoning_summary_part.added", **at, part=empty)
            for delta in _words(text):
                self.emit("response.reasoning_summary_text.delta", **at, delta=delta)
            self.emit("response.reasoning_summary_text.done", **at, text=text)
            part = {"type": "summary_text", "text": text}
            self.emit("response.reasoning_summary_part.done", **at, part=part)
        for number, text in enumerate(raw):
            at = {**where, "content_index": number}
            for delta in _words(text):
                self.emit("response.reasoning_text.delta", **at, delta=delta)
            self.emit("response.reasoning_text.done", **at, text=text)
        done: JsonDict = {
            **item,
            "summary": [{"type": "summary_text", "text": text} for text in summary],
        }
        if raw:
            done["content"] = [{"type": "reasoning_text", "text": text} for text in raw]
        self.output.append(done)
        self.emit("response.output_item.done", output_index=index, item=done)

    def function_call(self, name: str, arguments: str, call_id: str | None) -> None:
        self._call("function_call", "fc", "arguments", name, arguments, call_id)

    def custom_tool_call(self, name: str, tool_input: str, call_id: str | None) -> None:
        self._call("custom_tool_call", "ctc", "input", name, tool_input, call_id)

    def _call(
        self, kind: str, id_prefix: str, field: str, name: str, payload: str, call_id: str | None
    ) -> None:
        """A function call (JSON ``arguments``) or a custom tool call (raw ``input``), its
        payload streamed in deltas as the API streams it."""
        item_id = self.ctx.ids.next(id_prefix)
        index = len(self.output)
        item: JsonDict = {
            "id": item_id,
            "type": kind,
            "status": "in_progress",
            "call_id": call_id or self.ctx.ids.next("call"),
            "name": name,
            field: "",
        }
        event = (
            "response.function_call_arguments"
            if kind == "function_call"
            else ("response.custom_tool_call_input")
        )
        self.emit("response.output_item.added", output_index=index, item=item)
        for chunk in _chunks(payload, 16):
            self.emit(f"{event}.delta", item_id=item_id, output_index=index, delta=chunk)
        self.emit(f"{event}.done", item_id=item_id, output_index=index, **{field: payload})
        done = {**item, "status": "completed", field: payload}
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


def render_events(reply: Reply, ctx: ReplyContext) -> list[Event]:
    """The events a streaming reply sends, in order. `status` replies have none."""
    if reply.kind == "status":
        return []
    if reply.kind == "scripted":
        inner = scripted_reply(ctx.body)
        return render_events(replace(inner, oversized_event_bytes=reply.oversized_event_bytes), ctx)
    oversized = reply.oversized_event_bytes
    if reply.kind == "events":
        events: list[Event] = [
            event if isinstance(event, RawEvent) else dict(event) for event in reply.event_list
        ]
        if oversized:
            events.insert(1 if events else 0, _standalone_delta(ctx, oversized))
        return events

    b = _Builder(ctx, reply.response_id, reply.served_model)
    b.start(in_progress=reply.kind not in ("failed", "empty"))
    if reply.kind == "failed":
        b.emit("response.failed", response=b.response("failed", error=dict(reply.error or {})))
    elif reply.kind == "empty":
        b.complete(reply.usage, 0)
    elif reply.kind == "text":
        deltas = _words(reply.text_value)
        if oversized:
            deltas.insert(0, oversized_payload(oversized))
        if reply.reasoning_summary or reply.reasoning_text:
            b.reasoning(reply.reasoning_summary, reply.reasoning_text)
        b.message(deltas)
        b.complete(reply.usage, len(reply.text_value.split()))
    elif reply.kind == "function_call":
        b.function_call(reply.call_name, reply.call_arguments, reply.call_id)
        b.complete(reply.usage, max(1, len(reply.call_arguments) // 4))
    elif reply.kind == "custom_tool_call":
        b.custom_tool_call(reply.call_name, reply.call_arguments, reply.call_id)
        b.complete(reply.usage, max(1, len(reply.call_arguments) // 4))
    built = b.events
    if oversized and reply.kind != "text":
        built.insert(1, _standalone_delta(ctx, oversized))
    for number, event in enumerate(built):
        event["sequence_number"] = number
    return list(built)


def _standalone_delta(ctx: ReplyContext, size: int) -> JsonDict:
    return {
        "type": "response.output_text.delta",
        "item_id": ctx.ids.next("msg"),
        "output_index": 0,
        "content_index": 0,
        "delta": oversized_payload(size),
    }


def output_items(events: Sequence[Event]) -> list[JsonDict]:
    """The items a streamed response produced: `response.completed`'s output, or else the items
    of its `response.output_item.done` events (hand-written event lists often omit the former)."""
    objects = [event for event in events if isinstance(event, dict)]
    done = [
        dict(event["item"])
        for event in objects
        if event.get("type") == "response.output_item.done" and isinstance(event.get("item"), dict)
    ]
    for event in objects:
        response = event.get("response")
        if event.get("type") == "response.completed" and isinstance(response, dict):
            output = response.get("output")
            if isinstance(output, list) and output:
                return [dict(item) for item in output if isinstance(item, dict)]
    return done
