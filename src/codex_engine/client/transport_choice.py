"""Which transport a request takes, and the one-way switch from WebSocket to HTTP.

A small state machine with two states, ``websocket-capable`` and ``http-only``; the only move is
the sticky fallback, taken at most once per session.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TransportChoice"]


@dataclass
class TransportChoice:
    """WebSocket when the provider supports it and the feature or the model asks for it."""

    provider_supports_websockets: bool
    feature_enabled: bool
    _fallen_back: bool = False

    def use_websocket(self, *, prefer_websockets: bool = False) -> bool:
        if self._fallen_back or not self.provider_supports_websockets:
            return False
        return self.feature_enabled or prefer_websockets

    @property
    def fallen_back(self) -> bool:
        return self._fallen_back

    def fall_back(self) -> bool:
        """Switch to HTTP for the rest of the session; ``True`` only the first time."""
        if self._fallen_back:
            return False
        self._fallen_back = True
        return True
