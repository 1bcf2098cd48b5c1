"""The ``initialize`` handshake."""

from codex_engine.protocol.app_server._base import _Out, _Params

__all__ = [
    "UNVERSIONED",
    "ClientInfo",
    "InitializeCapabilities",
    "InitializeParams",
    "InitializeResponse",
    "ServerInfo",
]


class ClientInfo(_Params, frozen=True, kw_only=True):
    name: str
    version: str
    title: str | None = None


class InitializeCapabilities(_Params, frozen=True, kw_only=True):
    experimental_api: bool = False
    opt_out_notification_methods: list[str] | None = None


class InitializeParams(_Params, frozen=True, kw_only=True):
    client_info: ClientInfo
    capabilities: InitializeCapabilities | None = None


#: ``serverInfo.version``: the protocol level codex-engine claims. It is not a release of the
#: reference CLI, so it claims none of that CLI's versions; ``0.0.0`` is what an unversioned
#: reference build reports, and tells clients (the official SDK) to read the fields this runtime
#: implements from ``app-server generate-json-schema`` instead. Our own version is in userAgent.
UNVERSIONED = "0.0.0"


class ServerInfo(_Out, kw_only=True):
    name: str
    version: str


class InitializeResponse(_Out, kw_only=True):
    #: Beyond the reference schema (which allows it); the official SDK reads it before userAgent.
    server_info: ServerInfo | None = None
    user_agent: str
    codex_home: str
    platform_family: str
    platform_os: str
