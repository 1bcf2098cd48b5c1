"""A local Responses API emulator (HTTP+SSE and WebSocket) for the demo and the client tests."""

from codex_engine.emulator.script import HandshakeReply, Reply, StreamOptions
from codex_engine.emulator.server import RecordedRequest, ResponsesEmulator, TurnStateSource, serve

__all__ = [
    "HandshakeReply",
    "RecordedRequest",
    "Reply",
    "ResponsesEmulator",
    "StreamOptions",
    "TurnStateSource",
    "serve",
]
