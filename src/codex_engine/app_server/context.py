"""What the handlers of one connection share: loaded threads, config loading, the client, sign-in.

Handlers get a :class:`ServerContext` as their first argument; it holds state, not behaviour.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from codex_engine.app_server.connection import Connection
from codex_engine.app_server.registry import InvalidRequestError
from codex_engine.auth.refresh import DEFAULT_ISSUER
from codex_engine.config.loader import Config, load_config, resolve_codex_home
from codex_engine.config.overrides import Override
from codex_engine.errors import ConfigError
from codex_engine.protocol.request import default_identity

if TYPE_CHECKING:
    # Sign-in (httpx, the callback server) and threads (the session engine) load when a handler
    # first needs them, so `initialize` and `model/list` answer without them.
    from codex_engine.app_server.accounts import AccountService
    from codex_engine.app_server.state import ThreadState
    from codex_engine.auth.manager import AuthManager

__all__ = [
    "DEFAULT_CALLBACK_PORT",
    "EXTERNAL_AUTH_REFRESH_TIMEOUT_S",
    "ServerContext",
    "ServerOptions",
]

#: How long the client gets to answer ``account/chatgptAuthTokens/refresh``.
EXTERNAL_AUTH_REFRESH_TIMEOUT_S = 10.0
#: The port of the browser sign-in callback; the issuer only redirects to this one.
DEFAULT_CALLBACK_PORT = 1455


class ServerOptions(msgspec.Struct, frozen=True):
    """What the command line fixed: global ``-c`` overrides, the profile, and sign-in plumbing.

    ``login_issuer`` and ``login_callback_port`` exist for tests and local issuers;
    ``auth_refresh_timeout_s`` bounds the wait for ``account/chatgptAuthTokens/refresh``.
    """

    overrides: Sequence[Override] = ()
    profile: str | None = None
    env: Mapping[str, str] | None = None
    login_issuer: str = DEFAULT_ISSUER
    login_callback_port: int = DEFAULT_CALLBACK_PORT
    auth_refresh_timeout_s: float = EXTERNAL_AUTH_REFRESH_TIMEOUT_S


class ServerContext(msgspec.Struct):
    """The state one connection's handlers share."""

    peer: Connection
    options: ServerOptions
    env: Mapping[str, str]
    codex_home: Path
    auth_manager: AuthManager | None = None
    threads: dict[str, ThreadState] = msgspec.field(default_factory=dict)
    initialized: bool = False
    client_name: str = ""
    #: ``experimentalFeature/enablement/set``: feature flags for this process, over config.toml.
    feature_enablement: dict[str, bool] = msgspec.field(default_factory=dict)
    #: The rate-limit snapshots the model's responses last reported, by limit id (wire form).
    rate_limits: dict[str | None, dict[str, Any]] = msgspec.field(default_factory=dict)
    #: ``fs/watch`` tasks by the client's watch id.
    watches: dict[str, asyncio.Task[None]] = msgspec.field(default_factory=dict)
    #: ``command/exec`` processes by the client's process id (``handlers/command_exec.py``).
    command_runs: dict[str, Any] = msgspec.field(default_factory=dict)
    _accounts: AccountService | None = None
    #: The config loaded last: an equal one loaded again is this same object, so idle threads
    #: with the same settings share one Config (its providers, features, MCP servers...).
    _last_config: Config | None = None

    @classmethod
    def create(
        cls,
        peer: Connection,
        options: ServerOptions | None = None,
        *,
        auth_manager: AuthManager | None = None,
    ) -> ServerContext:
        options = options or ServerOptions()
        env: Mapping[str, str] = dict(os.environ) if options.env is None else options.env
        codex_home = resolve_codex_home(None, env).expanduser().absolute()
        return cls(peer, options, env, codex_home, auth_manager)

    def load_config(self, overrides: Sequence[Override] = (), cwd: Path | None = None) -> Config:
        """config.toml with the command line's overrides, the runtime feature enablement, then
        the request's."""
        features = [(["features", key], on) for key, on in self.feature_enablement.items()]
        config = load_config(
            overrides=[*self.options.overrides, *features, *overrides],
            profile=self.options.profile,
            cwd=cwd,
            env=self.env,
        )
        last = self._last_config
        if last is not None and last == config:
            return last  # frozen, so sharing it is safe
        self._last_config = config
        return config

    def originator(self) -> str:
        return default_identity(self.env.get("CODEX_INTERNAL_ORIGINATOR_OVERRIDE")).originator

    @property
    def accounts(self) -> AccountService:
        """The account service and the process's one AuthManager, made on first use."""
        if self._accounts is None:
            from codex_engine.app_server.accounts import AccountService
            from codex_engine.auth.manager import AuthManager

            requires_auth = False
            manager = self.auth_manager
            try:
                config = self.load_config()
                requires_auth = config.model_provider.requires_openai_auth
                if manager is None:
                    manager = AuthManager.from_config(config, env=self.env)
            except ConfigError:
                if manager is None:
                    manager = AuthManager(self.codex_home, env=self.env)
            self._accounts = AccountService(
                manager,
                notify=self.peer.notify,
                server_request=self.peer.request,
                issuer=self.options.login_issuer,
                callback_port=self.options.login_callback_port,
                refresh_timeout_s=self.options.auth_refresh_timeout_s,
                requires_openai_auth=requires_auth,
                env=self.env,
            )
        return self._accounts

    @property
    def accounts_started(self) -> AccountService | None:
        return self._accounts

    def auth_for(self, config: Config) -> AuthManager | None:
        """The shared AuthManager for providers that need OpenAI credentials."""
        return self.accounts.manager if config.model_provider.requires_openai_auth else None

    def thread(self, thread_id: str) -> ThreadState:
        """A thread loaded on this connection, or the error that says how to load it."""
        thread = self.threads.get(thread_id)
        if thread is None:
            raise InvalidRequestError(
                f"thread {thread_id} is not loaded in this app-server; load it with "
                "thread/resume (or start one with thread/start)"
            )
        return thread
