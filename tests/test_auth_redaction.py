"""Secrets never leak: every log record (DEBUG), printed line, error text and file written
during the auth scenarios below is scanned for API keys and tokens."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from codex_engine.auth import AuthManager
from codex_engine.auth.device_code import complete_device_code, request_device_code
from codex_engine.emulator import ResponsesEmulator
from codex_engine.errors import CodexError
from tests.auth_support import manager_for, run_cli, sign_in
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
