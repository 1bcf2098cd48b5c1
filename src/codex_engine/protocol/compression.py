"""zstd request-body compression for the ChatGPT backend (SPEC §7): when to apply it, how, and
how to recover when a server refuses compressed bodies. No I/O. (The Content-Encoding header
comes from ``protocol/headers.py``.)
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Literal

import msgspec

from codex_engine.protocol.headers import ZSTD

if TYPE_CHECKING:
    import zstandard

__all__ = [
    "CONTENT_ENCODING",
    "DEFAULT_LEVEL",
    "REJECTED_STATUSES",
    "CompressedBody",
    "CompressionState",
    "compress_body",
    "should_compress",
]

#: Value of the ``Content-Encoding`` header on a compressed body.
CONTENT_ENCODING = ZSTD
DEFAULT_LEVEL = 3
#: Answers that mean "I cannot read this body"; anything else is about the request's content.
REJECTED_STATUSES = frozenset({400, 415})

Transport = Literal["http", "websocket"]


def should_compress(
    *,
    feature_enabled: bool,
    is_chatgpt_auth: bool,
    provider_is_openai: bool,
    transport: Transport,
) -> bool:
    """Whether the next request body is sent zstd-compressed.

    Only HTTP ``POST /responses`` bodies qualify (a WebSocket frame has no Content-Encoding), and
    only for ChatGPT sign-in to the OpenAI provider: that backend is known to accept zstd, while
    API-key endpoints and third-party providers may not.
    """
    return feature_enabled and is_chatgpt_auth and provider_is_openai and transport == "http"


class CompressedBody(msgspec.Struct, frozen=True):
    """A compressed request body and what compressing it cost."""

    data: bytes
    original_size: int
    compressed_size: int
    seconds: float

    @property
    def ratio(self) -> float:
        """original / compressed; 1.0 for an empty body."""
        return self.original_size / self.compressed_size if self.compressed_size else 1.0


# A ZstdCompressor keeps a native context that must not be used by two threads at once, and
# building one per call costs more than compressing a small body; so keep one per thread.
_local = threading.local()


def _compressor(level: int) -> zstandard.ZstdCompressor:
    cache: dict[int, zstandard.ZstdCompressor] | None = getattr(_local, "compressors", None)
    if cache is None:
        cache = {}
        _local.compressors = cache
    compressor = cache.get(level)
    if compressor is None:
        import zstandard  # here: only a session that compresses loads the native library

        # write_content_size lets servers size their buffer up front; no checksum: TLS and
        # HTTP framing already protect the body.
        compressor = zstandard.ZstdCompressor(level=level, write_content_size=True)
        cache[level] = compressor
    return compressor


def compress_body(body: bytes, level: int = DEFAULT_LEVEL) -> CompressedBody:
    """Compress ``body`` as one zstd frame. Safe to call from several threads at once."""
    started = time.perf_counter()
    data: bytes = _compressor(level).compress(body)
    seconds = time.perf_counter() - started
    return CompressedBody(
        data=data, original_size=len(body), compressed_size=len(data), seconds=seconds
    )


class CompressionState:
    """Per-session switch: on while the server accepts zstd bodies, off for good once it refuses.

    When a compressed request is answered 400 or 415, :meth:`on_rejected` turns compression off
    for the rest of the session and tells the caller to resend that request uncompressed; a
    request that was already uncompressed is never resent. :meth:`take_warning` hands out the
    user-facing warning exactly once.
    """

    __slots__ = ("_enabled", "_warned", "_warning")

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._warning: str | None = None
        self._warned = False

    @property
    def enabled(self) -> bool:
        """Whether the next eligible request should be compressed."""
        return self._enabled

    def on_rejected(self, status: int, *, was_compressed: bool = True) -> bool:
        """Record an error answer; ``True`` means resend this request uncompressed now."""
        if not was_compressed or status not in REJECTED_STATUSES:
            return False
        # Two compressed requests may be in flight when the first refusal arrives: both are
        # resent, but the session is switched off and the user warned only once.
        self._enabled = False
        if not self._warned:
            self._warned = True
            self._warning = (
                f"the server answered HTTP {status} to a zstd-compressed request; sending "
                "requests uncompressed for the rest of this session (set "
                "`features.enable_request_compression = false` to skip the retry)"
            )
        return True

    def take_warning(self) -> str | None:
        """The pending warning, once; ``None`` afterwards or when there is nothing to say."""
        warning, self._warning = self._warning, None
        return warning
