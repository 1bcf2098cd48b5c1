"""`-c key=value` overrides: dotted key paths with TOML values, merged over the config table.

Also the `--enable F` / `--disable F` shorthands, which are the same as `-c features.F=true|false`.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from codex_engine.config.features import FEATURES
from codex_engine.errors import ConfigError

__all__ = [
    "Override",
    "apply_overrides",
    "feature_toggle",
    "format_key_path",
    "parse_override",
    "parse_overrides",
    "split_key_path",
]

#: One parsed override: the key path (``["model_providers", "mock", "base_url"]``) and its value.
Override = tuple[list[str], Any]

# A key that cannot clash with anything the user writes, used to parse the value as TOML.
_PROBE_KEY = "__codex_engine_override_value__"


def split_key_path(key: str, *, raw: str | None = None, flag: str = "-c") -> list[str]:
    """Split ``a.b."c.d"`` into ``["a", "b", "c.d"]``; quoted segments may contain dots."""
    shown = raw if raw is not None else key
    segments: list[str] = []
    current: list[str] = []
    quote: str | None = None
    quoted_segment = False
    for ch in key.strip():
        if quote is not None:
            if ch == quote:
                quote = None
            else:
                current.append(ch)
        elif ch in "\"'":
            quote = ch
            quoted_segment = True
        elif ch == ".":
            segments.append(_finish_segment(current, quoted_segment, shown, flag))
            current, quoted_segment = [], False
        else:
            current.append(ch)
    if quote is not None:
        raise ConfigError(f"invalid override `{flag} {shown}`: unterminated quote in the key path")
    segments.append(_finish_segment(current, quoted_segment, shown, flag))
    return segments


def _finish_segment(chars: list[str], quoted: bool, shown: str, flag: str) -> str:
    segment = "".join(chars) if quoted else "".join(chars).strip()
    if not segment and not quoted:
        raise ConfigError(
            f"invalid override `{flag} {shown}`: empty key segment; "
            f'expected {flag} key.path=value (e.g. {flag} model="gpt-5.1-codex")'
        )
    return segment


def format_key_path(path: Sequence[str | int]) -> str:
    """Render a key path for messages: ``model_providers.mock.base_url``."""
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif part and all(c.isalnum() or c in "_-" for c in part):
            parts.append(("." if parts else "") + part)
        else:
            parts.append(("." if parts else "") + f'"{part}"')
    return "".join(parts)


def _parse_value(text: str) -> Any:
    """The value as TOML if it parses as exactly one TOML value, else the raw string."""
    try:
        parsed = tomllib.loads(f"{_PROBE_KEY} = {text}")
    except (tomllib.TOMLDecodeError, RecursionError):  # tomllib recurses per nesting level
        parsed = None
    # A value like `1\nother = 2` parses but smuggles in a second key: treat it as text.
    if parsed is not None and list(parsed) == [_PROBE_KEY]:
        return parsed[_PROBE_KEY]
    # Shells often leave half-quoted words behind (`model='gpt-5`); mirror the reference CLI,
    # which strips stray quotes from the fallback string.
    return text.strip().strip("\"'")


def parse_override(raw: str, *, flag: str = "-c") -> Override:
    """Parse one ``key.path=value`` override; the value is TOML or, failing that, a plain string."""
    key, sep, value = raw.partition("=")
    if not sep:
        raise ConfigError(
            f"invalid override `{flag} {raw}`: missing '='; "
            f'expected {flag} key=value (e.g. {flag} model="gpt-5.1-codex")'
        )
    if not key.strip():
        raise ConfigError(
            f"invalid override `{flag} {raw}`: empty key; "
            f'expected {flag} key=value (e.g. {flag} model="gpt-5.1-codex")'
        )
    return split_key_path(key, raw=raw, flag=flag), _parse_value(value.strip())


def parse_overrides(raws: Iterable[str], *, flag: str = "-c") -> list[Override]:
    """Parse every ``-c`` value in order (later ones win when applied)."""
    return [parse_override(raw, flag=flag) for raw in raws]


def feature_toggle(key: str, enabled: bool) -> Override:
    """The override equivalent of ``--enable key`` (True) or ``--disable key`` (False)."""
    name = key.strip()
    if not name:
        flag = "--enable" if enabled else "--disable"
        raise ConfigError(f"{flag} needs a feature key; run `codex-engine features list`")
    known = [spec.key for spec in FEATURES]
    if name not in known:
        flag = "--enable" if enabled else "--disable"
        raise ConfigError(
            f"{flag} {name}: unknown feature; known features: {', '.join(sorted(known))}"
        )
    return ["features", name], enabled


def apply_overrides(table: Mapping[str, Any], overrides: Sequence[Override]) -> dict[str, Any]:
    """Return a new table with each override set at its key path (the input is not modified).

    Missing intermediate tables are created; a non-table in the way is replaced by a table; the
    value at the end of the path replaces what was there, tables included.
    """
    result: dict[str, Any] = copy.deepcopy(dict(table))
    for path, value in overrides:
        if not path:
            continue
        node = result
        for segment in path[:-1]:
            child = node.get(segment)
            if not isinstance(child, dict):
                child = {}
                node[segment] = child
            node = child
        node[path[-1]] = copy.deepcopy(value)
    return result
