"""A local Responses API emulator (HTTP+SSE and WebSocket) for the demo and the client tests.

It refuses what the real API refuses (`validation`), so a history bug fails a test.
"""

from codex_engine.emulator.recording import RecordedRequest
from codex_engine.emulator.script import HandshakeReply, RawEvent, Reply, StreamOptions
from codex_engine.emulator.server import ResponsesEmulator, TurnStateSource, serve
from codex_engine.emulator.validation import Problem, validate_request

__all__ = [
    "HandshakeReply",
    "Problem",
    "RawEvent",
    "RecordedRequest",
    "Reply",
    "ResponsesEmulator",
    "StreamOptions",
    "TurnStateSource",
    "serve",
    "validate_request",
]
