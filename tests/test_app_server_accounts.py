"""``account/*`` over a real app-server process: API key, device code, browser sign-in with a
local callback, app-supplied tokens refreshed through the client after a 401, and secrets that
never reach stdout notifications or stderr."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx
import pytest

from codex_engine.emulator import ResponsesEmulator
from codex_engine.emulator.oauth import IssuedTokens, TokenRefusedError
from tests.test_app_server import Json, RawClient, start_thread

Start = Callable[..., Awaitable[RawClient]]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
async def start(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> AsyncIterator[Start]:
    """Starts one app-server; ``chatgpt=True`` points the provider at the emulator with OpenAI
    auth (the emulator then checks access tokens)."""
    clients: list[RawClient] = []

    async def launch(
        *extra: str, chatgpt: bool = False, server_args: tuple[str, ...] = ()
    ) -> RawClient:
        args = list(extra)
        if chatgpt:
            emulator.oauth.check_access_tokens = True
            provider = (
                "model_providers.chatgpt_emu={"
                f'name="chatgpt-emu", base_url="{emulator.base_url}", '
                'requires_openai_auth=true, wire_api="responses"}'
            )
            args += ["-c", "model_provider=chatgpt_emu", "-c", provider]
        client = await RawClient.start(
            codex_home,
            workdir,
            emulator,
            *args,
            server_args=("--login-issuer", emulator.issuer_url, *server_args),
        )
        clients.append(client)
        await client.initialize()
        return client

    yield launch
    for client in clients:
        with contextlib.suppress(ProcessLookupError):
            assert await client.close() == 0
        assert client.schema_errors() == []


def assert_no_secrets(client: RawClient, *secrets: str) -> None:
    """No server message and no stderr line carries any of ``secrets``."""
    for message in client.received:
        text = json.dumps(message)
        for secret in secrets:
            assert secret not in text, f"a secret leaked in {message.get('method', 'response')}"
    logs = client.stderr.decode(errors="replace")
    for secret in secrets:
        assert secret not in logs, "a secret leaked to stderr"


async def wait_method(client: RawClient, method: str, count: int = 1) -> list[Json]:
    await client.wait_for(
        lambda _m: sum(1 for m in client.notifications if m["method"] == method) >= count
    )
    return [m["params"] for m in client.notifications if m["method"] == method]


async def run_turn(client: RawClient, thread_id: str, text: str) -> Json:
    result = await client.result(
        "turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": text}]}
    )
    return await client.turn_completed(result["turn"]["id"])


async def external_login(client: RawClient, tokens: IssuedTokens, account: str) -> Json:
    return await client.result(
        "account/login/start",
        {
            "type": "chatgptAuthTokens",
            "accessToken": tokens.access_token,
            "chatgptAccountId": account,
            "chatgptPlanType": None,
        },
    )


# -- API key, device code, browser ------------------------------------------------------------


async def test_a_provider_without_openai_sign_in_shows_no_account(
    start: Start, codex_home: Path
) -> None:
    # As codex 0.163: with a provider that does not use OpenAI sign-in (here the emulator),
    # account/read shows no account even after an API key was stored.
    client = await start()
    key = "sk-test-app-server-secret-654321"
    await client.result("account/login/start", {"type": "apiKey", "apiKey": key})
    await wait_method(client, "account/updated")
    assert key in (codex_home / "auth.json").read_text()
    assert await client.result("account/read", {}) == {
        "account": None,
        "requiresOpenaiAuth": False,
        "workspaceRouting": None,
    }


async def test_api_key_login_read_and_logout(start: Start, codex_home: Path) -> None:
    # A provider that uses OpenAI sign-in (as the default `openai` provider does).
    client = await start(chatgpt=True)
    empty = await client.result("account/read", {})
    assert empty == {"account": None, "requiresOpenaiAuth": True, "workspaceRouting": None}
    key = "sk-test-app-server-secret-123456"
    assert await client.result("account/login/start", {"type": "apiKey", "apiKey": key}) == {
        "type": "apiKey"
    }
    assert (await wait_method(client, "account/login/completed"))[0] == {
        "loginId": None,
        "success": True,
        "error": None,
    }
    assert (await wait_method(client, "account/updated"))[0]["authMode"] == "apikey"
    # Exactly what codex 0.163 answers after an API-key sign-in.
    assert await client.result("account/read", {}) == {
        "account": {"type": "apiKey"},
        "requiresOpenaiAuth": True,
        "workspaceRouting": None,
    }
    assert await client.result("account/read", {"refreshToken": True}) == {
        "account": {"type": "apiKey"},
        "requiresOpenaiAuth": True,
        "workspaceRouting": None,
    }
    assert key in (codex_home / "auth.json").read_text()
    empty_key = await client.error("account/login/start", {"type": "apiKey", "apiKey": " "})
    assert empty_key["code"] == -32603
    bad = await client.error("account/login/start", {"type": "apiKey"})
    assert bad["code"] == -32600 and "apiKey" in bad["message"]
    unknown = await client.error("account/login/start", {"type": "password"})
    assert unknown["code"] == -32600

    assert await client.result("account/logout") == {}
    updates = await wait_method(client, "account/updated", 2)
    assert updates[-1] == {"authMode": None, "planType": None}
    assert (await client.result("account/read", {}))["account"] is None
    assert not (codex_home / "auth.json").exists()
    await client.close()
    assert_no_secrets(client, key)


async def test_device_code_login_completes_against_the_issuer(
    start: Start, emulator: ResponsesEmulator, codex_home: Path
) -> None:
    client = await start(chatgpt=True)
    started = await client.result("account/login/start", {"type": "chatgptDeviceCode"})
    assert started["type"] == "chatgptDeviceCode"
    assert started["verificationUrl"] == f"{emulator.issuer_url}/codex/device"
    assert started["userCode"]
    completed = await wait_method(client, "account/login/completed")
    assert completed[0] == {"loginId": started["loginId"], "success": True, "error": None}
    updated = await wait_method(client, "account/updated")
    assert updated[0] == {"authMode": "chatgpt", "planType": "plus"}
    account = await client.result("account/read", {})
    assert account["account"] == {"type": "chatgpt", "email": "dev@example.com", "planType": "plus"}
    stored = json.loads((codex_home / "auth.json").read_text())
    await client.close()
    tokens = stored["tokens"]
    assert_no_secrets(client, tokens["access_token"], tokens["refresh_token"], tokens["id_token"])


def _b64url_sha256(text: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()


def approve_browser_sign_in(emulator: ResponsesEmulator, auth_url: str) -> str:
    """Act as the issuer's authorize page: approve, and bind a code to the PKCE challenge.

    The emulator has no authorize endpoint; the token exchange is taught this one code here.
    """
    query = parse_qs(urlsplit(auth_url).query)
    challenge = query["code_challenge"][0]
    assert query["code_challenge_method"] == ["S256"]
    code = "ac-browser-test"
    original = emulator.oauth.exchange_authorization_code

    def exchange(presented: str, verifier: str) -> IssuedTokens:
        if presented != code:
            return original(presented, verifier)
        if _b64url_sha256(verifier) != challenge:
            raise TokenRefusedError("invalid_grant", status=400)
        return emulator.oauth.issue()

    emulator.oauth.exchange_authorization_code = exchange  # type: ignore[method-assign]
    return code


async def test_browser_login_completes_when_the_callback_arrives(
    start: Start, emulator: ResponsesEmulator
) -> None:
    client = await start(chatgpt=True, server_args=("--login-callback-port", "0"))
    started = await client.result("account/login/start", {"type": "chatgpt"})
    assert started["type"] == "chatgpt"
    auth_url = started["authUrl"]
    assert auth_url.startswith(f"{emulator.issuer_url}/oauth/authorize?")
    query = parse_qs(urlsplit(auth_url).query)
    redirect = urlsplit(query["redirect_uri"][0])
    assert redirect.hostname == "localhost" and redirect.path == "/auth/callback"
    callback = urlunsplit(("http", f"127.0.0.1:{redirect.port}", redirect.path, "", ""))
    code = approve_browser_sign_in(emulator, auth_url)
    async with httpx.AsyncClient() as http:
        forged = await http.get(callback, params={"code": code, "state": "not-the-state"})
        assert forged.status_code == 400
        answer = await http.get(callback, params={"code": code, "state": query["state"][0]})
    assert answer.status_code == 200 and "Signed in" in answer.text
    completed = await wait_method(client, "account/login/completed")
    assert completed == [{"loginId": started["loginId"], "success": True, "error": None}]
    account = await client.result("account/read", {})
    assert account["account"]["type"] == "chatgpt"
    assert account["account"]["email"] == "dev@example.com"


async def test_a_login_can_be_canceled(start: Start) -> None:
    client = await start(server_args=("--login-callback-port", "0"))
    started = await client.result("account/login/start", {"type": "chatgpt"})
    cancel = {"loginId": started["loginId"]}
    assert await client.result("account/login/cancel", cancel) == {"status": "canceled"}
    completed = await wait_method(client, "account/login/completed")
    assert completed[0]["success"] is False and "canceled" in completed[0]["error"]
    assert await client.result("account/login/cancel", cancel) == {"status": "notFound"}


# -- app-supplied tokens -----------------------------------------------------------------------


async def answer_refresh(client: RawClient, reply: Json | None, *, error: bool = False) -> Json:
    """Wait for one ``account/chatgptAuthTokens/refresh`` request and answer it (or not)."""
    request = await client.server_requests.get()
    assert request["method"] == "account/chatgptAuthTokens/refresh"
    if error:
        await client.send(
            {"id": request["id"], "error": {"code": -32000, "message": "host app has no tokens"}}
        )
    elif reply is not None:
        await client.send({"id": request["id"], "result": reply})
    return request


def refreshed(tokens: IssuedTokens, account: str = "acct-emulator") -> Json:
    return {
        "accessToken": tokens.access_token,
        "chatgptAccountId": account,
        "chatgptPlanType": None,
    }


async def test_external_tokens_are_refreshed_through_the_client_after_a_401(
    start: Start, emulator: ResponsesEmulator, codex_home: Path
) -> None:
    client = await start(chatgpt=True)
    first = emulator.oauth.issue()
    assert await external_login(client, first, "acct-emulator") == {"type": "chatgptAuthTokens"}
    assert (await wait_method(client, "account/login/completed"))[0]["loginId"] is None
    assert (await wait_method(client, "account/updated"))[0] == {
        "authMode": "chatgptAuthTokens",
        "planType": "plus",
    }
    account = await client.result("account/read", {})
    assert account["requiresOpenaiAuth"] is True and account["account"]["type"] == "chatgpt"
    thread_id = await start_thread(client)
    assert (await run_turn(client, thread_id, "with the first tokens"))["status"] == "completed"

    emulator.oauth.expire_access_tokens()
    second = emulator.oauth.issue()
    before = len(emulator.requests_of("http"))
    turn_start = asyncio.create_task(run_turn(client, thread_id, "after expiry"))
    request = await answer_refresh(client, refreshed(second))
    assert request["params"] == {"reason": "unauthorized", "previousAccountId": "acct-emulator"}
    turn = await turn_start
    assert turn["status"] == "completed"
    sent = emulator.requests_of("http")[before:]
    bearers = [r.headers["authorization"] for r in sent]
    assert bearers == [f"Bearer {first.access_token}", f"Bearer {second.access_token}"]
    assert client.server_requests.empty()
    # Memory only: nothing about these tokens was written under CODEX_HOME.
    assert not (codex_home / "auth.json").exists()
    written = await asyncio.to_thread(
        lambda: [p.read_text(errors="replace") for p in codex_home.rglob("*") if p.is_file()]
    )
    for content in written:
        assert first.access_token not in content and second.access_token not in content
    await client.close()
    assert_no_secrets(client, first.access_token, second.access_token)


async def test_refresh_timeout_fails_the_turn_and_the_next_request_asks_again(
    start: Start, emulator: ResponsesEmulator
) -> None:
    client = await start(chatgpt=True, server_args=("--auth-refresh-timeout-ms", "200"))
    await external_login(client, emulator.oauth.issue(), "acct-emulator")
    thread_id = await start_thread(client)
    emulator.oauth.expire_access_tokens()
    turn_start = asyncio.create_task(run_turn(client, thread_id, "nobody answers"))
    await answer_refresh(client, None)
    turn = await turn_start
    assert turn["status"] == "failed"
    assert "did not answer account/chatgptAuthTokens/refresh" in turn["error"]["message"]
    assert turn["error"]["codexErrorInfo"] == "unauthorized"

    fresh = emulator.oauth.issue()
    turn_start = asyncio.create_task(run_turn(client, thread_id, "now answer"))
    await answer_refresh(client, refreshed(fresh))
    assert (await turn_start)["status"] == "completed"


async def test_refresh_error_reply_fails_the_turn(
    start: Start, emulator: ResponsesEmulator
) -> None:
    client = await start(chatgpt=True)
    await external_login(client, emulator.oauth.issue(), "acct-emulator")
    thread_id = await start_thread(client)
    emulator.oauth.expire_access_tokens()
    turn_start = asyncio.create_task(run_turn(client, thread_id, "refresh fails"))
    await answer_refresh(client, None, error=True)
    turn = await turn_start
    assert turn["status"] == "failed"
    assert "host app has no tokens" in turn["error"]["message"]


async def test_workspace_is_checked_on_login_and_on_every_refresh(
    start: Start, emulator: ResponsesEmulator
) -> None:
    client = await start("-c", "forced_chatgpt_workspace_id=acct-emulator", chatgpt=True)
    other = emulator.oauth.issue(account_id="acct-other")
    refused = await client.error(
        "account/login/start",
        {
            "type": "chatgptAuthTokens",
            "accessToken": other.access_token,
            "chatgptAccountId": "acct-other",
        },
    )
    assert refused["code"] == -32603 and "acct-emulator" in refused["message"]
    await external_login(client, emulator.oauth.issue(), "acct-emulator")
    thread_id = await start_thread(client)
    emulator.oauth.expire_access_tokens()
    turn_start = asyncio.create_task(run_turn(client, thread_id, "wrong workspace"))
    await answer_refresh(
        client, refreshed(emulator.oauth.issue(account_id="acct-other"), "acct-other")
    )
    turn = await turn_start
    assert turn["status"] == "failed" and "workspace" in turn["error"]["message"]
    await client.close()
    assert_no_secrets(client, other.access_token)


async def test_chatgpt_sign_in_is_refused_while_external_tokens_are_active(
    start: Start, emulator: ResponsesEmulator
) -> None:
    client = await start(chatgpt=True)
    await external_login(client, emulator.oauth.issue(), "acct-emulator")
    for kind in ("chatgpt", "chatgptDeviceCode"):
        refused = await client.error("account/login/start", {"type": kind})
        assert refused["code"] == -32600 and "account/logout" in refused["message"]
    assert await client.result("account/logout") == {}
    updates = await wait_method(client, "account/updated", 2)
    assert updates[-1]["authMode"] is None
    assert (await client.result("account/read", {}))["account"] is None
    started = await client.result("account/login/start", {"type": "chatgptDeviceCode"})
    completed = await wait_method(client, "account/login/completed", 2)
    assert completed[-1] == {"loginId": started["loginId"], "success": True, "error": None}
