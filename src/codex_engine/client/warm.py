"""Starting the WebSocket handshake before the rest of the engine is even imported.

A one-shot ``exec`` spends most of its start-up importing; a handshake begun right after the
config is read overlaps with that, and the launcher hands it to the session's client as its
preconnect. Only this module's light imports are needed to start it (check with
``python -X importtime`` when adding one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias

from codex_engine.client.credentials import credentials_for_provider
from codex_engine.client.transport_choice import websockets_wanted
from codex_engine.config.providers import ModelProviderInfo
from codex_engine.protocol.headers import ClientIdentity, HeaderInputs, handshake_headers
from codex_engine.transport.websocket import WebSocketConnection, connect_websocket

__all__ = ["TurnMetadata", "can_warm_early", "resolve_turn_metadata", "start_warm_handshake"]

#: A handshake's ``x-codex-turn-metadata``: the value, or a coroutine function building it (the
#: launcher's, which asks git and bounds that itself), awaited inside the handshake's task.
TurnMetadata: TypeAlias = (
    Mapping[str, Any] | Callable[[], Awaitable[Mapping[str, Any] | None]] | None
)


async def resolve_turn_metadata(metadata: TurnMetadata) -> Mapping[str, Any] | None:
    """The metadata value itself, building it first when given a builder."""
    if callable(metadata):
        return await metadata()
    return metadata


def can_warm_early(
    provider: ModelProviderInfo, *, feature_enabled: bool, model_prefers: bool
) -> bool:
    """Whether a handshake can start before auth is loaded: WebSockets will be used (the same
    :func:`websockets_wanted` the client asks) and the provider's credentials come from the
    environment or the config, not the AuthManager."""
    wanted = websockets_wanted(
        provider.supports_websockets, feature_enabled=feature_enabled, model_prefers=model_prefers
    )
    return wanted and not provider.requires_openai_auth


def start_warm_handshake(
    provider: ModelProviderInfo,
    *,
    thread_id: str,
    identity: ClientIdentity,
    beta_features: str | None,
    env: Mapping[str, str],
    turn_metadata: TurnMetadata = None,
    timing_metrics: bool = False,
) -> asyncio.Task[WebSocketConnection]:
    """Begin the handshake in the background with the headers the client would send (the same
    ``protocol.headers.handshake_headers``, from the same inputs).

    The credentials come from :func:`credentials_for_provider`, as the client's do. A missing
    key or a refused handshake surfaces when the first turn adopts the task, the same way a
    failed preconnect does.
    """

    async def handshake() -> WebSocketConnection:
        creds = await credentials_for_provider(provider, env).credentials()
        metadata = await resolve_turn_metadata(turn_metadata)
        headers = handshake_headers(
            HeaderInputs(
                identity=identity,
                thread_id=thread_id,
                bearer=creds.bearer,
                account_id=creds.account_id,
                turn_metadata=metadata,
                beta_features=beta_features,
                provider_headers=provider.headers(env),
                timing_metrics=timing_metrics,
            )
        )
        # https endpoints need the CA store; imported here so plain-http runs never load it.
        from codex_engine.transport.tls import ssl_context

        url = provider.websocket_responses_url(is_chatgpt=creds.is_chatgpt)
        return await connect_websocket(
            url,
            headers,
            connect_timeout=provider.websocket_connect_timeout_seconds(),
            idle_timeout=provider.stream_idle_timeout_seconds(),
            ssl_context=ssl_context(env) if url.startswith("wss://") else None,
        )

    return asyncio.ensure_future(handshake())
