"""Every exception codex-engine raises, in one tree: each class says when it is raised.

Every error a user can meet derives from :class:`CodexError`; ``str(exc)`` is one line that names
the cause and, where there is one, the fix. Callers branch on the few subclasses below and on
:attr:`CodexError.retryable`. Tracebacks are for bugs, so the CLI prints ``str(exc)`` only.

Exception
└── CodexError                          base: anything codex-engine raises on purpose
    ├── ConfigError                     config.toml, a ``-c`` override, a flag or env value is wrong
    │   └── ConfigEditError             a config edit has a bad key path or would be invalid
    ├── InputError                      a CLI argument, stdin prompt, path or turn input is unusable
    ├── AuthError                       no usable credentials, or the server refused them
    │   └── RefreshTokenFailedError     the ChatGPT sign-in cannot be renewed: sign in again
    │       └── RefreshRejectedError    the issuer refused the refresh token (``reason`` says why)
    ├── TransportError                  a request could not be carried (``retryable``)
    │   ├── ConnectionFailedError       the server could not be reached (refused, DNS, TLS)
    │   ├── RequestTimeoutError         the server went silent for longer than the idle timeout
    │   ├── StreamError                 a response stream ended before ``response.completed``
    │   └── RefreshUnavailableError     a token refresh failed for now (network, 5xx, garbled)
    ├── FallbackToHttpError             WebSockets unusable (426, handshake timeout): use HTTP
    ├── ApiError                        the server answered with an error status or failed response
    │   ├── UnauthorizedError           HTTP 401 after every recovery step was tried
    │   ├── ContextWindowExceededError  the conversation no longer fits the context window
    │   ├── QuotaExceededError          the account has no quota left (``insufficient_quota``)
    │   ├── UsageNotIncludedError       the plan does not include Codex usage
    │   ├── UsageLimitReachedError      the plan's usage limit is reached (``resets_at``)
    │   ├── InvalidRequestError         the API refused the request as malformed (400)
    │   ├── ServerOverloadedError       the server asked clients to back off
    │   ├── RetryLimitError             a 429 that is not a usage limit, or retries ran out
    │   ├── InternalServerError         HTTP 500 (``retryable``)
    │   └── UnexpectedStatusError       any other error status (``retryable``)
    ├── ProtocolError                   a peer broke its protocol (reserved: not raised today)
    ├── SessionLockedError              a recorded session already has a writer
    ├── RolloutError                    a rollout file cannot be read, written or found
    ├── ThreadNotFoundError             no recorded session matches the id (or none to resume)
    ├── PatchError                      an apply_patch patch is malformed or does not fit the files
    ├── TurnInterruptedError            reserved: an interrupt ends a turn with ``TurnInterrupted``
    ├── JsonRpcError                    an app-server request failed with this JSON-RPC code
    ├── ConnectionClosedError           the app-server's client left before answering the server
    ├── InvalidParamsError              an app-server request's params are wrong (-32600)
    ├── InvalidRpcRequestError          an app-server request is not valid now (-32600)
    ├── NotSupportedError               an app-server method codex-engine does not serve (-32600)
    ├── McpStartupError                 a ``required = true`` MCP server did not start
    ├── McpCallError                    a request to an MCP server failed (told to the model)
    └── ProcessStartError               a command could not be started (no program or directory)
RuntimeError
└── IllegalTransitionError              a state machine was asked for a move it forbids (a bug)

Outside the tree, because none of them reaches a caller (tests/test_errors_tree.py checks it):
``core.git_info._GitMissing`` (no git executable: the git context is left out),
``core.tools.shell_script._Refused`` (a script is not provably harmless: ``None``),
``app_server.pagination.CursorError`` (answered as :class:`InvalidParamsError`) and
``emulator.oauth.TokenRefusedError`` (the emulator's issuer answers 400/401 with it).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "ApiError",
    "AuthError",
    "CodexError",
    "ConfigEditError",
    "ConfigError",
    "ConnectionClosedError",
    "ConnectionFailedError",
    "ContextWindowExceededError",
    "FallbackToHttpError",
    "IllegalTransitionError",
    "InputError",
    "InternalServerError",
    "InvalidParamsError",
    "InvalidRequestError",
    "InvalidRpcRequestError",
    "JsonRpcError",
    "McpCallError",
    "McpStartupError",
    "NotSupportedError",
    "PatchError",
    "ProcessStartError",
    "ProtocolError",
    "QuotaExceededError",
    "RefreshFailure",
    "RefreshRejectedError",
    "RefreshTokenFailedError",
    "RefreshUnavailableError",
    "RequestTimeoutError",
    "RetryLimitError",
    "RolloutError",
    "ServerOverloadedError",
    "SessionLockedError",
    "StreamError",
    "ThreadNotFoundError",
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


# --- what the user handed us


class ConfigError(CodexError):
    """A config file, override or flag is wrong. The message names the key, the file and the fix."""


class ConfigEditError(ConfigError):
    """An edit that cannot be made: a bad key path, or a result that is not a valid config."""


class InputError(CodexError):
    """Text from the command line, stdin or the environment, or an app-server turn input item,
    that the engine cannot carry."""


# --- credentials


class AuthError(CodexError):
    """No usable credentials, or credentials the server refused."""


class RefreshTokenFailedError(AuthError):
    """The refresh token can no longer be redeemed: the user has to sign in again."""


class RefreshFailure(StrEnum):
    """Why the issuer refused a refresh token."""

    EXPIRED = "refresh_token_expired"
    REUSED = "refresh_token_reused"
    REVOKED = "refresh_token_invalidated"
    OTHER = "other"


_REFRESH_MESSAGES = {
    RefreshFailure.EXPIRED: "your sign-in has expired",
    RefreshFailure.REUSED: "your sign-in was already renewed elsewhere (its refresh token was "
    "used before)",
    RefreshFailure.REVOKED: "your sign-in was revoked",
    RefreshFailure.OTHER: "the sign-in server refused to renew it",
}


class RefreshRejectedError(RefreshTokenFailedError):
    """The issuer refused the refresh token for good: sign in again. Not retryable."""

    def __init__(self, reason: RefreshFailure) -> None:
        super().__init__(
            f"ChatGPT credentials could not be renewed: {_REFRESH_MESSAGES[reason]}. "
            "Sign in again with `codex-engine login`."
        )
        self.reason = reason


# --- carrying a request


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


class RefreshUnavailableError(TransportError):
    """The refresh could not be completed now (network, 5xx, garbled answer); worth a retry."""


class FallbackToHttpError(CodexError):
    """WebSockets cannot be used here; the session should switch to HTTP at once.

    Raised for a 426 answer to the upgrade, and for a handshake that timed out: a network that
    black-holes WebSockets would otherwise cost one full connect timeout per retry.
    """

    #: ``True`` for a handshake that timed out (another try would cost another full timeout),
    #: ``False`` for a 426 answer.
    timed_out: bool = False

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


# --- what the API answered


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


class ProtocolError(CodexError):
    """The peer sent something that does not follow the protocol."""


# --- recorded sessions and turns


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


class RolloutError(CodexError):
    """A rollout file cannot be read, written or found."""


class PatchError(CodexError):
    """An ``apply_patch`` patch is malformed, or its hunks do not match the files it edits."""


class ThreadNotFoundError(CodexError):
    """No recorded session matches the id (or there is none to resume)."""


class TurnInterruptedError(CodexError):
    """The turn was interrupted by the user or the embedding application."""


# --- the app-server's JSON-RPC


class JsonRpcError(CodexError):
    """A request failed; the server answers it with this code, message and optional data."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.data = data


class ConnectionClosedError(CodexError):
    """The client went away before answering a request the server sent it."""


class InvalidParamsError(CodexError):
    """The params are wrong; the message says which field and why (no method name: added here)."""


class InvalidRpcRequestError(CodexError):
    """The request is well formed but not valid now (unknown thread, a turn already running).

    Not :class:`InvalidRequestError`, which is the Responses API refusing a request of ours.
    """


class NotSupportedError(CodexError):
    """A method the reference has that codex-engine does not serve (yet)."""


# --- MCP servers


class McpStartupError(CodexError):
    """A server marked `required = true` did not start, so the session does not either."""


class McpCallError(CodexError):
    """A request to a server failed; the message is the reason (it goes to the model)."""


class ProcessStartError(CodexError):
    """A unified-exec or ``command/exec`` command could not be started: its program or working
    directory does not exist, or it may not be run. One line, told to the model or the client."""


# --- bugs


class IllegalTransitionError(RuntimeError):
    """A state machine (preconnect slot, 401 recovery) was asked for a move its table forbids.

    A bug in codex-engine, not a condition a user can fix: deliberately not a :class:`CodexError`,
    so it is never printed as a one-line error and its traceback is kept.
    """

    def __init__(self, machine: str, state: object, event: object) -> None:
        super().__init__(f"{machine}: no transition from {state} on {event}")
        self.machine = machine
        self.state = state
        self.event = event
