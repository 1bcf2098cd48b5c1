"""Responses API conversation items (input and output), as pydantic models that keep unknown fields.

An item of a type this module does not know parses as :class:`UnknownItem`, so a newer server never
breaks a session and the item round-trips unchanged into the next request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Tag, TypeAdapter

__all__ = [
    "ContentPart",
    "CustomToolCall",
    "CustomToolCallOutput",
    "DeliveredToolOutput",
    "FunctionCall",
    "FunctionCallOutput",
    "Message",
    "Reasoning",
    "ResponseItem",
    "UnknownItem",
    "WebSearchCall",
    "assistant_text",
    "item_to_json",
    "parse_item",
    "user_message",
]


class _Open(BaseModel):
    """Base for wire models: unknown fields are kept and serialized back."""

    model_config = ConfigDict(extra="allow", frozen=True)


class ContentPart(_Open):
    """One part of a message: ``input_text``, ``output_text``, ``input_image``, ..."""

    type: str
    text: str | None = None


class Message(_Open):
    type: Literal["message"] = "message"
    id: str | None = None
    role: str
    content: list[ContentPart]
    status: str | None = None

    def text(self) -> str:
        """The concatenated text of every text-bearing part."""
        return "".join(p.text for p in self.content if p.text is not None)


class FunctionCall(_Open):
    type: Literal["function_call"] = "function_call"
    id: str | None = None
    name: str
    arguments: str
    call_id: str
    status: str | None = None


class FunctionCallOutput(_Open):
    type: Literal["function_call_output"] = "function_call_output"
    id: str | None = None
    call_id: str
    output: Any


class CustomToolCall(_Open):
    """A call to a custom (freeform) tool: the model writes ``input`` as raw text in the tool's
    grammar instead of JSON arguments."""

    type: Literal["custom_tool_call"] = "custom_tool_call"
    id: str | None = None
    name: str
    input: str
    call_id: str
    status: str | None = None


class CustomToolCallOutput(_Open):
    type: Literal["custom_tool_call_output"] = "custom_tool_call_output"
    id: str | None = None
    call_id: str
    output: Any


class DeliveredToolOutput(_Open):
    """A tool's output delivered from outside the turn (an app-server ``toolOutput``).

    It answers no call: it has no ``call_id`` and names the tool instead, so the model reads it
    with tool-level authority rather than as something the user said.
    """

    type: Literal["function_call_output"] = "function_call_output"
    id: str | None = None
    name: str
    namespace: str | None = None
    output: Any


class Reasoning(_Open):
    type: Literal["reasoning"] = "reasoning"
    id: str | None = None
    summary: list[dict[str, Any]] = []
    content: list[dict[str, Any]] | None = None
    encrypted_content: str | None = None


class WebSearchCall(_Open):
    type: Literal["web_search_call"] = "web_search_call"
    id: str | None = None
    status: str | None = None
    action: dict[str, Any] | None = None


class UnknownItem(_Open):
    """Any item type this version does not model; kept verbatim."""

    type: str


_KNOWN = {
    "message",
    "function_call",
    "function_call_output",
    "custom_tool_call",
    "custom_tool_call_output",
    "reasoning",
    "web_search_call",
}


def _tag(value: Any) -> str:
    if isinstance(value, dict):
        kind, call_id = value.get("type"), value.get("call_id")
    else:
        kind, call_id = getattr(value, "type", None), getattr(value, "call_id", None)
    if kind == "function_call_output" and call_id is None:
        return "delivered_output"
    return kind if kind in _KNOWN else "unknown"


ResponseItem = Annotated[
    Annotated[Message, Tag("message")]
    | Annotated[FunctionCall, Tag("function_call")]
    | Annotated[FunctionCallOutput, Tag("function_call_output")]
    | Annotated[CustomToolCall, Tag("custom_tool_call")]
    | Annotated[CustomToolCallOutput, Tag("custom_tool_call_output")]
    | Annotated[DeliveredToolOutput, Tag("delivered_output")]
    | Annotated[Reasoning, Tag("reasoning")]
    | Annotated[WebSearchCall, Tag("web_search_call")]
    | Annotated[UnknownItem, Tag("unknown")],
    Discriminator(_tag),
]

_ADAPTER: TypeAdapter[ResponseItem] = TypeAdapter(ResponseItem)


def parse_item(data: Any) -> ResponseItem:
    """Parse one item from its JSON value; raises ``pydantic.ValidationError`` if malformed."""
    return _ADAPTER.validate_python(data)


def item_to_json(item: ResponseItem) -> dict[str, Any]:
    """The item as the JSON object sent on the wire (``None`` fields left out)."""
    return item.model_dump(mode="json", exclude_none=True)


def user_message(text: str, *, attachments: Sequence[ContentPart] = ()) -> Message:
    """A user message: the attachments (images and their labels) first, then the text."""
    return Message(role="user", content=[*attachments, ContentPart(type="input_text", text=text)])


def local_image_parts(number: int, label_path: str, image_url: str) -> list[ContentPart]:
    """A local image as the reference sends one: an opening label naming it, the
    ``input_image``, and a closing label."""
    return [
        ContentPart(type="input_text", text=f'<image name=[Image #{number}] path="{label_path}">'),
        ContentPart.model_validate({"type": "input_image", "image_url": image_url}),
        ContentPart(type="input_text", text="</image>"),
    ]


def assistant_text(item: ResponseItem) -> str | None:
    """The text of an assistant message, or ``None`` for any other item."""
    if isinstance(item, Message) and item.role == "assistant":
        return item.text()
    return None
