"""Which transport a request takes, and the one-way switch from WebSocket to HTTP.

:func:`websockets_wanted` is the one answer to "use WebSockets?"; the client's
:class:`TransportChoice` and exec's early handshake both ask it. The choice is a small state
machine with two states, ``websocket-capable`` and ``http-only``; the only move is the sticky
fallback, taken at most once per session.
"""

from __future__ import annotations

import msgspec

__all__ = ["TransportChoice", "websockets_wanted"]


def websockets_wanted(
    provider_supports_websockets: bool, *, feature_enabled: bool, model_prefers: bool
) -> bool:
    """WebSockets when the provider supports them and the ``responses_websockets`` feature or
    the model's catalog entry (``prefer_websockets``) asks for them."""
    return provider_supports_websockets and (feature_enabled or model_prefers)


class TransportChoice(msgspec.Struct):
    """The session's transport: :func:`websockets_wanted` until the sticky fallback to HTTP."""

    provider_supports_websockets: bool
    feature_enabled: bool
    _fallen_back: bool = False

    def use_websocket(self, *, prefer_websockets: bool = False) -> bool:
        if self._fallen_back:
            return False
        return websockets_wanted(
            self.provider_supports_websockets,
            feature_enabled=self.feature_enabled,
            model_prefers=prefer_websockets,
        )

    @property
    def fallen_back(self) -> bool:
        return self._fallen_back

    def fall_back(self) -> bool:
        """Switch to HTTP for the rest of the session; ``True`` only the first time."""
        if self._fallen_back:
            return False
        self._fallen_back = True
        return True
