"""Secrets never leak: every log record (DEBUG), printed line, error text and file written
during the auth scenarios below is scanned for API keys and tokens."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

from codex_engine.auth import AuthManager
from codex_engine.auth.device_code import complete_device_code, request_device_code
from codex_engine.emulator import ResponsesEmulator
from codex_engine.errors import CodexError
from tests.auth_support import Run, manager_for, run_cli, sign_in
from tests.canaries import CanaryRegistry
from tests.test_auth_manager import client_for, one_request

API_KEY = "sk-proj-redaction-canary-7f3a9c1e5b2d4680"
ENV_KEY = "sk-env-redaction-canary-0a1b2c3d4e5f"


def _files_text(root: Path) -> str:
    chunks: list[str] = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != "auth.json":
            chunks.append(f"--- {path}\n{path.read_bytes().decode('utf-8', 'replace')}")
    return "\n".join(chunks)


async def test_no_secret_appears_in_logs_output_errors_or_files(
    emulator: ResponsesEmulator,
    codex_home: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    captured: list[str] = []
    chatgpt_flags = ["-c", f"chatgpt_base_url={emulator.issuer_url}/backend-api/"]
    token_env = {"CODEX_REFRESH_TOKEN_URL_OVERRIDE": f"{emulator.issuer_url}/oauth/token"}
    emulator.oauth.check_access_tokens = True

    # In process: device-code sign-in, a 401 with refresh, a refused refresh, policy errors.
    async with httpx.AsyncClient() as http:
        code = await request_device_code(http, emulator.issuer_url)
        captured.append(repr(code))
        tokens = await complete_device_code(http, emulator.issuer_url, code)
    captured.append(repr(tokens))
    manager = manager_for(codex_home, emulator)
    auth = manager.login_with_chatgpt_tokens(tokens)
    captured.append(repr(auth))
    emulator.oauth.expire_access_tokens()
    async with client_for(emulator, manager) as client:
        await one_request(client)
        spent = emulator.oauth.issued[-1]
        emulator.oauth.redeem_refresh_token(spent.refresh_token)
        emulator.oauth.expire_access_tokens()
        with pytest.raises(CodexError) as refused:
            await one_request(client)
        captured.append(str(refused.value))
        captured.append(repr(refused.value))
    await manager.aclose()
    for forced in ("api", "chatgpt"):
        policy = AuthManager(codex_home, env={}, forced_login_method=forced)  # type: ignore[arg-type]
        try:
            policy.enforce_login_policy()
        except CodexError as exc:
            captured.append(str(exc))
    (codex_home / "auth.json").write_text('{"OPENAI_API_KEY": ' + f'["{API_KEY}"]' + "}")
    with pytest.raises(CodexError) as damaged:
        AuthManager(codex_home, env={}).auth_cached()
    captured.append(str(damaged.value))

    # As a user: the CLI with debug logging, human and JSON output.
    runs = [
        await run_cli(
            "-vv", "login", "--with-api-key", home=codex_home, cwd=tmp_path, stdin=API_KEY
        ),
        await run_cli("-vv", "login", "status", home=codex_home, cwd=tmp_path),
        await run_cli("-vv", "login", "status", "--json", home=codex_home, cwd=tmp_path),
        await run_cli("-vv", "logout", home=codex_home, cwd=tmp_path),
    ]
    sign_in(codex_home, emulator, access_token_ttl=30)
    for extra in ([], ["--json"]):
        runs.append(
            await run_cli(
                "-vv",
                "exec",
                "--skip-git-repo-check",
                *extra,
                *chatgpt_flags,
                "hello",
                home=codex_home,
                cwd=tmp_path,
                **token_env,
            )
        )
    runs.append(
        await run_cli(
            "-vv",
            "exec",
            "--skip-git-repo-check",
            "--json",
            "-c",
            f"openai_base_url={emulator.base_url}",
            "hello",
            home=codex_home,
            cwd=tmp_path,
            CODEX_API_KEY=ENV_KEY,
        )
    )
    assert runs[0].code == 0 and runs[4].code == 0 and runs[5].code == 0, runs
    # The emulator only takes issuer tokens now, so the env key is refused with a 401.
    assert runs[6].code == 1 and "401" in runs[6].stdout + runs[6].stderr
    for run in runs:
        captured.extend([run.stdout, run.stderr])

    haystack = "\n".join(
        [*captured, *(record.getMessage() for record in caplog.records), _files_text(tmp_path)]
    )
    secrets = [API_KEY, ENV_KEY]
    for issued in emulator.oauth.issued:
        secrets += [issued.access_token, issued.refresh_token, issued.id_token]
    assert len(secrets) > 8
    leaked = [secret[:12] + "..." for secret in secrets if secret in haystack]
    assert leaked == []
    # The scan did see the material it was meant to scan.
    assert "You said: hello" in haystack and "sk-proj-" in haystack


# -- a whole -vv run, every credential source, both transports --------------------------------

CANARIES = {
    "env_key": "canary-env-key-5d2f9a7c31",
    "http_headers credential name": "canary-x-api-key-0e4b8f12",
    "http_headers plain name": "canary-tenant-route-77c1d3e9",
    "env_http_headers": "canary-env-header-a93e0b64",
    "experimental_bearer_token": "canary-bearer-token-2c8d4f11",
    "CODEX_API_KEY": "sk-canary-codex-api-key-6b1e7d20",
    "auth.json API key": "sk-canary-auth-json-key-94fa03c5",
    "refused header": "canary-refused-header-3e7a",
}


def _mock_provider(emulator: ResponsesEmulator, websockets: bool, *fields: str) -> list[str]:
    """`-c` flags for a custom provider; ``fields`` are TOML inline-table entries."""
    ws = "true" if websockets else "false"
    table = ", ".join(
        ['name="mock"', f'base_url="{emulator.base_url}"', f"supports_websockets={ws}", *fields]
    )
    return ["-c", "model_provider=mock", "-c", f"model_providers.mock={{{table}}}"]


@pytest.mark.parametrize("transport", ["http", "websocket"])
async def test_a_verbose_run_shows_no_credential_from_any_source(
    transport: str,
    emulator: ResponsesEmulator,
    codex_home: Path,
    tmp_path: Path,
    secret_canaries: CanaryRegistry,
) -> None:
    websockets = transport == "websocket"
    secret_canaries.add(*CANARIES.values())
    common = ["-vv", "exec", "--skip-git-repo-check", "-s", "danger-full-access"]
    if websockets:
        common += ["--enable", "responses_websockets"]
    prompt = "run `echo canary-scan-ran`"
    headers = (
        f'http_headers={{"x-api-key"="{CANARIES["http_headers credential name"]}", '
        f'"x-tenant-route"="{CANARIES["http_headers plain name"]}"}}, '
        'env_http_headers={"api-key"="PROVIDER_HEADER_VALUE"}'
    )
    header_env = {"PROVIDER_HEADER_VALUE": CANARIES["env_http_headers"]}
    runs: list[tuple[str, Run]] = []

    async def cli(label: str, *args: str, stdin: str | None = None, **env: str) -> Run:
        run = await run_cli(*args, home=codex_home, cwd=tmp_path, stdin=stdin, **env)
        runs.append((label, run))
        return run

    # A custom provider: env_key, http_headers and env_http_headers, human and JSON output.
    for extra in ([], ["--json"]):
        await cli(
            "custom provider",
            *common,
            *extra,
            *_mock_provider(emulator, websockets, 'env_key="MOCK_API_KEY"', headers),
            prompt,
            MOCK_API_KEY=CANARIES["env_key"],
            **header_env,
        )
    # A provider with a bearer token in the config.
    bearer = f'experimental_bearer_token="{CANARIES["experimental_bearer_token"]}"'
    await cli("bearer token", *common, *_mock_provider(emulator, websockets, bearer), prompt)
    # OpenAI auth: CODEX_API_KEY, then an API key stored in auth.json.
    openai = ["-c", f"openai_base_url={emulator.base_url}"]
    await cli("CODEX_API_KEY", *common, *openai, prompt, CODEX_API_KEY=CANARIES["CODEX_API_KEY"])
    login = await cli(
        "login", "-vv", "login", "--with-api-key", stdin=CANARIES["auth.json API key"]
    )
    assert login.code == 0, login.stderr
    await cli("auth.json API key", *common, *openai, prompt)
    # ChatGPT sign-in: access, refresh and id tokens.
    issued = sign_in(codex_home, emulator)
    secret_canaries.add(issued.access_token, issued.refresh_token, issued.id_token)
    chatgpt = ["-c", f"chatgpt_base_url={emulator.issuer_url}/backend-api/"]
    await cli("ChatGPT tokens", *common, *chatgpt, prompt)
    # Failures: a 401 for a sent key, and a header value the HTTP libraries refuse.
    emulator.required_bearer = "sk-something-else-entirely"
    await cli(
        "401",
        *common,
        *_mock_provider(emulator, websockets, 'env_key="MOCK_API_KEY"'),
        prompt,
        MOCK_API_KEY=CANARIES["env_key"],
    )
    emulator.required_bearer = None
    refused = f'http_headers={{"x-api-key"="{CANARIES["refused header"]}\\nX-Injected: 1"}}'
    await cli("refused header", *common, *_mock_provider(emulator, websockets, refused), prompt)

    outcomes = {label: run.code for label, run in runs}
    assert outcomes == {
        "custom provider": 0,
        "bearer token": 0,
        "CODEX_API_KEY": 0,
        "login": 0,
        "auth.json API key": 0,
        "ChatGPT tokens": 0,
        "401": 1,
        "refused header": 1,
    }, [(label, run.stderr[-600:]) for label, run in runs if run.code != outcomes.get(label)]
    # Every credential really was sent, so the scan below means something.
    sent = "\n".join(json.dumps(r.headers) for r in emulator.requests)
    for name, value in CANARIES.items():
        if name != "refused header":
            assert value in sent, name
    assert issued.access_token in sent
    if websockets:
        assert emulator.requests_of("ws_handshake")
        verbose = "\n".join(run.stderr for _, run in runs)
        assert "> x-api-key: [redacted]" in verbose and "> x-tenant-route: [redacted]" in verbose
        assert "> Authorization: [redacted]" in verbose
    haystack = "\n".join(
        [
            *(f"{run.stdout}\n{run.stderr}" for _, run in runs),
            _files_text(codex_home),
            _files_text(tmp_path),
        ]
    )
    assert "canary-scan-ran" in haystack and (codex_home / "sessions").is_dir()
    leaked = [value[:14] for value in secret_canaries.values if value in haystack]
    assert leaked == []


async def test_a_verbose_app_server_shows_no_provider_header_over_websocket(
    emulator: ResponsesEmulator,
    codex_home: Path,
    tmp_path: Path,
    secret_canaries: CanaryRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.test_app_server import RawClient, start_thread, start_turn

    monkeypatch.setenv("APP_SERVER_HEADER_VALUE", CANARIES["env_http_headers"])
    # Not `*_API_KEY`: cli_env keeps those out of subprocesses.
    monkeypatch.setenv("MOCK_PROVIDER_KEY", CANARIES["env_key"])
    secret_canaries.add(*CANARIES.values())
    headers = (
        f'http_headers={{"x-tenant-route"="{CANARIES["http_headers plain name"]}"}}, '
        'env_http_headers={"api-key"="APP_SERVER_HEADER_VALUE"}, env_key="MOCK_PROVIDER_KEY"'
    )
    flags = [*_mock_provider(emulator, True, headers), "--enable", "responses_websockets", "-vv"]
    client = await RawClient.start(codex_home, tmp_path, emulator, *flags)
    await client.initialize()
    thread_id = await start_thread(client, approvalPolicy="never")
    turn = await client.turn_completed(await start_turn(client, thread_id, "hello"))
    assert turn["status"] == "completed", turn
    assert await client.close() == 0
    (handshake, *_) = emulator.requests_of("ws_handshake")
    assert handshake.headers["api-key"] == CANARIES["env_http_headers"]
    stderr = client.stderr.decode()
    assert "> api-key: [redacted]" in stderr and "> x-tenant-route: [redacted]" in stderr
    # The autouse canary scan searches the server's stderr (RawClient.close registers it).
