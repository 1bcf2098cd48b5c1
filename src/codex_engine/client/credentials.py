"""What the model client needs from auth: a bearer token now, and a way to recover from a 401.

The client depends on this small protocol only; the auth layer's manager implements it.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from codex_engine.config.providers import ModelProviderInfo
from codex_engine.errors import AuthError

if TYPE_CHECKING:
    # Only for types: exec's early handshake resolves static credentials through this module
    # before the auth package (and httpx with it) is imported.
    from codex_engine.auth.manager import AuthManager
    from codex_engine.auth.tokens import CodexAuth

__all__ = [
    "AuthManagerCredentials",
    "CredentialSource",
    "Credentials",
    "EnvKeyCredentials",
    "StaticCredentials",
    "credentials_for_provider",
]


class Credentials(msgspec.Struct, frozen=True):
    bearer: str | None
    account_id: str | None = None
    is_chatgpt: bool = False

    def __repr__(self) -> str:
        # Never let a token reach a log line through a repr.
        shown = "set" if self.bearer else "none"
        return f"Credentials(bearer=<{shown}>, account_id={self.account_id!r})"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        # rich's pretty printer asks this before __repr__; msgspec's own shows every field.
        return [("bearer", "<set>" if self.bearer else "<none>"), ("account_id", self.account_id)]


class CredentialSource(Protocol):
    async def credentials(self) -> Credentials:
        """The credentials for the next request; may refresh them first."""
        ...

    async def recover_unauthorized(self) -> bool:
        """Called after a 401; returns whether new credentials are worth one more try."""
        ...


class StaticCredentials:
    """Fixed credentials (or none, for servers that need no auth such as the local emulator)."""

    def __init__(self, bearer: str | None = None, account_id: str | None = None) -> None:
        self._credentials = Credentials(bearer, account_id)

    async def credentials(self) -> Credentials:
        return self._credentials

    async def recover_unauthorized(self) -> bool:
        return False


class EnvKeyCredentials:
    """The provider's ``env_key`` variable, read at request time so a late export still works."""

    def __init__(self, provider: ModelProviderInfo, env: Mapping[str, str]) -> None:
        self._provider = provider
        self._env = env

    async def credentials(self) -> Credentials:
        return Credentials(self._provider.api_key_from_env(self._env))

    async def recover_unauthorized(self) -> bool:
        return False


# The credentials the current task last sent. Each turn runs in its own task, so a 401 can be
# matched to the credentials that caused it even when many turns share one source.
_issued: ContextVar[CodexAuth | None] = ContextVar("codex_engine_issued_auth", default=None)


class AuthManagerCredentials:
    """Credentials from an :class:`AuthManager`: API key or ChatGPT tokens, refreshed as needed."""

    def __init__(self, manager: AuthManager) -> None:
        self.manager = manager

    async def credentials(self) -> Credentials:
        auth = await self.manager.auth()
        if auth is None:
            env_hint = " (or set CODEX_API_KEY)" if self.manager.allows_env_api_key else ""
            raise AuthError(
                "not signed in: run `codex-engine login` to sign in with ChatGPT, or pipe an API "
                f"key to `codex-engine login --with-api-key`{env_hint}"
            )
        _issued.set(auth)
        from codex_engine.auth.tokens import ApiKeyAuth  # loaded with the manager already

        if isinstance(auth, ApiKeyAuth):
            return Credentials(auth.bearer)
        return Credentials(auth.bearer, auth.account_id, is_chatgpt=True)

    async def recover_unauthorized(self) -> bool:
        return await self.manager.recover_unauthorized(_issued.get())


def credentials_for_provider(
    provider: ModelProviderInfo,
    env: Mapping[str, str],
    auth_manager: AuthManager | None = None,
) -> CredentialSource:
    """Where a provider's requests take their bearer token from.

    ``env_key`` wins, then a configured bearer token; a provider that ``requires_openai_auth``
    takes its credentials from ``auth_manager`` (API key or ChatGPT sign-in). A provider with none
    of these (the local emulator) sends no ``Authorization`` header.
    """
    if provider.env_key:
        return EnvKeyCredentials(provider, env)
    if provider.experimental_bearer_token:
        return StaticCredentials(provider.experimental_bearer_token)
    if provider.requires_openai_auth:
        if auth_manager is None:
            raise AuthError(
                f"provider {provider.name!r} needs OpenAI credentials but no auth manager was "
                "given; pass one (AuthManager.from_config(config))"
            )
        return AuthManagerCredentials(auth_manager)
    return StaticCredentials(None)
