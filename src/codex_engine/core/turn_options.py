"""What one turn may carry besides the user's text: attachments, an output schema, a delivered
tool output, a service tier and a trigger label. None of it outlives the turn."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from codex_engine.protocol.items import ContentPart, DeliveredToolOutput

__all__ = ["DEFAULT_SERVICE_TIER", "TurnOptions"]

#: The tier name that means "standard speed": the request then names no tier at all.
DEFAULT_SERVICE_TIER = "default"


class TurnOptions(msgspec.Struct, frozen=True):
    #: Images (with their labels) that go before the text in the user message.
    attachments: tuple[ContentPart, ...] = ()
    #: The JSON schema the turn's answers must follow (Responses ``text.format``), if any.
    output_schema: Mapping[str, Any] | None = None
    #: Output of a tool that ran outside this conversation (e.g. another agent's message). It
    #: opens the turn in place of a user message, with tool-level authority.
    tool_output: DeliveredToolOutput | None = None
    #: The service tier of this turn's requests only (``"default"``: none is requested).
    service_tier: str | None = None
    #: Who or what started the turn, sent as ``turn_trigger`` in the turn metadata. A label only.
    trigger: str | None = None

    def request_service_tier(self) -> str | None:
        tier = self.service_tier
        return None if tier is None or tier == DEFAULT_SERVICE_TIER else tier
