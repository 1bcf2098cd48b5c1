"""The official SDK's ChatGPT sign-in calls (``login_chatgpt``, ``login_chatgpt_device_code``)
against codex-engine's app-server, with the emulator as the issuer, async and sync."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx
import pytest

from codex_engine.emulator import ResponsesEmulator
from tests.sdk_support import run_sync_sdk, sdk_client
from tests.test_app_server_accounts import approve_browser_sign_in

pytest.importorskip("openai_codex")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def chatgpt_provider(emulator: ResponsesEmulator) -> tuple[str, ...]:
    emulator.oauth.check_access_tokens = True
    return (
        "model_provider=chatgpt_emu",
        "model_providers.chatgpt_emu={"
        f'name="chatgpt-emu", base_url="{emulator.base_url}", '
        'requires_openai_auth=true, wire_api="responses"}',
    )


@pytest.fixture
def issuer_args(
    emulator: ResponsesEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK launches ``<bin> app-server --listen stdio://``; the wiretap binary it is given
    gets the emulator's issuer and a free callback port appended (hidden test options)."""
    import tests.sdk_support as support

    original = support.wiretapped_binary

    def with_issuer(directory: Path) -> Any:
        binary, log = original(directory)
        body = binary.read_text().rstrip("\n")
        extra = f' --login-issuer "{emulator.issuer_url}" --login-callback-port 0'
        binary.write_text(body + extra + "\n")
        return binary, log

    monkeypatch.setattr(support, "wiretapped_binary", with_issuer)


def sign_in_through_the_callback(emulator: ResponsesEmulator, auth_url: str) -> None:
    """What the user's browser does: the issuer approves, then redirects to the callback."""
    query = parse_qs(urlsplit(auth_url).query)
    redirect = urlsplit(query["redirect_uri"][0])
    callback = urlunsplit(("http", f"127.0.0.1:{redirect.port}", redirect.path, "", ""))
    code = approve_browser_sign_in(emulator, auth_url)
    answer = httpx.get(callback, params={"code": code, "state": query["state"][0]})
    assert answer.status_code == 200


@pytest.mark.usefixtures("issuer_args")
async def test_the_async_sdk_signs_in_with_a_device_code(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> None:
    async with sdk_client(emulator, codex_home, workdir, *chatgpt_provider(emulator)) as (
        codex,
        _log,
    ):
        handle = await codex.login_chatgpt_device_code()
        assert handle.verification_url == f"{emulator.issuer_url}/codex/device"
        assert handle.user_code
        completed = await handle.wait()
        assert completed.success is True and completed.login_id == handle.login_id
        account = (await codex.account()).account
        assert account is not None and account.root.type == "chatgpt"
        assert account.root.email == "dev@example.com"


@pytest.mark.usefixtures("issuer_args")
async def test_the_sync_sdk_signs_in_through_the_browser_and_can_cancel_an_attempt(
    emulator: ResponsesEmulator, codex_home: Path, workdir: Path
) -> None:
    def scenario(codex: Any) -> tuple[Any, Any, Any]:
        abandoned = codex.login_chatgpt()
        canceled = abandoned.cancel()
        handle = codex.login_chatgpt()
        assert handle.auth_url.startswith(f"{emulator.issuer_url}/oauth/authorize?")
        sign_in_through_the_callback(emulator, handle.auth_url)
        return canceled, handle.wait(), codex.account().account

    canceled, completed, account = await run_sync_sdk(
        emulator, codex_home, workdir, scenario, *chatgpt_provider(emulator)
    )
    assert canceled.status.value == "canceled"
    assert completed.success is True
    assert account is not None and account.root.type == "chatgpt"
