"""One exception tree for codex-engine.

Every error a user can meet derives from :class:`CodexError`; ``str(exc)`` is one line that names
the cause and, where there is one, the fix. Callers branch on the few subclasses below and on
:attr:`CodexError.retryable`. Tracebacks are for bugs, so the CLI prints ``str(exc)`` only.
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "ApiError",
    "AuthError",
    "CodexError",
    "ConfigError",
    "ConnectionFailedError",
    "ContextWindowExceededError",
    "InternalServerError",
    "InvalidRequestError",
    "ProtocolError",
    "QuotaExceededError",
    "RefreshTokenFailedError",
    "RequestTimeoutError",
    "RetryLimitError",
    "ServerOverloadedError",
    "SessionLockedError",
    "StreamError",
    "TransportError",
    "TurnInterruptedError",
    "UnauthorizedError",
    "UnexpectedStatusError",
    "UsageLimitReachedError",
    "UsageNotIncludedError",
]


class CodexError(Exception):
    """Base of every error codex-engine raises on purpose."""

    #: Whether repeating the same request may succeed (turn-level retry policy reads this).
    retryable: bool = False
    #: A wait the server asked for (``Retry-After``, ``try again in 2s``), in seconds.
    delay: float | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(CodexError):
    """A config file, override or flag is wrong. The message names the key, the file and the fix."""


class AuthError(CodexError):
    """No usable credentials, or credentials the server refused."""


class RefreshTokenFailedError(AuthError):
    """The refresh token can no longer be redeemed: the user has to sign in again."""


class TurnInterruptedError(CodexError):
    """The turn was interrupted by the user or the embedding application."""


class SessionLockedError(CodexError):
    """A recorded session is already being written by another process (or another session of
    this one); it stays readable, and forking it makes an independent copy."""

    def __init__(self, thread_id: str, *, pid: int | None = None, here: bool = False) -> None:
        if here:
            where = "already open in this process; close it first"
        else:
            holder = f" (pid {pid})" if pid is not None else ""
            where = f"open in another process{holder}; wait for it to finish"
        super().__init__(
            f"session {thread_id} is {where} or fork it: codex-engine exec fork {thread_id}"
        )
        self.thread_id = thread_id
        self.pid = pid


class ProtocolError(CodexError):
    """The peer sent something that does not follow the protocol."""


class TransportError(CodexError):
    """The request could not be carried: connection, timeout, or a stream that broke off."""

    retryable = True


class ConnectionFailedError(TransportError):
    """The server could not be reached (refused, DNS, TLS)."""


class RequestTimeoutError(TransportError):
    """The server accepted the request but went silent for longer than the idle timeout."""


class StreamError(TransportError):
    """The response stream ended or failed before ``response.completed``.

    ``delay`` carries a server-suggested wait (``try again in 1.5s``) when the server gave one.
    """

    def __init__(self, message: str, *, delay: float | None = None) -> None:
        super().__init__(message)
        self.delay = delay


class ApiError(CodexError):
    """The server answered with an error status or a failed response."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id
        self.body = body


class UnauthorizedError(ApiError):
    """HTTP 401 after every recovery step was tried."""


class ContextWindowExceededError(ApiError):
    """The conversation no longer fits the model's context window."""


class QuotaExceededError(ApiError):
    """The account has no quota left (``insufficient_quota``)."""


class UsageNotIncludedError(ApiError):
    """The plan does not include Codex usage."""


class UsageLimitReachedError(ApiError):
    """The plan's usage limit is reached; ``resets_at`` says when it frees up, if known."""

    def __init__(
        self,
        message: str,
        *,
        plan_type: str | None = None,
        resets_at: datetime | None = None,
        status: int | None = 429,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, status=status, code="usage_limit_reached", request_id=request_id)
        self.plan_type = plan_type
        self.resets_at = resets_at


class InvalidRequestError(ApiError):
    """The server rejected the request as malformed (HTTP 400 or ``invalid_prompt``)."""


class ServerOverloadedError(ApiError):
    """The server asked clients to back off (``server_is_overloaded`` / ``slow_down``)."""


class RetryLimitError(ApiError):
    """A 429 that is not a usage limit, or retries exhausted on the transport."""


class InternalServerError(ApiError):
    """HTTP 500: worth another try."""

    retryable = True


class UnexpectedStatusError(ApiError):
    """Any other non-success status; retried at turn level like the reference does."""

    retryable = True
