"""The steps tried after a 401, as a state machine: which source of new credentials comes next
and when to stop. Pure: :class:`~codex_engine.auth.manager.AuthManager` runs each step.
"""

from __future__ import annotations

import enum
from typing import Final

from codex_engine.auth.tokens import ChatGptAuth, CodexAuth, ExternalChatGptAuth
from codex_engine.errors import IllegalTransitionError

__all__ = ["TRANSITIONS", "RecoveryOutcome", "RecoveryStep", "UnauthorizedRecovery"]


class RecoveryStep(enum.Enum):
    """Where a recovery stands: the step to run next, or how it ended."""

    #: Re-read the store: another process may already hold newer tokens of the same account.
    RELOAD = "reload"
    #: Spend the refresh token.
    REFRESH = "refresh"
    #: Ask the embedding app for new tokens (app-supplied ChatGPT auth).
    EXTERNAL = "external"
    #: New credentials are in place: the request is worth one more try.
    RECOVERED = "recovered"
    #: Nothing left to try: the 401 stands.
    EXHAUSTED = "exhausted"


class RecoveryOutcome(enum.Enum):
    """What running a step did to the credentials."""

    CHANGED = "changed"
    UNCHANGED = "unchanged"


#: Managed ChatGPT sign-in: reload, then refresh. App-supplied tokens: ask the app once.
TRANSITIONS: Final[dict[tuple[RecoveryStep, RecoveryOutcome], RecoveryStep]] = {
    (RecoveryStep.RELOAD, RecoveryOutcome.CHANGED): RecoveryStep.RECOVERED,
    (RecoveryStep.RELOAD, RecoveryOutcome.UNCHANGED): RecoveryStep.REFRESH,
    (RecoveryStep.REFRESH, RecoveryOutcome.CHANGED): RecoveryStep.RECOVERED,
    (RecoveryStep.REFRESH, RecoveryOutcome.UNCHANGED): RecoveryStep.EXHAUSTED,
    (RecoveryStep.EXTERNAL, RecoveryOutcome.CHANGED): RecoveryStep.RECOVERED,
    (RecoveryStep.EXTERNAL, RecoveryOutcome.UNCHANGED): RecoveryStep.EXHAUSTED,
}

_ENDED = frozenset({RecoveryStep.RECOVERED, RecoveryStep.EXHAUSTED})


class UnauthorizedRecovery:
    """One request's way through :data:`TRANSITIONS`; a move the table lacks raises."""

    __slots__ = ("step",)

    def __init__(self, first: RecoveryStep) -> None:
        self.step = first

    @classmethod
    def for_auth(
        cls, current: CodexAuth | None, *, has_external_refresher: bool
    ) -> UnauthorizedRecovery:
        """Where recovery starts for the credentials in use (API keys: nothing to try)."""
        if isinstance(current, ChatGptAuth):
            return cls(RecoveryStep.RELOAD)
        if isinstance(current, ExternalChatGptAuth) and has_external_refresher:
            return cls(RecoveryStep.EXTERNAL)
        return cls(RecoveryStep.EXHAUSTED)

    @property
    def done(self) -> bool:
        return self.step in _ENDED

    @property
    def recovered(self) -> bool:
        return self.step is RecoveryStep.RECOVERED

    def advance(self, outcome: RecoveryOutcome) -> RecoveryStep:
        """Record what the current step did; the step that follows."""
        following = TRANSITIONS.get((self.step, outcome))
        if following is None:
            raise IllegalTransitionError("401 recovery", self.step, outcome)
        self.step = following
        return following
