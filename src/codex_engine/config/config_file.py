"""Reading `config.toml` and turning what is wrong with it into one line: where, what, the fix."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from codex_engine.config.overrides import format_key_path
from codex_engine.errors import ConfigError

__all__ = ["OVERRIDE_SOURCE", "read_config_file", "validation_error"]

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


# -- validation errors ------------------------------------------------------------------------

_EXPECTED_BY_TYPE = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "list_type": "an array",
}


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _expected(err: Mapping[str, Any]) -> str:
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    if kind in _EXPECTED_BY_TYPE:
        return _EXPECTED_BY_TYPE[kind]
    if kind == "literal_error":
        return "one of " + str(ctx.get("expected", "")).replace("'", '"')
    if kind == "greater_than":
        return f"an integer greater than {ctx.get('gt')}"
    if kind == "greater_than_equal":
        return f"an integer >= {ctx.get('ge')}"
    return str(err.get("msg", "a valid value"))


def validation_error(
    exc: ValidationError,
    *,
    source_for: Callable[[Sequence[str | int]], str],
    prefix: tuple[str | int, ...] = (),
    known_keys: Sequence[str] = (),
) -> ConfigError:
    """Turn the first pydantic error into one line: key path, source, expectation, fix."""
    err = exc.errors(include_url=False)[0]
    loc = prefix + tuple(err.get("loc", ()))
    key = format_key_path(loc)
    source: str = source_for(loc)
    fix_where = "the -c value" if source == OVERRIDE_SOURCE else source
    kind = err.get("type")
    if kind == "extra_forbidden":
        table = format_key_path(loc[:-1])
        known = f"; known keys: {', '.join(known_keys)}" if known_keys else ""
        return ConfigError(
            f"unknown key `{loc[-1]}` in [{table}] ({source}){known}. "
            f"Fix the spelling or remove it from {fix_where}."
        )
    if kind == "missing":
        return ConfigError(f"missing required key `{key}` ({source}). Add it to {fix_where}.")
    if kind == "value_error":
        reason = str(err.get("msg", "")).removeprefix("Value error, ")
        return ConfigError(f"invalid value for `{key}` ({source}): {reason}")
    return ConfigError(
        f"invalid value for `{key}` ({source}): expected {_expected(err)}, "
        f"got {_show(err.get('input'))}. {_fix_hint(source)}"
    )


def _fix_hint(source: str) -> str:
    if source == OVERRIDE_SOURCE:
        return "Fix the -c value."
    return f"Fix it in {source} or remove the key."
