"""Retry timing shared by the transports and the turn-level stream retry: pure, no sleeping here."""

from __future__ import annotations

import random

import msgspec

from codex_engine.errors import ApiError, CodexError

__all__ = ["RetryPolicy", "should_retry_request"]


_JITTER = random.Random()


class RetryPolicy(msgspec.Struct, frozen=True):
    """Exponential backoff ``base * 2**(n-1)`` with ±``jitter`` for retry ``n`` (1-based).

    A server-provided delay (``Retry-After``, ``try again in 2s``) replaces the backoff, capped at
    ``max_server_delay`` so a confused server cannot park a session for an hour.
    """

    max_retries: int
    base_delay: float = 0.2
    jitter: float = 0.1
    max_server_delay: float = 60.0
    #: Shared by default: a generator holds 2.5 KiB of state, and every session has two policies.
    #: Not compared or hashed (see ``__eq__``).
    rng: random.Random = _JITTER

    def _settings(self) -> tuple[int, float, float, float]:
        return (self.max_retries, self.base_delay, self.jitter, self.max_server_delay)

    def __eq__(self, other: object) -> bool:
        # Two policies with the same timing are the same policy, whichever generator they draw on.
        if not isinstance(other, RetryPolicy) or type(other) is not type(self):
            return NotImplemented
        return self._settings() == other._settings()

    def __hash__(self) -> int:
        return hash(self._settings())

    def backoff(self, retry: int) -> float:
        if retry < 1:
            raise ValueError("retry numbers start at 1")
        factor = self.rng.uniform(1.0 - self.jitter, 1.0 + self.jitter)
        return float(self.base_delay * (2 ** (retry - 1)) * factor)

    def delay(self, retry: int, server_delay: float | None = None) -> float:
        if server_delay is not None and server_delay >= 0:
            return min(server_delay, self.max_server_delay)
        return self.backoff(retry)

    def allows(self, retry: int) -> bool:
        """Whether retry number ``retry`` (1-based) is still within the budget."""
        return retry <= self.max_retries


def should_retry_request(error: CodexError) -> bool:
    """Whether a failed request (no stream yet) is worth sending again.

    5xx and transport failures are; a 429 only when the server said when to come back, and never
    a usage limit, which waiting seconds does not lift.
    """
    if isinstance(error, ApiError) and error.status == 429:
        return error.delay is not None and error.code not in _USAGE_CODES
    return error.retryable


_USAGE_CODES = frozenset({"usage_limit_reached", "usage_not_included"})
