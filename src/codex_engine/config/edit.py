"""Editing ``config.toml`` in place: values set or merged by key path with the user's formatting
and comments kept (tomlkit), checked before anything is written, the file replaced atomically."""

from __future__ import annotations

import hashlib
import os
import tempfile
import tomllib
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import msgspec
import tomlkit
from tomlkit.exceptions import TOMLKitError

from codex_engine.config.config_file import convert_table
from codex_engine.config.loader import ConfigToml
from codex_engine.errors import ConfigEditError

__all__ = [
    "ConfigEdit",
    "ConfigEditError",
    "apply_edits",
    "file_version",
    "write_atomically",
    "write_atomically_bytes",
]


class ConfigEdit(msgspec.Struct, frozen=True):
    key_path: str
    value: Any
    #: ``upsert`` merges a table into an existing one key by key; ``replace`` sets the value.
    #: ``None`` as the value removes the key.
    upsert: bool = False

    def parts(self) -> list[str]:
        parts = self.key_path.split(".")
        if not self.key_path or any(not part for part in parts):
            raise ConfigEditError(
                f"keyPath {self.key_path!r} is not a dotted key path such as `model` or "
                "`model_providers.mine.base_url`"
            )
        return parts


def file_version(raw: bytes) -> str:
    """The version a client passes back as ``expectedVersion``: a digest of the file's bytes."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _plain(value: Any) -> Any:
    """A tomlkit value as plain Python (for validation and answers)."""
    return value.unwrap() if hasattr(value, "unwrap") else value


def _merge(target: MutableMapping[str, Any], value: Mapping[str, Any]) -> None:
    for key, item in value.items():
        existing = target.get(key)
        if isinstance(existing, MutableMapping) and isinstance(item, Mapping):
            _merge(existing, item)
        elif item is None:
            target.pop(key, None)
        else:
            target[key] = item


def _apply(doc: tomlkit.TOMLDocument, edit: ConfigEdit) -> None:
    parts = edit.parts()
    container: MutableMapping[str, Any] = doc
    for depth, part in enumerate(parts[:-1]):
        current = container.get(part)
        if current is None:
            if edit.value is None:
                return  # removing something under a table that does not exist: nothing to do
            current = tomlkit.table(is_super_table=True)
            container[part] = current
        if not isinstance(current, MutableMapping):
            where = ".".join(parts[: depth + 1])
            raise ConfigEditError(
                f"cannot set `{edit.key_path}`: `{where}` is {type(_plain(current)).__name__}, "
                "not a table"
            )
        container = current
    leaf = parts[-1]
    existing = container.get(leaf)
    if edit.value is None:
        container.pop(leaf, None)
    elif edit.upsert and isinstance(existing, MutableMapping) and isinstance(edit.value, Mapping):
        _merge(existing, edit.value)
    else:
        container[leaf] = edit.value


def apply_edits(text: str, edits: Sequence[ConfigEdit], *, source: str) -> str:
    """``text`` with every edit made, in order; the result must be a valid config.

    Raises :class:`ConfigEditError` (nothing applied) for a bad key path, a value TOML cannot
    hold, or a config the loader would refuse; ``source`` names the file in messages.
    """
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigEditError(f"{source}: invalid TOML ({exc}); fix the file first") from None
    for edit in edits:
        try:
            _apply(doc, edit)
        except (TOMLKitError, TypeError, ValueError) as exc:
            raise ConfigEditError(
                f"cannot write `{edit.key_path}` to {source}: {exc}; send a JSON value TOML can "
                "hold (no nulls inside arrays)"
            ) from None
    result = tomlkit.dumps(doc)
    try:
        table = tomllib.loads(result)
    except tomllib.TOMLDecodeError as exc:  # pragma: no cover - tomlkit wrote it
        raise ConfigEditError(f"the edited {source} would not be valid TOML: {exc}") from None
    convert_table(table, ConfigToml, source_for=lambda _loc: source)
    return result


def write_atomically(path: Path, text: str) -> None:
    """Readers see the old file or the whole new one; a failed write leaves no temporary file."""
    write_atomically_bytes(path, text.encode("utf-8"))


def write_atomically_bytes(path: Path, data: bytes, *, create_parents: bool = True) -> None:
    """:func:`write_atomically` for bytes; an existing file keeps its permission bits."""
    if create_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
