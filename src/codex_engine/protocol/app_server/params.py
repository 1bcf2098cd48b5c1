"""What a client sends, decoded into a params Struct: strict JSON types, unknown fields ignored,
and errors that name the field as the client spelled it (``input.0.type``) and never quote its
value (it may be a secret such as an API key)."""

import re
from typing import Any, TypeVar

import msgspec

from codex_engine.errors import InvalidParamsError

__all__ = ["decode_params", "describe_error"]

T = TypeVar("T")

_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")
_EXPECTED = re.compile(r"^Expected `(?P<want>[^`]+)`(?:, got `[^`]+`)?(?P<rest>.*)$")
_INVALID_VALUE = re.compile(r"^Invalid (?:enum )?value\b")
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\[([^\]]*)\]")
_KINDS = {
    "str": "a valid string",
    "int": "a valid integer",
    "float": "a valid number",
    "bool": "a valid boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


def decode_params(model: type[T], params: Any) -> T:
    """``params`` as ``model``; :class:`InvalidParamsError` names what is wrong."""
    try:
        return msgspec.convert(params, model)
    except msgspec.ValidationError as exc:
        raise InvalidParamsError(describe_error(model, str(exc))) from None


def describe_error(model: Any, error: str) -> str:
    """A msgspec validation message as ``\\`path\\` detail`` (``\\`threadId\\` is required``)."""
    found = _AT.match(error)
    message, path = (found["message"], found["path"] or "") if found else (error, "")
    parts = _parts(path)
    if missing := _MISSING.match(message):
        return f"`{'.'.join([*parts, missing['field']])}` is required"
    where = f"`{'.'.join(parts)}`"
    if _INVALID_VALUE.match(message):
        allowed = _allowed(model, parts)
        return (
            f"{where} should be {_or(allowed)}" if allowed else f"{where} is not an allowed value"
        )
    if expected := _EXPECTED.match(message):
        kinds = [_KINDS.get(kind, kind) for kind in expected["want"].split(" | ")]
        return f"{where} should be {_or(kinds)}{expected['rest']}"
    # Any other message quotes no value: say it as msgspec does.
    return f"{where} {message[:1].lower()}{message[1:]}"


def _parts(path: str) -> list[str]:
    # msgspec writes a map's key as ``[...]`` (it never quotes keys either): any key, ``*``.
    parts = [next(g for g in m.groups() if g is not None) for m in _STEP.finditer(path)]
    return ["*" if part == "..." else part for part in parts]


def _or(options: list[str]) -> str:
    if len(options) < 2:
        return "".join(options)
    return f"{', '.join(options[:-1])} or {options[-1]}"


def _allowed(model: Any, parts: list[str]) -> list[str]:
    """What the field at ``parts`` accepts: its literal values, then its other kinds."""
    import msgspec.inspect as mi  # only on this error path

    node: Any = mi.type_info(model)
    for part in parts:
        node = _step(node, part)
        if node is None:
            return []
    members = node.types if isinstance(node, mi.UnionType) else (node,)
    options = [repr(v) for m in members if isinstance(m, mi.LiteralType) for v in m.values]
    kinds: dict[type, str] = {mi.DictType: "an object", mi.NoneType: "null", mi.StrType: "a string"}
    options += [kinds[type(m)] for m in members if type(m) in kinds]
    return options


def _step(node: Any, part: str) -> Any:
    import msgspec.inspect as mi

    members = node.types if isinstance(node, mi.UnionType) else (node,)
    tags = [m.tag for m in members if isinstance(m, mi.StructType) and m.tag_field == part]
    if tags:
        return mi.LiteralType(values=tuple(tags))
    for member in members:
        if isinstance(member, mi.StructType):
            for field in member.fields:
                if field.encode_name == part:
                    return field.type
        elif isinstance(member, mi.ListType) and part.isdigit():
            return member.item_type
        elif isinstance(member, mi.DictType) and part == "*":
            return member.value_type
    return None
