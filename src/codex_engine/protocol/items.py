"""Responses API conversation items (input and output), as msgspec Structs that keep unknown fields.

An item of a type this module does not know parses as :class:`UnknownItem`, so a newer server never
breaks a session and the item round-trips unchanged into the next request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import msgspec

__all__ = [
    "ContentPart",
    "CustomToolCall",
    "CustomToolCallOutput",
    "DeliveredToolOutput",
    "FunctionCall",
    "FunctionCallOutput",
    "ItemError",
    "Message",
    "Reasoning",
    "ResponseItem",
    "UnknownItem",
    "WebSearchCall",
    "assistant_text",
    "image_part",
    "item_to_json",
    "local_image_parts",
    "parse_item",
    "user_message",
]

#: What :func:`parse_item` raises for a malformed item (a ``ValueError``; its message names the
#: offending member, e.g. ``Expected `str`, got `int` - at `$.call_id```).
ItemError = msgspec.ValidationError

# The name the members a class does not model are decoded under; it is never a wire member's
# name because ``_build`` files every wire member it does not model under ``extra`` itself.
_EXTRA_NAME = "+extra"


class _Open(msgspec.Struct, frozen=True, kw_only=True, repr_omit_defaults=True):
    """Base for wire items: the members a class does not model are kept in ``extra`` (they
    count for equality, as they are part of the item) and written back by :func:`item_to_json`."""

    extra: dict[str, Any] = msgspec.field(default_factory=dict, name=_EXTRA_NAME)

    def __hash__(self) -> int:
        # As the pydantic models hashed: by the modelled fields (a list among them refuses);
        # items equal in every member still hash equal.
        fields = self.__struct_fields__
        return hash((type(self), *(getattr(self, name) for name in fields if name != "extra")))


class ContentPart(_Open, frozen=True, kw_only=True):
    """One part of a message: ``input_text``, ``output_text``, ``input_image``, ..."""

    type: str
    text: str | None = None


class Message(_Open, frozen=True, kw_only=True):
    type: Literal["message"] = "message"
    id: str | None = None
    role: str
    content: list[ContentPart]
    status: str | None = None

    def text(self) -> str:
        """The concatenated text of every text-bearing part."""
        return "".join(p.text for p in self.content if p.text is not None)


class FunctionCall(_Open, frozen=True, kw_only=True):
    type: Literal["function_call"] = "function_call"
    id: str | None = None
    name: str
    arguments: str
    call_id: str
    status: str | None = None


class FunctionCallOutput(_Open, frozen=True, kw_only=True):
    type: Literal["function_call_output"] = "function_call_output"
    id: str | None = None
    call_id: str
    output: Any


class CustomToolCall(_Open, frozen=True, kw_only=True):
    """A call to a custom (freeform) tool: the model writes ``input`` as raw text in the tool's
    grammar instead of JSON arguments."""

    type: Literal["custom_tool_call"] = "custom_tool_call"
    id: str | None = None
    name: str
    input: str
    call_id: str
    status: str | None = None


class CustomToolCallOutput(_Open, frozen=True, kw_only=True):
    type: Literal["custom_tool_call_output"] = "custom_tool_call_output"
    id: str | None = None
    call_id: str
    output: Any


class DeliveredToolOutput(_Open, frozen=True, kw_only=True):
    """A tool's output delivered from outside the turn (an app-server ``toolOutput``).

    It answers no call: it has no ``call_id`` and names the tool instead, so the model reads it
    with tool-level authority rather than as something the user said.
    """

    type: Literal["function_call_output"] = "function_call_output"
    id: str | None = None
    name: str
    namespace: str | None = None
    output: Any


class Reasoning(_Open, frozen=True, kw_only=True):
    type: Literal["reasoning"] = "reasoning"
    id: str | None = None
    summary: list[dict[str, Any]] = msgspec.field(default_factory=list)
    content: list[dict[str, Any]] | None = None
    encrypted_content: str | None = None


class WebSearchCall(_Open, frozen=True, kw_only=True):
    type: Literal["web_search_call"] = "web_search_call"
    id: str | None = None
    status: str | None = None
    action: dict[str, Any] | None = None


class UnknownItem(_Open, frozen=True, kw_only=True):
    """Any item type this version does not model; kept verbatim."""

    type: str


ResponseItem = (
    Message
    | FunctionCall
    | FunctionCallOutput
    | CustomToolCall
    | CustomToolCallOutput
    | DeliveredToolOutput
    | Reasoning
    | WebSearchCall
    | UnknownItem
)

_BY_TYPE: dict[str, type[_Open]] = {
    "message": Message,
    "function_call": FunctionCall,
    "function_call_output": FunctionCallOutput,
    "custom_tool_call": CustomToolCall,
    "custom_tool_call_output": CustomToolCallOutput,
    "reasoning": Reasoning,
    "web_search_call": WebSearchCall,
}

# Each class's modelled members, in declaration order (the order item_to_json writes them in).
_CLASSES: list[type[_Open]] = [*_BY_TYPE.values(), ContentPart, DeliveredToolOutput, UnknownItem]
_FIELDS: dict[type[_Open], tuple[str, ...]] = {
    cls: tuple(name for name in cls.__struct_fields__ if name != "extra") for cls in _CLASSES
}


def _build(cls: type[_Open], data: Mapping[Any, Any]) -> Any:
    """``cls`` from a JSON object: modelled members validated, the others kept in ``extra``."""
    names = _FIELDS[cls]
    known: dict[Any, Any] = {}
    extra: dict[Any, Any] = {}
    for key, value in data.items():
        if key in names:
            known[key] = value
        else:
            extra[key] = value
    if cls is Message:
        content = known.get("content")
        if isinstance(content, list):
            known["content"] = [_part(part, index) for index, part in enumerate(content)]
    if extra:
        known[_EXTRA_NAME] = extra
    return msgspec.convert(known, cls)


def _part(data: Any, index: int) -> Any:
    if not isinstance(data, Mapping):
        return data  # not a part: msgspec.convert reports it at its place in the message
    try:
        return _build(ContentPart, data)
    except msgspec.ValidationError as exc:
        message, here = str(exc), f"`$.content[{index}]"
        where = message.replace("`$", here, 1) if "`$" in message else f"{message} - at {here}`"
        raise ItemError(where) from None


_JSON_NAMES = {list: "array", tuple: "array", type(None): "null", str: "str", int: "int"}


def parse_item(data: Any) -> ResponseItem:
    """Parse one item from its JSON value; raises :data:`ItemError` if malformed."""
    if isinstance(data, _Open) and not isinstance(data, ContentPart):
        return data  # type: ignore[return-value]
    if not isinstance(data, Mapping):
        got = _JSON_NAMES.get(type(data), type(data).__name__)
        raise ItemError(f"Expected `object`, got `{got}`")
    kind = data.get("type")
    cls = _BY_TYPE.get(kind, UnknownItem) if isinstance(kind, str) else UnknownItem
    if cls is FunctionCallOutput and data.get("call_id") is None:
        cls = DeliveredToolOutput
    item: ResponseItem = _build(cls, data)
    return item


def _dump(item: _Open) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _FIELDS[type(item)]:
        value = getattr(item, name)
        if value is None:
            continue
        if name == "content" and type(item) is Message:
            out[name] = [_dump(part) for part in value]
        else:
            out[name] = value if type(value) is str else msgspec.to_builtins(value)
    for name, value in item.extra.items():
        if value is not None and name not in out:
            out[name] = msgspec.to_builtins(value)
    return out


def item_to_json(item: ResponseItem) -> dict[str, Any]:
    """The item as the JSON object sent on the wire (``None`` fields left out)."""
    return _dump(item)


def image_part(image_url: str) -> ContentPart:
    """An ``input_image`` part showing ``image_url`` (a URL or a ``data:`` URL)."""
    return ContentPart(type="input_image", extra={"image_url": image_url})


def user_message(text: str, *, attachments: Sequence[ContentPart] = ()) -> Message:
    """A user message: the attachments (images and their labels) first, then the text."""
    return Message(role="user", content=[*attachments, ContentPart(type="input_text", text=text)])


def local_image_parts(number: int, label_path: str, image_url: str) -> list[ContentPart]:
    """A local image as the reference sends one: an opening label naming it, the
    ``input_image``, and a closing label."""
    return [
        ContentPart(type="input_text", text=f'<image name=[Image #{number}] path="{label_path}">'),
        image_part(image_url),
        ContentPart(type="input_text", text="</image>"),
    ]


def assistant_text(item: ResponseItem) -> str | None:
    """The text of an assistant message, or ``None`` for any other item."""
    if isinstance(item, Message) and item.role == "assistant":
        return item.text()
    return None
