"""Shared bases of the app-server message models: what clients send and what the server emits."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

__all__ = [
    "ApprovalPolicyName",
    "ApprovalsReviewer",
    "EmptyResponse",
    "SandboxModeName",
]


ApprovalPolicyName = Literal["untrusted", "on-failure", "on-request", "never"]
ApprovalsReviewer = Literal["user", "auto_review", "guardian_subagent"]
SandboxModeName = Literal["read-only", "workspace-write", "danger-full-access"]


class _Params(BaseModel):
    """What a client sends: strict JSON types, unknown (newer or experimental) fields ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        strict=True,
        frozen=True,
        defer_build=True,
    )


class _Out(BaseModel):
    """What the server sends; ``to_wire`` keeps nulls because the schema requires some of them."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, defer_build=True)

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="json")


class EmptyResponse(_Out):
    """The ``{}`` result of a method that has nothing to report (``thread/archive``, ...)."""
