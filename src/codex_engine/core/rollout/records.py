"""One rollout line: ``{"timestamp", "type", "payload"}`` as JSON, its kinds, and the first line's
:class:`SessionMeta`. Both directions, writing (:func:`encode_line`) and reading
(:func:`decode_line`), so the writer's tail repair and the reader judge a line alike."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal, get_args

import msgspec

from codex_engine.errors import RolloutError  # defined in the one error tree; importable here

__all__ = [
    "KINDS",
    "NAME_EVENT",
    "ROLLBACK_EVENT",
    "RolloutError",
    "RolloutKind",
    "SessionMeta",
    "decode_line",
    "decode_meta_line",
    "encode_line",
    "rfc3339_now",
]

RolloutKind = Literal["session_meta", "turn_context", "response_item", "event_msg", "compacted"]
KINDS: frozenset[str] = frozenset(get_args(RolloutKind))
#: The ``event_msg`` type that records a thread's name (written by ``thread/name/set``).
NAME_EVENT = "thread_name_updated"
#: The ``event_msg`` type that drops a thread's last ``num_turns`` turns (``thread/revert``).
ROLLBACK_EVENT = "thread_rolled_back"


def rfc3339_now() -> str:
    """Now in UTC as RFC 3339 with milliseconds and a ``Z`` suffix."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def encode_line(kind: str, payload: Mapping[str, Any]) -> bytes:
    """One whole line, newline included, stamped now."""
    record = {"timestamp": rfc3339_now(), "type": kind, "payload": payload}
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def decode_line(raw: bytes) -> tuple[str, dict[str, Any]]:
    """``(type, payload)`` of one line; raises ``ValueError`` saying why it is not a record.

    A record is a UTF-8 JSON object with a string ``type`` and an object ``payload``; the type
    need not be one this version knows.
    """
    record = json.loads(raw.decode("utf-8"))
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    kind, payload = record.get("type"), record.get("payload")
    if not isinstance(kind, str) or not isinstance(payload, dict):
        raise ValueError("missing `type` or `payload`")
    return kind, payload


def decode_meta_line(raw: bytes) -> SessionMeta:
    """The :class:`SessionMeta` of a file's first line; ``ValueError`` if it is not one."""
    kind, payload = decode_line(raw)
    if kind != "session_meta":
        raise ValueError("first line is not session_meta")
    return SessionMeta.from_payload(payload)


class SessionMeta(msgspec.Struct, frozen=True):
    """The ``session_meta`` payload: written once, first, when a thread's file is created."""

    id: str
    cwd: str
    originator: str
    cli_version: str
    #: ``"cli"``, ``"exec"``, ... or an object such as ``{"subagent": ...}``.
    source: str | Mapping[str, Any] = "exec"
    model_provider: str | None = None
    #: The full system prompt, kept so a resumed or forked thread sends the same one.
    base_instructions: str | None = None
    #: ``GitInfo.to_session_meta()``; remote urls there are already free of credentials.
    git: Mapping[str, str] | None = None
    forked_from_id: str | None = None
    timestamp: str = msgspec.field(default_factory=rfc3339_now)
    #: Fields this version does not know, kept so a fork copies them unchanged.
    extra: Mapping[str, Any] = msgspec.field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = dict(self.extra)
        payload.update(id=self.id, timestamp=self.timestamp, cwd=self.cwd)
        if self.forked_from_id is not None:
            payload["forked_from_id"] = self.forked_from_id
        source = self.source if isinstance(self.source, str) else dict(self.source)
        payload.update(originator=self.originator, cli_version=self.cli_version, source=source)
        if self.model_provider is not None:
            payload["model_provider"] = self.model_provider
        if self.base_instructions is not None:
            payload["base_instructions"] = {"text": self.base_instructions}
        if self.git:
            payload["git"] = dict(self.git)
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> SessionMeta:
        """Tolerant of older files (``instructions`` as a plain string) and unknown fields."""
        data = dict(payload)
        thread_id = data.pop("id", None)
        if not isinstance(thread_id, str) or not thread_id:
            raise ValueError("session_meta has no `id`")
        instructions = data.pop("base_instructions", None)
        legacy = data.pop("instructions", None)
        text: str | None = None
        if isinstance(instructions, Mapping) and isinstance(instructions.get("text"), str):
            text = instructions["text"]
        elif isinstance(legacy, str):
            text = legacy
        git = data.pop("git", None)
        source = data.pop("source", "exec")

        def opt(key: str) -> str | None:
            value = data.pop(key, None)
            return value if isinstance(value, str) else None

        return cls(
            id=thread_id,
            cwd=opt("cwd") or "",
            originator=opt("originator") or "",
            cli_version=opt("cli_version") or "",
            source=source if isinstance(source, str | Mapping) else "exec",
            model_provider=opt("model_provider"),
            base_instructions=text,
            git={k: v for k, v in git.items() if isinstance(v, str)}
            if isinstance(git, Mapping)
            else None,
            forked_from_id=opt("forked_from_id"),
            timestamp=opt("timestamp") or rfc3339_now(),
            extra=data,
        )
