"""The ``initialize`` handshake."""

from __future__ import annotations

from codex_engine.protocol.app_server._base import _Out, _Params

__all__ = [
    "ClientInfo",
    "InitializeCapabilities",
    "InitializeParams",
    "InitializeResponse",
]


class ClientInfo(_Params):
    name: str
    version: str
    title: str | None = None


class InitializeCapabilities(_Params):
    experimental_api: bool = False
    opt_out_notification_methods: list[str] | None = None


class InitializeParams(_Params):
    client_info: ClientInfo
    capabilities: InitializeCapabilities | None = None


class InitializeResponse(_Out):
    user_agent: str
    codex_home: str
    platform_family: str
    platform_os: str
