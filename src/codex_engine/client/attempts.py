"""What a turn does after a failed attempt: retry after a delay, fall back to HTTP, recover auth
or raise. A pure table over (failure, transport, phase) and the attempt counters; no I/O, no clock.
"""

from __future__ import annotations

import enum
from typing import Final, Literal

import msgspec

from codex_engine.errors import CodexError, UnauthorizedError
from codex_engine.transport.retry import RetryPolicy, should_retry_request
from codex_engine.transport.websocket import FallbackToHttpError

__all__ = [
    "AUTH_RECOVERIES",
    "RULES",
    "Action",
    "AttemptPolicy",
    "Attempts",
    "Budget",
    "Decision",
    "Failure",
    "FallBack",
    "Phase",
    "Raise",
    "Reconnect",
    "RecoverAuth",
    "Retry",
    "Rule",
    "Transport",
    "classify",
]

Transport = Literal["http", "websocket"]


class Failure(enum.Enum):
    """What went wrong, as far as the policy cares."""

    #: The server refused the WebSocket upgrade (426).
    WEBSOCKET_REFUSED = "websocket_refused"
    #: The WebSocket handshake timed out (a network that black-holes upgrades).
    WEBSOCKET_TIMEOUT = "websocket_timeout"
    #: 401: the credentials were refused.
    UNAUTHORIZED = "unauthorized"
    #: Sending the same request again may succeed (5xx, network, a stream cut short, ...).
    RETRYABLE = "retryable"
    #: Sending it again will not help (4xx, usage limits, a 429 without Retry-After, ...).
    FATAL = "fatal"


class Phase(enum.Enum):
    """How far the attempt got. Over HTTP each phase has its own retry budget."""

    #: No response yet: the HTTP request (up to its headers) or the WebSocket handshake.
    REQUEST = "request"
    #: The response (HTTP body or WebSocket messages) had started.
    STREAM = "stream"
    #: The session's startup preconnect failed; the turn found that out when it took the slot.
    #: That handshake was not the turn's, so it draws on none of the turn's budgets.
    PRECONNECT = "preconnect"


class Budget(enum.Enum):
    """What a failure draws on; the value names the retry in the log line."""

    REQUEST = "request"  # request_max_retries
    STREAM = "stream"  # stream_max_retries
    AUTH = "auth"  # one credentials recovery per request


class Action(enum.Enum):
    RETRY = "retry"
    FALL_BACK = "fall_back"
    RECOVER_AUTH = "recover_auth"
    #: Open the turn's own connection at once: no delay, no budget, no notice to the user.
    RECONNECT = "reconnect"
    RAISE = "raise"


class Rule(msgspec.Struct, frozen=True):
    """``then`` while ``budget`` lasts (always, without a budget), ``once_spent`` after."""

    then: Action
    budget: Budget | None = None
    once_spent: Action = Action.RAISE


_REFUSED = Failure.WEBSOCKET_REFUSED
_TIMEOUT = Failure.WEBSOCKET_TIMEOUT
_UNAUTHORIZED = Failure.UNAUTHORIZED
_RETRYABLE = Failure.RETRYABLE
_FATAL = Failure.FATAL
_REQUEST = Phase.REQUEST
_STREAM = Phase.STREAM
_PRECONNECT = Phase.PRECONNECT

#: The whole policy: (failure, transport, phase) -> rule; every combination has a row.
#: A refused upgrade is never retried on WebSockets (a network that black-holes them would cost
#: a connect timeout per attempt). Over WebSockets every retryable failure draws on the stream
#: budget, and once that is spent the session goes on over HTTP with fresh budgets.
#: A failed startup preconnect is not the turn's attempt: the turn opens its own handshake (so a
#: 426 or a 5xx there means two WebSocket attempts before HTTP sticks), except after a timeout,
#: which would only cost a second full timeout.
RULES: Final[dict[tuple[Failure, Transport, Phase], Rule]] = {
    (_REFUSED, "websocket", _REQUEST): Rule(Action.FALL_BACK),
    (_REFUSED, "websocket", _STREAM): Rule(Action.FALL_BACK),
    (_REFUSED, "websocket", _PRECONNECT): Rule(Action.RECONNECT),
    (_REFUSED, "http", _REQUEST): Rule(Action.FALL_BACK),
    (_REFUSED, "http", _STREAM): Rule(Action.FALL_BACK),
    (_TIMEOUT, "websocket", _REQUEST): Rule(Action.FALL_BACK),
    (_TIMEOUT, "websocket", _STREAM): Rule(Action.FALL_BACK),
    (_TIMEOUT, "websocket", _PRECONNECT): Rule(Action.FALL_BACK),
    (_TIMEOUT, "http", _REQUEST): Rule(Action.FALL_BACK),
    (_TIMEOUT, "http", _STREAM): Rule(Action.FALL_BACK),
    (_UNAUTHORIZED, "websocket", _PRECONNECT): Rule(Action.RECONNECT),
    (_RETRYABLE, "websocket", _PRECONNECT): Rule(Action.RECONNECT),
    (_FATAL, "websocket", _PRECONNECT): Rule(Action.RECONNECT),
    # A preconnect is a WebSocket handshake: an HTTP attempt never fails in this phase.
    (_REFUSED, "http", _PRECONNECT): Rule(Action.RAISE),
    (_TIMEOUT, "http", _PRECONNECT): Rule(Action.RAISE),
    (_UNAUTHORIZED, "http", _PRECONNECT): Rule(Action.RAISE),
    (_RETRYABLE, "http", _PRECONNECT): Rule(Action.RAISE),
    (_FATAL, "http", _PRECONNECT): Rule(Action.RAISE),
    (_UNAUTHORIZED, "websocket", _REQUEST): Rule(Action.RECOVER_AUTH, Budget.AUTH),
    (_UNAUTHORIZED, "websocket", _STREAM): Rule(Action.RECOVER_AUTH, Budget.AUTH),
    (_UNAUTHORIZED, "http", _REQUEST): Rule(Action.RECOVER_AUTH, Budget.AUTH),
    (_UNAUTHORIZED, "http", _STREAM): Rule(Action.RECOVER_AUTH, Budget.AUTH),
    (_RETRYABLE, "websocket", _REQUEST): Rule(Action.RETRY, Budget.STREAM, Action.FALL_BACK),
    (_RETRYABLE, "websocket", _STREAM): Rule(Action.RETRY, Budget.STREAM, Action.FALL_BACK),
    (_RETRYABLE, "http", _REQUEST): Rule(Action.RETRY, Budget.REQUEST),
    (_RETRYABLE, "http", _STREAM): Rule(Action.RETRY, Budget.STREAM),
    (_FATAL, "websocket", _REQUEST): Rule(Action.RAISE),
    (_FATAL, "websocket", _STREAM): Rule(Action.RAISE),
    (_FATAL, "http", _REQUEST): Rule(Action.RAISE),
    (_FATAL, "http", _STREAM): Rule(Action.RAISE),
}

#: A request gets new credentials at most once; a second 401 is the answer.
AUTH_RECOVERIES = 1


class Attempts(msgspec.Struct, frozen=True):
    """What one request has used of each budget so far."""

    request_retries: int = 0
    stream_retries: int = 0
    auth_recoveries: int = 0

    def drawn(self, budget: Budget) -> Attempts:
        """These counters with one more taken from ``budget``."""
        if budget is Budget.REQUEST:
            return msgspec.structs.replace(self, request_retries=self.request_retries + 1)
        if budget is Budget.STREAM:
            return msgspec.structs.replace(self, stream_retries=self.stream_retries + 1)
        return msgspec.structs.replace(self, auth_recoveries=self.auth_recoveries + 1)

    def used(self, budget: Budget) -> int:
        if budget is Budget.REQUEST:
            return self.request_retries
        if budget is Budget.STREAM:
            return self.stream_retries
        return self.auth_recoveries


class Retry(msgspec.Struct, frozen=True):
    """Send the request again after ``after`` seconds (retry ``retry`` of ``max_retries``)."""

    after: float
    retry: int
    max_retries: int
    budget: Budget


class FallBack(msgspec.Struct, frozen=True):
    """Switch the session to HTTP for good and send the request there."""


class Reconnect(msgspec.Struct, frozen=True):
    """The failure was the startup preconnect's: open the turn's own connection now."""


class RecoverAuth(msgspec.Struct, frozen=True):
    """Ask the credentials source for new credentials; retry once if it found some, else raise."""


class Raise(msgspec.Struct, frozen=True):
    """Give up: the failure is the turn's error."""


Decision = Retry | FallBack | Reconnect | RecoverAuth | Raise


def classify(error: CodexError, *, transport: Transport, phase: Phase) -> Failure:
    """The policy's view of an error.

    Only a request that got no response yet is judged by :func:`should_retry_request` (a 429
    is worth retrying only with a Retry-After); a WebSocket or a started stream goes by
    ``error.retryable``.
    """
    if isinstance(error, FallbackToHttpError):
        return Failure.WEBSOCKET_TIMEOUT if error.timed_out else Failure.WEBSOCKET_REFUSED
    if isinstance(error, UnauthorizedError):
        return Failure.UNAUTHORIZED
    if transport == "http" and phase is not Phase.STREAM:
        retryable = should_retry_request(error)
    else:
        retryable = error.retryable
    return Failure.RETRYABLE if retryable else Failure.FATAL


class AttemptPolicy(msgspec.Struct, frozen=True):
    """The retry budgets of one provider, applied through :data:`RULES`."""

    request: RetryPolicy
    stream: RetryPolicy

    def limit(self, budget: Budget) -> int:
        if budget is Budget.REQUEST:
            return self.request.max_retries
        if budget is Budget.STREAM:
            return self.stream.max_retries
        return AUTH_RECOVERIES

    def decide(
        self,
        failure: Failure,
        *,
        transport: Transport,
        phase: Phase,
        attempts: Attempts,
        server_delay: float | None = None,
    ) -> tuple[Decision, Attempts]:
        """What to do about ``failure``, and the counters the next attempt starts from.

        ``server_delay`` is the wait the server asked for (Retry-After); it replaces the
        backoff of a retry.
        """
        rule = RULES[failure, transport, phase]
        if rule.budget is None:
            return _final(rule.then), attempts
        used = attempts.drawn(rule.budget)
        count = used.used(rule.budget)
        if count > self.limit(rule.budget):
            if rule.once_spent is Action.FALL_BACK:
                # HTTP starts over with full retry budgets; the auth recovery stays used.
                return FallBack(), Attempts(auth_recoveries=attempts.auth_recoveries)
            return _final(rule.once_spent), used
        if rule.then is Action.RECOVER_AUTH:
            return RecoverAuth(), used
        policy = self.request if rule.budget is Budget.REQUEST else self.stream
        return Retry(
            policy.delay(count, server_delay), count, policy.max_retries, rule.budget
        ), used


def _final(action: Action) -> FallBack | Reconnect | Raise:
    """The decision for an action that draws on no budget (checked by the table's tests)."""
    if action is Action.FALL_BACK:
        return FallBack()
    if action is Action.RECONNECT:
        return Reconnect()
    return Raise()
