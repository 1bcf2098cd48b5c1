"""The turn's attempt policy as a table: failure x transport x phase x counters -> decision.

No sockets: each row is one failed attempt and what the turn must do next. The end-to-end
behaviour (sleeps, fallbacks, 401 retries against the emulator) is in test_http_client.py,
test_websocket_transport.py and test_auth_manager.py.
"""

from __future__ import annotations

import itertools
import random
from typing import get_args

import pytest

from codex_engine.client.attempts import (
    RULES,
    Action,
    AttemptPolicy,
    Attempts,
    Budget,
    Decision,
    Failure,
    FallBack,
    Phase,
    Raise,
    Reconnect,
    RecoverAuth,
    Retry,
    Transport,
    classify,
)
from codex_engine.errors import (
    CodexError,
    InternalServerError,
    InvalidRequestError,
    RetryLimitError,
    StreamError,
    UnauthorizedError,
    UsageLimitReachedError,
)
from codex_engine.transport.retry import RetryPolicy
from codex_engine.transport.websocket import FallbackToHttpError

# No jitter, so every delay in the table is exact: 0.2 s, 0.4 s, ...
POLICY = AttemptPolicy(
    request=RetryPolicy(max_retries=2, jitter=0.0),
    stream=RetryPolicy(max_retries=1, jitter=0.0),
)
NO_RETRIES = AttemptPolicy(
    request=RetryPolicy(max_retries=0, jitter=0.0),
    stream=RetryPolicy(max_retries=0, jitter=0.0),
)

P, ZERO = POLICY, NO_RETRIES
REFUSED, UNAUTHORIZED = Failure.WEBSOCKET_REFUSED, Failure.UNAUTHORIZED
TIMEOUT = Failure.WEBSOCKET_TIMEOUT
RETRYABLE, FATAL = Failure.RETRYABLE, Failure.FATAL
REQUEST, STREAM, PRE = Phase.REQUEST, Phase.STREAM, Phase.PRECONNECT
WS: Transport = "websocket"
HTTP: Transport = "http"
RQ, ST = Budget.REQUEST, Budget.STREAM


def A(req: int = 0, st: int = 0, auth: int = 0) -> Attempts:
    return Attempts(request_retries=req, stream_retries=st, auth_recoveries=auth)


# policy, failure, transport, phase, counters before, server delay -> decision, counters after
TABLE: list[
    tuple[AttemptPolicy, Failure, Transport, Phase, Attempts, float | None, Decision, Attempts]
] = [
    # A refused upgrade (426, handshake timeout) falls back at once and uses no budget.
    (P, REFUSED, WS, REQUEST, A(), None, FallBack(), A()),
    (P, REFUSED, WS, STREAM, A(st=1), None, FallBack(), A(st=1)),
    (P, REFUSED, HTTP, REQUEST, A(), None, FallBack(), A()),
    (P, REFUSED, HTTP, STREAM, A(), None, FallBack(), A()),
    (ZERO, REFUSED, WS, REQUEST, A(), None, FallBack(), A()),
    # A handshake timeout too: another try would cost another full timeout.
    (P, TIMEOUT, WS, REQUEST, A(), None, FallBack(), A()),
    (P, TIMEOUT, WS, STREAM, A(st=1), None, FallBack(), A(st=1)),
    (P, TIMEOUT, HTTP, REQUEST, A(), None, FallBack(), A()),
    (P, TIMEOUT, HTTP, STREAM, A(), None, FallBack(), A()),
    # The startup preconnect failed: not the turn's attempt, so the turn opens its own at once
    # with every budget untouched (two WebSocket attempts before HTTP sticks) ...
    (ZERO, REFUSED, WS, PRE, A(), None, Reconnect(), A()),
    (ZERO, RETRYABLE, WS, PRE, A(), 3.0, Reconnect(), A()),
    (P, UNAUTHORIZED, WS, PRE, A(), None, Reconnect(), A()),
    (P, FATAL, WS, PRE, A(), None, Reconnect(), A()),
    # ... except after a timeout, which is paid once.
    (ZERO, TIMEOUT, WS, PRE, A(), None, FallBack(), A()),
    # No HTTP attempt is ever a preconnect's; were one reported so, it would be raised.
    (P, REFUSED, HTTP, PRE, A(), None, Raise(), A()),
    (P, TIMEOUT, HTTP, PRE, A(), None, Raise(), A()),
    (P, UNAUTHORIZED, HTTP, PRE, A(), None, Raise(), A()),
    (P, RETRYABLE, HTTP, PRE, A(), None, Raise(), A()),
    (P, FATAL, HTTP, PRE, A(), None, Raise(), A()),
    # A 401: one credentials recovery per request, on any transport; the second 401 stands.
    (P, UNAUTHORIZED, HTTP, REQUEST, A(), None, RecoverAuth(), A(auth=1)),
    (P, UNAUTHORIZED, HTTP, STREAM, A(), None, RecoverAuth(), A(auth=1)),
    (P, UNAUTHORIZED, WS, REQUEST, A(), None, RecoverAuth(), A(auth=1)),
    (P, UNAUTHORIZED, WS, STREAM, A(), None, RecoverAuth(), A(auth=1)),
    (P, UNAUTHORIZED, HTTP, REQUEST, A(auth=1), None, Raise(), A(auth=2)),
    (P, UNAUTHORIZED, WS, STREAM, A(auth=1), None, Raise(), A(auth=2)),
    (ZERO, UNAUTHORIZED, HTTP, REQUEST, A(), None, RecoverAuth(), A(auth=1)),
    # WebSocket: every retryable failure draws on the stream budget ...
    (P, RETRYABLE, WS, REQUEST, A(), None, Retry(0.2, 1, 1, ST), A(st=1)),
    (P, RETRYABLE, WS, STREAM, A(), None, Retry(0.2, 1, 1, ST), A(st=1)),
    (P, RETRYABLE, WS, STREAM, A(), 3.0, Retry(3.0, 1, 1, ST), A(st=1)),
    # ... and once it is spent the session falls back, HTTP starting with fresh retry budgets.
    (P, RETRYABLE, WS, REQUEST, A(st=1), None, FallBack(), A()),
    (P, RETRYABLE, WS, STREAM, A(st=1), None, FallBack(), A()),
    (P, RETRYABLE, WS, STREAM, A(st=1, auth=1), None, FallBack(), A(auth=1)),
    (ZERO, RETRYABLE, WS, REQUEST, A(), None, FallBack(), A()),
    # HTTP before the response: the request budget, exponential backoff, Retry-After capped.
    (P, RETRYABLE, HTTP, REQUEST, A(), None, Retry(0.2, 1, 2, RQ), A(req=1)),
    (P, RETRYABLE, HTTP, REQUEST, A(req=1), None, Retry(0.4, 2, 2, RQ), A(req=2)),
    (P, RETRYABLE, HTTP, REQUEST, A(), 120.0, Retry(60.0, 1, 2, RQ), A(req=1)),
    (P, RETRYABLE, HTTP, REQUEST, A(req=2), None, Raise(), A(req=3)),
    (ZERO, RETRYABLE, HTTP, REQUEST, A(), None, Raise(), A(req=1)),
    # HTTP with the stream started: the stream budget, kept apart from the request budget.
    (P, RETRYABLE, HTTP, STREAM, A(req=2), None, Retry(0.2, 1, 1, ST), A(req=2, st=1)),
    (P, RETRYABLE, HTTP, STREAM, A(st=1), None, Raise(), A(st=2)),
    (ZERO, RETRYABLE, HTTP, STREAM, A(), None, Raise(), A(st=1)),
    # Not worth another try: raised as it is, wherever it happened.
    (P, FATAL, WS, REQUEST, A(), None, Raise(), A()),
    (P, FATAL, WS, STREAM, A(st=1), None, Raise(), A(st=1)),
    (P, FATAL, HTTP, REQUEST, A(), 5.0, Raise(), A()),
    (P, FATAL, HTTP, STREAM, A(), None, Raise(), A()),
]  # fmt: skip


@pytest.mark.parametrize(
    ("policy", "failure", "transport", "phase", "before", "server_delay", "decision", "after"),
    TABLE,
    ids=[f"{r[1].value}-{r[2]}-{r[3].value}-{i}" for i, r in enumerate(TABLE)],
)
def test_attempt_policy_row(
    policy: AttemptPolicy,
    failure: Failure,
    transport: Transport,
    phase: Phase,
    before: Attempts,
    server_delay: float | None,
    decision: Decision,
    after: Attempts,
) -> None:
    got = policy.decide(
        failure, transport=transport, phase=phase, attempts=before, server_delay=server_delay
    )
    assert got == (decision, after)


def test_every_failure_transport_and_phase_has_a_rule() -> None:
    combos = set(itertools.product(Failure, get_args(Transport), Phase))
    assert set(RULES) == combos
    covered = {(row[1], row[2], row[3]) for row in TABLE}
    assert covered == combos  # the table above exercises every rule


def test_only_rules_with_a_budget_retry_or_recover() -> None:
    for key, rule in RULES.items():
        if rule.then in (Action.RETRY, Action.RECOVER_AUTH):
            assert rule.budget is not None, key
        else:
            assert rule.budget is None, key
        assert rule.once_spent in (Action.RAISE, Action.FALL_BACK), key


def _api(cls: type[CodexError], status: int, *, delay: float | None = None) -> CodexError:
    error = cls("boom", status=status)
    error.delay = delay
    return error


# error, transport, phase -> failure
CLASSIFY: list[tuple[CodexError, Transport, Phase, Failure]] = [
    (FallbackToHttpError("426"), "websocket", REQUEST, REFUSED),
    (FallbackToHttpError("slow", timed_out=True), "websocket", REQUEST, TIMEOUT),
    (FallbackToHttpError("426"), "websocket", PRE, REFUSED),
    (_api(InternalServerError, 500), "websocket", PRE, RETRYABLE),
    (UnauthorizedError("no", status=401), "http", REQUEST, UNAUTHORIZED),
    (UnauthorizedError("no", status=401), "websocket", STREAM, UNAUTHORIZED),
    (StreamError("cut"), "http", STREAM, RETRYABLE),
    (StreamError("cut"), "websocket", REQUEST, RETRYABLE),
    (_api(InternalServerError, 500), "http", REQUEST, RETRYABLE),
    (_api(InvalidRequestError, 400), "http", REQUEST, FATAL),
    (_api(InvalidRequestError, 400), "websocket", STREAM, FATAL),
    # A 429 before any response is worth retrying only when the server said when ...
    (_api(RetryLimitError, 429, delay=2.0), "http", REQUEST, RETRYABLE),
    (_api(RetryLimitError, 429), "http", REQUEST, FATAL),
    # ... and never for a usage limit, which seconds of waiting do not lift.
    (_api(UsageLimitReachedError, 429, delay=2.0), "http", REQUEST, FATAL),
]


@pytest.mark.parametrize(("error", "transport", "phase", "failure"), CLASSIFY)
def test_classify(error: CodexError, transport: Transport, phase: Phase, failure: Failure) -> None:
    assert classify(error, transport=transport, phase=phase) is failure


def test_retry_policies_compare_and_hash_by_their_timing_not_their_generator() -> None:
    mine = RetryPolicy(max_retries=2, jitter=0.0, rng=random.Random(7))
    assert mine == RetryPolicy(max_retries=2, jitter=0.0)
    assert (mine != RetryPolicy(max_retries=2, jitter=0.0)) is False
    assert hash(mine) == hash(RetryPolicy(max_retries=2, jitter=0.0))
    assert mine != RetryPolicy(max_retries=3, jitter=0.0)
    assert mine != RetryPolicy(max_retries=2, jitter=0.1)
    assert RetryPolicy(1).rng is RetryPolicy(2).rng  # one shared generator by default


def test_attempt_counters_are_immutable_values() -> None:
    start = Attempts()
    drawn = start.drawn(Budget.STREAM).drawn(Budget.AUTH)
    assert start == Attempts()  # drawing never changes the counters it started from
    assert drawn == Attempts(0, 1, 1)
    assert hash(drawn) == hash(Attempts(stream_retries=1, auth_recoveries=1))
    with pytest.raises(AttributeError):
        drawn.request_retries = 5  # type: ignore[misc]
    match Retry(0.4, 2, 3, Budget.REQUEST):
        case Retry(after, retry, max_retries, budget):
            assert (after, retry, max_retries, budget) == (0.4, 2, 3, Budget.REQUEST)
