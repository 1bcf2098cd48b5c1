"""The 401 recovery steps as a state machine: every (step, outcome) pair, without a server.

Recovery against the emulator's issuer (reload, refresh, app-supplied tokens) is in
test_auth_manager.py and test_app_server_accounts.py.
"""

from __future__ import annotations

import itertools

import pytest

from codex_engine.auth.recovery import (
    TRANSITIONS,
    RecoveryOutcome,
    RecoveryStep,
    UnauthorizedRecovery,
)
from codex_engine.auth.tokens import ApiKeyAuth, ChatGptAuth, ExternalChatGptAuth, TokenData
from codex_engine.errors import IllegalTransitionError

RELOAD, REFRESH, EXTERNAL = RecoveryStep.RELOAD, RecoveryStep.REFRESH, RecoveryStep.EXTERNAL
RECOVERED, EXHAUSTED = RecoveryStep.RECOVERED, RecoveryStep.EXHAUSTED
CHANGED, UNCHANGED = RecoveryOutcome.CHANGED, RecoveryOutcome.UNCHANGED

# step, what running it did -> the next step (None: the move is illegal)
EXPECTED: dict[tuple[RecoveryStep, RecoveryOutcome], RecoveryStep | None] = {
    (RELOAD, CHANGED): RECOVERED,  # another process already refreshed: retry with that
    (RELOAD, UNCHANGED): REFRESH,  # the store holds what was refused: spend the refresh token
    (REFRESH, CHANGED): RECOVERED,
    (REFRESH, UNCHANGED): EXHAUSTED,
    (EXTERNAL, CHANGED): RECOVERED,
    (EXTERNAL, UNCHANGED): EXHAUSTED,
    # a recovery that has ended runs nothing more
    (RECOVERED, CHANGED): None,
    (RECOVERED, UNCHANGED): None,
    (EXHAUSTED, CHANGED): None,
    (EXHAUSTED, UNCHANGED): None,
}


def test_the_expectations_cover_every_pair() -> None:
    assert set(EXPECTED) == set(itertools.product(RecoveryStep, RecoveryOutcome))
    assert {key: step for key, step in EXPECTED.items() if step is not None} == TRANSITIONS


@pytest.mark.parametrize(("pair", "following"), EXPECTED.items(), ids=str)
def test_every_step_and_outcome(
    pair: tuple[RecoveryStep, RecoveryOutcome], following: RecoveryStep | None
) -> None:
    step, outcome = pair
    recovery = UnauthorizedRecovery(step)
    if following is None:
        with pytest.raises(IllegalTransitionError, match="401 recovery"):
            recovery.advance(outcome)
        assert recovery.step is step  # an illegal move changes nothing
        return
    assert recovery.advance(outcome) is following
    assert recovery.step is following
    assert recovery.done is (following in (RECOVERED, EXHAUSTED))
    assert recovery.recovered is (following is RECOVERED)


def test_managed_sign_in_reloads_then_refreshes_then_gives_up() -> None:
    recovery = UnauthorizedRecovery(RELOAD)
    walked = [recovery.step]
    while not recovery.done:
        walked.append(recovery.advance(UNCHANGED))
    assert walked == [RELOAD, REFRESH, EXHAUSTED]
    assert not recovery.recovered


TOKENS = TokenData(id_token="id", access_token="at", refresh_token="rt", account_id="acct")
EXTERNAL_AUTH = ExternalChatGptAuth(access_token="at", chatgpt_account_id="acct")


@pytest.mark.parametrize(
    ("auth", "has_refresher", "first"),
    [
        (ChatGptAuth(TOKENS), False, RELOAD),
        (ChatGptAuth(TOKENS), True, RELOAD),
        (EXTERNAL_AUTH, True, EXTERNAL),
        (EXTERNAL_AUTH, False, EXHAUSTED),  # nobody to ask for new app tokens
        (ApiKeyAuth("sk-x"), True, EXHAUSTED),  # an API key has nothing to refresh
        (None, False, EXHAUSTED),
    ],
)
def test_where_recovery_starts(
    auth: ChatGptAuth | ExternalChatGptAuth | ApiKeyAuth | None,
    has_refresher: bool,
    first: RecoveryStep,
) -> None:
    recovery = UnauthorizedRecovery.for_auth(auth, has_external_refresher=has_refresher)
    assert recovery.step is first
