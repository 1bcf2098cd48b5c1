"""Reading `config.toml`, validating its tables into msgspec Structs, and turning what is wrong
with either into one line: where, what, the fix."""

from __future__ import annotations

import json
import re
import tomllib
import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import msgspec

from codex_engine.config.overrides import format_key_path
from codex_engine.errors import ConfigError

__all__ = ["OVERRIDE_SOURCE", "convert_table", "read_config_file", "validation_error"]

#: How a problem in a ``-c`` value names its source.
OVERRIDE_SOURCE = "-c override"

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a missing file is an empty table. Errors are one-line ConfigErrors."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"{path}: cannot read config file: {reason}; check the path") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: config file is not valid UTF-8 (byte {exc.start}); re-save it as UTF-8"
        ) from exc
    try:
        return tomllib.loads(text)
    except RecursionError:  # tomllib recurses once per level of nested arrays or tables
        raise ConfigError(
            f"{path}: values are nested too deeply to read; flatten them or move the file away"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc).splitlines()[0] if str(exc) else "parse error"
        line, col = 0, 0
        if match := _TOML_POSITION.search(message):
            line, col = int(match.group(1)), int(match.group(2))
            message = message[: match.start()]
        elif match := _TOML_AT_END.search(message):
            lines = text.splitlines() or [""]
            line, col = len(lines), len(lines[-1]) + 1
            message = message[: match.start()] + " at end of file"
        where = f"{path}:{line}:{col}" if line else str(path)
        raise ConfigError(
            f"{where}: invalid TOML: {message}. Fix the syntax or move the file away."
        ) from None


# -- validation -------------------------------------------------------------------------------

T = TypeVar("T")
#: Where a key came from, given its path (the file, a profile file, or a ``-c`` override).
SourceFor = Callable[[Sequence[str | int]], str]


def convert_table(
    table: Any,
    target: type[T],
    *,
    source_for: SourceFor,
    prefix: tuple[str | int, ...] = (),
    known_keys: Sequence[str] = (),
) -> T:
    """``table`` as a ``target`` Struct (strict types); a ConfigError in one line if it is not."""
    try:
        return msgspec.convert(table, target)
    except msgspec.ValidationError as exc:
        raise validation_error(
            exc,
            data=table,
            target=target,
            source_for=source_for,
            prefix=prefix,
            known_keys=known_keys,
        ) from None


# msgspec says what failed and where (``... - at `$.a[0][...].b` ``), never which dict key
# (``[...]``) nor the value it got: both are looked up in the data, walking the target type.
_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_PATH_PART = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_UNKNOWN_FIELD = re.compile(r"^Object contains unknown field `(?P<key>.*)`$")
_MISSING_FIELD = re.compile(r"^Object missing required field `(?P<key>.*)`$")
_TYPE_ERROR = ("Expected `", "Invalid enum value ")
#: A Struct's own check (``__post_init__``) starts its message with the key it refuses.
_OWN_CHECK = re.compile(r"^(?P<key>\w+) = ")
#: A dict key msgspec does not name in its path.
_SOME_KEY = None


def _parts(path: str) -> list[str | int | None]:
    parts: list[str | int | None] = []
    for match in _PATH_PART.finditer(path):
        field, index = match.groups()
        if field is not None:
            parts.append(field)
        else:
            parts.append(_SOME_KEY if index == "..." else int(index))
    return parts


def _without_none(tp: Any) -> Any:
    """``X | None`` -> ``X`` (TOML has no null, so "or null" is no help to anyone)."""
    if get_origin(tp) in (Union, types.UnionType):
        rest = [arg for arg in get_args(tp) if arg is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return tp


def _bare(tp: Any) -> Any:
    tp = _without_none(tp)
    return get_args(tp)[0] if get_origin(tp) is Annotated else tp


def _struct_field(tp: Any, name: str) -> tuple[str, Any] | None:
    """The attribute name and type of the field that ``tp`` (a Struct) reads as ``name``."""
    cls = _bare(tp)
    if isinstance(cls, type) and issubclass(cls, msgspec.Struct):
        for info in msgspec.structs.fields(cls):
            if info.encode_name == name:
                return info.name, info.type
    return None


def _first_failing_key(data: Mapping[Any, Any], value_type: Any) -> Any:
    # msgspec checks a table's entries in order and stops at the first bad one.
    for key, value in data.items():
        try:
            msgspec.convert(value, value_type)
        except msgspec.ValidationError:
            return key
    return next(iter(data), "?")


def _locate(
    data: Any, tp: Any, parts: Sequence[str | int | None]
) -> tuple[tuple[str | int, ...], Any, Any]:
    """The key path msgspec's path stands for, the value found there and its expected type."""
    loc: list[str | int] = []
    for part in parts:
        bare = _bare(tp)
        args = get_args(bare)
        origin = get_origin(bare)
        if isinstance(part, str):
            found = _struct_field(bare, part)
            tp = found[1] if found is not None else Any
            loc.append(part)
            data = data.get(part) if isinstance(data, Mapping) else None
        elif isinstance(part, int):
            tp = args[0] if args else Any
            loc.append(part)
            data = data[part] if isinstance(data, list) and part < len(data) else None
        else:
            tp = args[1] if origin is not None and len(args) == 2 else Any
            key = _first_failing_key(data, tp) if isinstance(data, Mapping) else "?"
            loc.append(key)
            data = data.get(key) if isinstance(data, Mapping) else None
    return tuple(loc), data, tp


def _quoted_choices(values: Sequence[Any]) -> str:
    shown = [json.dumps(v) if isinstance(v, str) else str(v) for v in values]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def _expected(tp: Any, got: Any) -> str:
    tp = _without_none(tp)
    if get_origin(tp) is Annotated:
        base, *metas = get_args(tp)
        # The bound matters once the value is an integer; before that, that it is not one.
        is_int = isinstance(got, int) and not isinstance(got, bool)
        for meta in metas:
            if isinstance(meta, msgspec.Meta) and base is int and is_int:
                if meta.gt is not None:
                    return f"an integer greater than {meta.gt}"
                if meta.ge is not None:
                    return f"an integer >= {meta.ge}"
        tp = base
    origin = get_origin(tp) or tp
    if origin is Literal:
        return "one of " + _quoted_choices(get_args(tp))
    if origin is bool:
        return "true or false"
    if origin is int:
        return "an integer"
    if origin is float:
        return "a number"
    if origin is str:
        return "a string"
    if isinstance(origin, type) and issubclass(origin, (dict, Mapping, msgspec.Struct)):
        return "a table"
    if isinstance(origin, type) and issubclass(origin, (list, tuple, Sequence)):
        return "an array"
    return "a valid value"


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def validation_error(
    exc: msgspec.ValidationError,
    *,
    data: Any,
    target: Any,
    source_for: SourceFor,
    prefix: tuple[str | int, ...] = (),
    known_keys: Sequence[str] = (),
) -> ConfigError:
    """Turn msgspec's error about ``data`` (checked as ``target``) into one line: key path,
    source, expectation, fix."""
    match = _AT.match(str(exc))
    assert match is not None  # the pattern matches any text
    what = match.group("what")
    where, value, tp = _locate(data, target, _parts(match.group("path") or ""))
    loc = prefix + where
    if unknown := _UNKNOWN_FIELD.match(what):
        loc += (unknown.group("key"),)
    elif missing := _MISSING_FIELD.match(what):
        loc += (missing.group("key"),)
    elif (own := _OWN_CHECK.match(what)) and _struct_field(tp, own.group("key")) is not None:
        loc += (own.group("key"),)
    source: str = source_for(loc)
    fix_where = "the -c value" if source == OVERRIDE_SOURCE else source
    key = format_key_path(loc)
    if unknown:
        table = format_key_path(loc[:-1])
        known = f"; known keys: {', '.join(known_keys)}" if known_keys else ""
        return ConfigError(
            f"unknown key `{loc[-1]}` in [{table}] ({source}){known}. "
            f"Fix the spelling or remove it from {fix_where}."
        )
    if missing:
        return ConfigError(f"missing required key `{key}` ({source}). Add it to {fix_where}.")
    if not what.startswith(_TYPE_ERROR):
        # A Struct's own check (``__post_init__``) explains itself.
        return ConfigError(f"invalid value for `{key}` ({source}): {what}")
    return ConfigError(
        f"invalid value for `{key}` ({source}): expected {_expected(tp, value)}, "
        f"got {_show(value)}. {_fix_hint(source)}"
    )


def _fix_hint(source: str) -> str:
    if source == OVERRIDE_SOURCE:
        return "Fix the -c value."
    return f"Fix it in {source} or remove the key."
