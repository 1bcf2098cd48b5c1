"""The events the client reports besides the model's own stream: a retry and a warning.

They belong to the session's turn-event vocabulary (:mod:`codex_engine.core.events` re-exports
them); the client emits them and the core passes them on unchanged.
"""

from __future__ import annotations

import msgspec

from codex_engine.protocol.events import ResponseEvent

__all__ = ["ClientEvent", "Retrying", "WarningEvent"]


class Retrying(msgspec.Struct, frozen=True):
    """The request or its stream failed and is sent again (``retry`` of ``max_retries``) after
    ``delay_s`` seconds; ``message`` says what failed."""

    retry: int
    max_retries: int
    delay_s: float
    message: str


class WarningEvent(msgspec.Struct, frozen=True):
    """Something the user should hear about that does not stop the turn: WebSockets fell back
    to HTTP, request compression was turned off, there is no OS sandbox, a rollout write failed.
    """

    message: str


#: What :meth:`ModelClientSession.stream` yields: the model's events, retries and warnings.
ClientEvent = ResponseEvent | Retrying | WarningEvent
