"""Opening a session from a loaded :class:`Config`: the library entry point the CLI uses too."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from codex_engine.auth.manager import AuthManager
from codex_engine.client.credentials import CredentialSource, credentials_for_provider
from codex_engine.client.model_client import ModelClient
from codex_engine.config.loader import Config
from codex_engine.core.session import Approver, Session, SessionSettings, new_thread_id
from codex_engine.protocol.request import ClientIdentity, default_identity

__all__ = ["open_session", "settings_from_config"]


def settings_from_config(
    config: Config, *, cwd: Path | None = None
) -> tuple[SessionSettings, str | None]:
    """The session settings a config asks for, and the unknown-model warning if there is one."""
    model_info, warning = config.model_info()
    settings = SessionSettings(
        cwd=(cwd or config.cwd).resolve(),
        model_info=model_info,
        base_instructions=model_info.base_instructions,
        approval_policy=config.approval_policy,
        sandbox_mode=config.sandbox_mode,
        developer_instructions=config.developer_instructions,
        reasoning_effort=config.model_reasoning_effort,
        reasoning_summary=config.model_reasoning_summary,
        verbosity=config.model_verbosity if model_info.support_verbosity else None,
    )
    return settings, warning


@asynccontextmanager
async def open_session(
    config: Config,
    *,
    cwd: Path | None = None,
    approver: Approver | None = None,
    credentials: CredentialSource | None = None,
    identity: ClientIdentity | None = None,
    env: Mapping[str, str] | None = None,
    auth_manager: AuthManager | None = None,
) -> AsyncIterator[Session]:
    """A ready session for ``config``; its connections are closed when the block exits.

    Raises ``AuthError`` at once when the provider needs credentials that are not there (or that
    break the login policy), so a caller learns it before the first turn, not in the middle of
    one. Without ``auth_manager`` one is made from the config, honouring ``CODEX_API_KEY``.
    """
    environ = dict(os.environ) if env is None else dict(env)
    settings, _warning = settings_from_config(config, cwd=cwd)
    provider = config.model_provider.with_chatgpt_base_url(config.chatgpt_base_url)
    owned_manager: AuthManager | None = None
    if credentials is None and auth_manager is None and provider.requires_openai_auth:
        auth_manager = owned_manager = AuthManager.from_config(
            config, env=environ, enable_codex_api_key_env=True
        )
    if auth_manager is not None:
        auth_manager.enforce_login_policy()
    source = credentials or credentials_for_provider(provider, environ, auth_manager)
    try:
        await source.credentials()
    except BaseException:
        if owned_manager is not None:
            await owned_manager.aclose()
        raise
    client = ModelClient(
        provider=provider,
        credentials=source,
        thread_id=new_thread_id(),
        identity=identity or default_identity(environ.get("CODEX_INTERNAL_ORIGINATOR_OVERRIDE")),
        beta_features=config.features.beta_header_value(),
        enable_websockets=config.features.enabled("responses_websockets"),
        enable_preconnect=config.features.enabled("websocket_preconnect"),
        env=environ,
    )
    try:
        yield Session(settings, client, approver=approver)
    finally:
        await client.aclose()
        if owned_manager is not None:
            await owned_manager.aclose()
