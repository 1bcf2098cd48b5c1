"""AuthManager against the emulator's issuer: refresh, 401 recovery, coalescing, policy."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from codex_engine.auth import (
    ApiKeyAuth,
    AuthManager,
    ChatGptAuth,
    ExternalChatGptAuth,
    RefreshFailure,
    RefreshRejectedError,
    RefreshUnavailableError,
)
from codex_engine.client.credentials import AuthManagerCredentials, credentials_for_provider
from codex_engine.client.model_client import ModelClient
from codex_engine.config.loader import load_config
from codex_engine.config.providers import ModelProviderInfo, built_in_providers
from codex_engine.core.events import TurnCompleted, TurnFailed
from codex_engine.core.launch import open_session
from codex_engine.emulator import ResponsesEmulator
from codex_engine.errors import AuthError, RefreshTokenFailedError, UnauthorizedError
from codex_engine.protocol.events import Completed
from codex_engine.protocol.items import user_message
from codex_engine.protocol.request import Prompt, RequestContext
from tests.auth_support import STALE, manager_for, sign_in, stored_tokens

CTX = RequestContext(model="gpt-5.1-codex", thread_id="thread-1", turn_id="turn-1")


def chatgpt_provider(emu: ResponsesEmulator) -> ModelProviderInfo:
    # The built-in openai provider, with ChatGPT traffic pointed at the emulator.
    return built_in_providers()["openai"].with_chatgpt_base_url(f"{emu.issuer_url}/backend-api/")


def client_for(emu: ResponsesEmulator, manager: AuthManager) -> ModelClient:
    return ModelClient(
        provider=chatgpt_provider(emu),
        credentials=AuthManagerCredentials(manager),
        thread_id="thread-1",
        env={},
    )


async def one_request(client: ModelClient, text: str = "hi") -> None:
    prompt = Prompt(input=[user_message(text)], base_instructions="Be brief.")
    events = [e async for e in client.new_session().stream(prompt, CTX)]
    assert isinstance(events[-1], Completed)


async def test_chatgpt_requests_go_to_the_configured_backend_with_the_account_header(
    emulator: ResponsesEmulator, codex_home: Path
) -> None:
    emulator.oauth.check_access_tokens = True
    issued = sign_in(codex_home, emulator)
    manager = manager_for(codex_home, emulator)
    async with client_for(emulator, manager) as client:
        await one_request(client)
    (request,) = emulator.requests_of("http")
    assert request.path == "/backend-api/codex/responses"
    assert request.headers["authorization"] == f"Bearer {issued.access_token}"
    assert request.headers["chatgpt-account-id"] == "acct-emulator"
    assert emulator.oauth.refresh_attempts == []
    await manager.aclose()


async def test_access_token_expiring_within_five_minutes_is_refreshed_before_the_request(
    emulator: ResponsesEmulator, codex_home: Path
) -> None:
    emulator.oauth.check_access_tokens = True
    issued = sign_in(codex_home, emulator, access_token_ttl=120)
    before = (codex_home / "auth.json").read_text()
    manager = manager_for(codex_home, emulator)
    async with client_for(emulator, manager) as client:
        await one_request(client)
    assert emulator.oauth.refresh_attempts == [issued.refresh_token]
    (request,) = emulator.requests_of("http")
    assert request.headers["authorization"] != f"Bearer {issued.access_token}"
    after = json.loads((codex_home / "auth.json").read_text())
    assert after["tokens"]["refresh_token"] != issued.refresh_token
    assert after["last_refresh"] != json.loads(before)["last_refresh"]
    await manager.aclose()


async def test_without_a_readable_expiry_the_eight_day_rule_applies(
    emulator: ResponsesEmulator, codex_home: Path
) -> None:
    issued = sign_in(codex_home, emulator, last_refresh=STALE)
    # An opaque (non-JWT) access token has no `exp`; only last_refresh can tell its age.
    data = json.loads((codex_home / "auth.json").read_text())
    data["tokens"]["access_token"] = "opaque-access-token"
    (codex_home / "auth.json").write_text(json.dumps(data))
    manager = manager_for(codex_home, emulator)
    auth = await manager.auth()
    assert isinstance(auth, ChatGptAuth)
    assert emulator.oauth.refresh_attempts == [issued.refresh_token]
    assert manager.is_stale(auth) is False
    await manager.aclose()


async def test_401_refreshes_once_and_the_retry_succeeds(
    emulator: ResponsesEmulator, codex_home: Path
) -> None:
    emulator.oauth.check_access_tokens = True
    issued = sign_in(codex_home, emulator)
    emulator.oauth.expire_access_tokens()  # the server no longer accepts it; its exp says ok
    manager = manager_for(codex_home, emulator)
    async with client_for(emulator, manager) as client:
        await one_request(client)
    assert emulator.oauth.refresh_attempts == [issued.refresh_token]
    statuses = [r.headers["authorization"] for r in emulator.requests_of("http")]
    assert len(statuses) == 2 and statuses[0] != statuses[1]
    await manager.aclose()


async def test_twenty_concurrent_turns_hitting_401_share_exactly_one_refresh(
    emulator: ResponsesEmulator, codex_home: Path
) -> None:
    emulator.oauth.check_access_tokens = True
    issued = sign_in(codex_home, emulator)
    emulator.oauth.expire_access_tokens()
    manager = manager_for(codex_home, emulator)
    async with client_for(emulator, manager) as client:
        await asyncio.gather(*(one_request(client, f"turn {n}") for n in range(20)))
    assert emulator.oauth.refresh_attempts == [issued.refresh_token]
    assert manager.refresh_count == 1
    assert len(emulator.requests_of("http")) == 40
    await manager.aclose()


async def test_reused_refresh_token_is_one_clear_error_without_a_loop(
    emulator: ResponsesEmulator, codex_home: Path
) -> None:
    emulator.oauth.check_access_tokens = True
    issued = sign_in(codex_home, emulator)
    emulator.oauth.redeem_refresh_token(issued.refresh_token)  # someone else spent it
    emulator.oauth.refresh_attempts.clear()
    emulator.oauth.expire_access_tokens()
    before = (codex_home / "auth.json").read_bytes()
    manager = manager_for(codex_home, emulator)
    async with client_for(emulator, manager) as client:
        with pytest.raises(RefreshRejectedError) as info:
            await one_request(client)
        assert info.value.reason is RefreshFailure.REUSED
        assert not info.value.retryable
        assert "codex-engine login" in str(info.value)
        # A second turn fails the same way without asking the issuer again.
        with pytest.raises(RefreshTokenFailedError):
            await one_request(client)
    assert emulator.oauth.refresh_attempts == [issued.refresh_token]
    assert len(emulator.requests_of("http")) == 2
    assert (codex_home / "auth.json").read_bytes() == before
    await manager.aclose()


async def test_proactive_refresh_refused_after_expiry_raises(
    emulator: ResponsesEmulator, codex_home: Path
) -> None:
    issued = sign_in(codex_home, emulator, access_token_ttl=-10)
    emulator.oauth.revoke(issued.refresh_token)
    manager = manager_for(codex_home, emulator)
    with pytest.raises(RefreshRejectedError) as info:
        await manager.auth()
    assert info.value.reason is RefreshFailure.REVOKED
    await manager.aclose()


async def test_proactive_refresh_refused_before_expiry_keeps_the_current_token(
    emulator: ResponsesEmulator, codex_home: Path
) -> None:
    issued = sign_in(codex_home, emulator, access_token_ttl=60)
    emulator.oauth.revoke(issued.refresh_token)
    manager = manager_for(codex_home, emulator)
    auth = await manager.auth()
    assert isinstance(auth, ChatGptAuth) and auth.bearer == issued.access_token
    await manager.aclose()


async def test_transient_refresh_failure_is_retryable(
    emulator: ResponsesEmulator, codex_home: Path
) -> None:
    sign_in(codex_home, emulator)
    manager = AuthManager(codex_home, env={}, refresh_url=f"{emulator.issuer_url}/no-such-path")
    with pytest.raises(RefreshUnavailableError) as info:
        await manager.refresh_token()
    assert info.value.retryable and "404" in str(info.value)
    await manager.aclose()


async def test_refresh_adopts_tokens_another_writer_stored_instead_of_spending_its_own(
    emulator: ResponsesEmulator, codex_home: Path
) -> None:
    sign_in(codex_home, emulator)
    manager = manager_for(codex_home, emulator)
    manager.auth_cached()
    newer = sign_in(codex_home, emulator)  # "another process" refreshed meanwhile
    auth = await manager.refresh_token()
    assert isinstance(auth, ChatGptAuth) and auth.bearer == newer.access_token
    assert emulator.oauth.refresh_attempts == []
    await manager.aclose()


async def test_401_after_signing_in_to_another_account_elsewhere_asks_to_sign_in(
    emulator: ResponsesEmulator, codex_home: Path
) -> None:
    emulator.oauth.check_access_tokens = True
    sign_in(codex_home, emulator)
    emulator.oauth.expire_access_tokens()
    manager = manager_for(codex_home, emulator)
    manager.auth_cached()
    sign_in(codex_home, emulator, account_id="acct-other")
    emulator.oauth.expire_access_tokens()
    async with client_for(emulator, manager) as client:
        with pytest.raises(RefreshTokenFailedError, match="another account"):
            await one_request(client)
    assert emulator.oauth.refresh_attempts == []
    await manager.aclose()


async def test_api_key_401_is_not_recovered(emulator: ResponsesEmulator, codex_home: Path) -> None:
    emulator.required_bearer = "sk-right"
    manager = AuthManager(codex_home, env={})
    manager.login_with_api_key("sk-wrong")
    provider = ModelProviderInfo(name="t", base_url=emulator.base_url, requires_openai_auth=True)
    source = credentials_for_provider(provider, {}, manager)
    async with ModelClient(provider=provider, credentials=source, thread_id="t", env={}) as client:
        with pytest.raises(UnauthorizedError):
            await one_request(client)
    assert len(emulator.requests_of("http")) == 1


async def test_external_tokens_ask_the_refresher_once(
    emulator: ResponsesEmulator, codex_home: Path
) -> None:
    emulator.oauth.check_access_tokens = True
    stale = emulator.oauth.issue()
    emulator.oauth.expire_access_tokens()
    manager = manager_for(codex_home, emulator)
    manager.set_external_auth(ExternalChatGptAuth(stale.access_token, "acct-emulator"))
    calls: list[str | None] = []

    async def refresher(previous: str | None) -> ExternalChatGptAuth:
        calls.append(previous)
        return ExternalChatGptAuth(emulator.oauth.issue().access_token, "acct-emulator")

    manager.set_external_refresher(refresher)
    async with client_for(emulator, manager) as client:
        await one_request(client)
    assert calls == ["acct-emulator"]
    assert emulator.oauth.refresh_attempts == []
    assert not (codex_home / "auth.json").exists()  # app tokens stay in memory


async def test_env_api_key_wins_only_where_allowed(codex_home: Path) -> None:
    AuthManager(codex_home, env={}).login_with_api_key("sk-stored")
    env = {"CODEX_API_KEY": "sk-from-env"}
    assert AuthManager(codex_home, env=env).auth_cached() == ApiKeyAuth("sk-stored")
    allowed = AuthManager(codex_home, env=env, enable_codex_api_key_env=True)
    assert allowed.auth_cached() == ApiKeyAuth("sk-from-env")


def test_forced_workspace_mismatch_signs_out_with_a_clear_message(
    emulator: ResponsesEmulator, codex_home: Path
) -> None:
    sign_in(codex_home, emulator, account_id="acct-personal")
    manager = manager_for(codex_home, emulator, forced_chatgpt_workspace_id="acct-work")
    with pytest.raises(AuthError) as info:
        manager.enforce_login_policy()
    message = str(info.value)
    assert "acct-work" in message and "acct-personal" in message and "signed out" in message
    assert not (codex_home / "auth.json").exists()


def test_forced_workspace_match_is_accepted(emulator: ResponsesEmulator, codex_home: Path) -> None:
    sign_in(codex_home, emulator, account_id="acct-work")
    manager = manager_for(codex_home, emulator, forced_chatgpt_workspace_id="acct-work")
    manager.enforce_login_policy()
    assert (codex_home / "auth.json").exists()


async def test_refresh_result_in_another_workspace_is_refused(
    emulator: ResponsesEmulator, codex_home: Path
) -> None:
    sign_in(codex_home, emulator, account_id="acct-work")
    emulator.oauth.account.account_id = "acct-elsewhere"  # the issuer now hands out another one
    manager = manager_for(codex_home, emulator, forced_chatgpt_workspace_id="acct-work")
    with pytest.raises(AuthError, match="acct-elsewhere"):
        await manager.refresh_token()
    assert not (codex_home / "auth.json").exists()
    await manager.aclose()


@pytest.mark.parametrize(
    ("method", "stored_kind", "expected"),
    [("chatgpt", "apikey", "requires ChatGPT"), ("api", "chatgpt", "requires an API key")],
)
def test_forced_login_method_mismatch(
    emulator: ResponsesEmulator, codex_home: Path, method: str, stored_kind: str, expected: str
) -> None:
    if stored_kind == "apikey":
        AuthManager(codex_home, env={}).login_with_api_key("sk-forced")
    else:
        sign_in(codex_home, emulator)
    manager = AuthManager(codex_home, env={}, forced_login_method=method)  # type: ignore[arg-type]
    with pytest.raises(AuthError, match=expected):
        manager.enforce_login_policy()
    assert not (codex_home / "auth.json").exists()


async def test_open_session_uses_the_auth_manager_and_chatgpt_base_url(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    emulator.oauth.check_access_tokens = True
    sign_in(codex_home, emulator, access_token_ttl=60)
    config = load_config(
        codex_home=codex_home,
        overrides=[(["chatgpt_base_url"], f"{emulator.issuer_url}/backend-api/")],
        cwd=tmp_path,
        env={},
    )
    env = {"CODEX_REFRESH_TOKEN_URL_OVERRIDE": f"{emulator.issuer_url}/oauth/token"}
    async with open_session(config, env=env) as session:
        events = [e async for e in session.run_turn("hello")]
    assert not [e for e in events if isinstance(e, TurnFailed)], events
    assert isinstance(events[-1], TurnCompleted)
    assert len(emulator.oauth.refresh_attempts) == 1
    assert stored_tokens(codex_home)["refresh_token"] != emulator.oauth.refresh_attempts[0]
    assert {r.path for r in emulator.requests if r.kind != "models"} <= {
        "/backend-api/codex/responses"
    }


async def test_open_session_without_credentials_fails_before_the_first_turn(
    codex_home: Path, tmp_path: Path
) -> None:
    config = load_config(codex_home=codex_home, cwd=tmp_path, env={})
    with pytest.raises(AuthError, match="codex-engine login"):
        async with open_session(config, env={}):
            pass
