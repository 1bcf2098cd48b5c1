"""Shared bases of the app-server message types: what clients send and what the server emits."""

from typing import Any, Literal

import msgspec

__all__ = [
    "EXPERIMENTAL_FIELD",
    "ApprovalPolicyName",
    "ApprovalsReviewer",
    "EmptyResponse",
    "NonNegative",
    "SandboxModeName",
]


ApprovalPolicyName = Literal["untrusted", "on-failure", "on-request", "never"]
ApprovalsReviewer = Literal["user", "auto_review", "guardian_subagent"]
SandboxModeName = Literal["read-only", "workspace-write", "danger-full-access"]

#: A count or limit a client sends (``limit``, ``outputBytesCap``): never negative.
NonNegative = msgspec.Meta(ge=0)
#: Marks a field only the experimental API has (``generate-json-schema`` drops it otherwise).
EXPERIMENTAL_FIELD = msgspec.Meta(extra_json_schema={"experimental": True})


class _Params(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """What a client sends: strict JSON types, unknown (newer or experimental) fields ignored.

    Decoded with ``msgspec.convert(params, Model)`` (app_server/registry.py ``parse_params``).
    """


class _Out(msgspec.Struct, kw_only=True, rename="camel"):
    """What the server sends; ``to_wire`` keeps nulls because the schema requires some of them."""

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = msgspec.to_builtins(self)
        return wire


class _TaggedOut(_Out, tag_field="type", kw_only=True):
    """One variant of a union the ``type`` member tells apart (thread items, accounts...)."""

    @property
    def type(self) -> str:
        return str(self.__struct_config__.tag)


class _TaggedParams(_Params, tag_field="type", frozen=True, kw_only=True):
    """A client's variant of a union the ``type`` member tells apart (review targets, logins)."""

    @property
    def type(self) -> str:
        return str(self.__struct_config__.tag)


class EmptyResponse(_Out, kw_only=True):
    """The ``{}`` result of a method that has nothing to report (``thread/archive``, ...)."""
