"""What the model client needs from auth: a bearer token now, and a way to recover from a 401.

The client depends on this small protocol only; the auth layer's manager implements it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from codex_engine.config.providers import ModelProviderInfo
from codex_engine.errors import AuthError

__all__ = [
    "CredentialSource",
    "Credentials",
    "EnvKeyCredentials",
    "StaticCredentials",
    "credentials_for_provider",
]


@dataclass(frozen=True, slots=True)
class Credentials:
    bearer: str | None
    account_id: str | None = None
    is_chatgpt: bool = False

    def __repr__(self) -> str:
        # Never let a token reach a log line through a repr.
        shown = "set" if self.bearer else "none"
        return f"Credentials(bearer=<{shown}>, account_id={self.account_id!r})"


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


def credentials_for_provider(
    provider: ModelProviderInfo, env: Mapping[str, str]
) -> CredentialSource:
    """Where a provider's requests take their bearer token from.

    ``env_key`` wins, then a configured bearer token; a provider that ``requires_openai_auth``
    takes an API key from ``CODEX_API_KEY`` / ``OPENAI_API_KEY``. A provider with none of these
    (the local emulator) sends no ``Authorization`` header.
    """
    if provider.env_key:
        return EnvKeyCredentials(provider, env)
    if provider.experimental_bearer_token:
        return StaticCredentials(provider.experimental_bearer_token)
    if provider.requires_openai_auth:
        for name in ("CODEX_API_KEY", "OPENAI_API_KEY"):
            value = env.get(name, "").strip()
            if value:
                return StaticCredentials(value)
        raise AuthError(
            f"provider {provider.name!r} needs OpenAI credentials and none were found; "
            "set CODEX_API_KEY (or OPENAI_API_KEY) to an API key"
        )
    return StaticCredentials(None)
