"""`codex-engine login` / `login status` / `logout` as a user runs them, and two processes
refreshing one CODEX_HOME at once."""

from __future__ import annotations

import asyncio
import hashlib
import json
import stat
import sys
import textwrap
from pathlib import Path

from codex_engine.emulator import ResponsesEmulator
from tests.auth_support import error_lines, run_cli, sign_in, stored_tokens
from tests.conftest import cli_env

API_KEY = "sk-proj-cli-test-0123456789abcdefXYZ"


async def test_api_key_login_status_logout_round_trip(codex_home: Path, tmp_path: Path) -> None:
    login = await run_cli("login", "--with-api-key", home=codex_home, cwd=tmp_path, stdin=API_KEY)
    assert login.code == 0, login.stderr
    assert API_KEY not in login.stdout + login.stderr
    path = codex_home / "auth.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["OPENAI_API_KEY"] == API_KEY

    status = await run_cli("login", "status", home=codex_home, cwd=tmp_path)
    assert status.code == 0
    assert "API key" in status.stdout and "sk-proj-***fXYZ" not in status.stdout
    assert "sk-proj-" in status.stdout and API_KEY not in status.stdout + status.stderr

    as_json = await run_cli("login", "status", "--json", home=codex_home, cwd=tmp_path)
    data = json.loads(as_json.stdout)
    assert data["auth_mode"] == "apikey" and data["api_key"] != API_KEY

    logout = await run_cli("logout", home=codex_home, cwd=tmp_path)
    assert logout.code == 0 and "Signed out" in logout.stdout
    assert not path.exists()
    after = await run_cli("login", "status", home=codex_home, cwd=tmp_path)
    assert after.code == 1 and "Not signed in" in after.stdout
    again = await run_cli("logout", home=codex_home, cwd=tmp_path)
    assert again.code == 0 and "Not signed in" in again.stdout


async def test_empty_stdin_key_is_one_error(codex_home: Path, tmp_path: Path) -> None:
    run = await run_cli("login", "--with-api-key", home=codex_home, cwd=tmp_path, stdin="\n")
    assert run.code == 1 and len(error_lines(run)) == 1
    assert not (codex_home / "auth.json").exists()


async def test_device_code_login_against_the_emulator_issuer(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    emulator.oauth.auto_approve_after = 2  # two "pending" answers before approval
    run = await run_cli("login", "--issuer", emulator.issuer_url, home=codex_home, cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert f"{emulator.issuer_url}/codex/device" in run.stdout
    assert "dev@example.com" in run.stdout and "plus" in run.stdout
    tokens = stored_tokens(codex_home)
    assert tokens["account_id"] == "acct-emulator"
    assert tokens["access_token"] not in run.stdout + run.stderr
    assert stat.S_IMODE((codex_home / "auth.json").stat().st_mode) == 0o600

    status = await run_cli("login", "status", home=codex_home, cwd=tmp_path)
    assert status.code == 0
    assert "ChatGPT" in status.stdout and "dev@example.com" in status.stdout
    assert "plus" in status.stdout


async def test_device_code_login_in_the_wrong_workspace_is_refused(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    run = await run_cli(
        "login",
        "-c",
        "forced_chatgpt_workspace_id=acct-work",
        "--issuer",
        emulator.issuer_url,
        home=codex_home,
        cwd=tmp_path,
    )
    assert run.code == 1
    (line,) = error_lines(run)
    assert "acct-work" in line and "acct-emulator" in line
    assert not (codex_home / "auth.json").exists()


async def test_api_key_login_when_chatgpt_is_forced_is_refused(
    codex_home: Path, tmp_path: Path
) -> None:
    run = await run_cli(
        "-c",
        "forced_login_method=chatgpt",
        "login",
        "--with-api-key",
        home=codex_home,
        cwd=tmp_path,
        stdin=API_KEY,
    )
    assert run.code == 1 and "forced_login_method" in error_lines(run)[0]
    assert not (codex_home / "auth.json").exists()


async def test_damaged_auth_json_is_one_error_and_left_unchanged(
    codex_home: Path, tmp_path: Path
) -> None:
    path = codex_home / "auth.json"
    damaged = b'{"auth_mode": "chatgpt", "tokens": {"id_token": "x", "access_t'
    path.write_bytes(damaged)
    status = await run_cli("login", "status", home=codex_home, cwd=tmp_path)
    assert status.code == 1
    (line,) = error_lines(status)
    assert str(path) in line and "codex-engine logout" in line
    exec_run = await run_cli(
        "exec", "--skip-git-repo-check", "hello", home=codex_home, cwd=tmp_path
    )
    assert exec_run.code == 1
    assert str(path) in error_lines(exec_run)[0]
    assert path.read_bytes() == damaged


async def test_exec_with_chatgpt_sign_in_refreshes_and_answers(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    emulator.oauth.check_access_tokens = True
    issued = sign_in(codex_home, emulator, access_token_ttl=30)
    run = await run_cli(
        "exec",
        "--skip-git-repo-check",
        "-c",
        f"chatgpt_base_url={emulator.issuer_url}/backend-api/",
        "hello there",
        home=codex_home,
        cwd=tmp_path,
        CODEX_REFRESH_TOKEN_URL_OVERRIDE=f"{emulator.issuer_url}/oauth/token",
    )
    assert run.code == 0, run.stderr
    assert "You said: hello there" in run.stdout
    assert emulator.oauth.refresh_attempts == [issued.refresh_token]


async def test_exec_with_a_reused_refresh_token_fails_once_and_keeps_auth_json(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    emulator.oauth.check_access_tokens = True
    issued = sign_in(codex_home, emulator)
    emulator.oauth.redeem_refresh_token(issued.refresh_token)
    emulator.oauth.refresh_attempts.clear()
    emulator.oauth.expire_access_tokens()
    before = (codex_home / "auth.json").read_bytes()
    run = await run_cli(
        "exec",
        "--skip-git-repo-check",
        "-c",
        f"chatgpt_base_url={emulator.issuer_url}/backend-api/",
        "hello",
        home=codex_home,
        cwd=tmp_path,
        CODEX_REFRESH_TOKEN_URL_OVERRIDE=f"{emulator.issuer_url}/oauth/token",
    )
    assert run.code == 1
    (line,) = error_lines(run)
    assert "codex-engine login" in line
    assert emulator.oauth.refresh_attempts == [issued.refresh_token]
    assert (codex_home / "auth.json").read_bytes() == before


REFRESHER = textwrap.dedent(
    """
    import asyncio, hashlib, sys
    from pathlib import Path
    from codex_engine.auth import AuthManager

    async def main() -> None:
        manager = AuthManager(Path(sys.argv[1]), refresh_url=sys.argv[2])
        auth = await manager.auth()
        await manager.aclose()
        digest = hashlib.sha256(auth.bearer.encode()).hexdigest() if auth else "none"
        print(manager.refresh_count, digest)

    asyncio.run(main())
    """
)


async def test_two_processes_on_one_codex_home_redeem_the_refresh_token_once(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    issued = sign_in(codex_home, emulator, access_token_ttl=60)  # stale: both want to refresh
    token_url = f"{emulator.issuer_url}/oauth/token"

    async def refresher() -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            REFRESHER,
            str(codex_home),
            token_url,
            cwd=tmp_path,
            env=cli_env(codex_home),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        assert process.returncode == 0, err.decode()
        count, tail = out.decode().split()
        return int(count), tail

    results = await asyncio.gather(refresher(), refresher())
    assert emulator.oauth.redemptions[issued.refresh_token] == 1
    assert len(emulator.oauth.refresh_attempts) == 1
    assert sorted(count for count, _ in results) == [0, 1]
    # Both ended up with the same, new access token.
    old = hashlib.sha256(issued.access_token.encode()).hexdigest()
    assert results[0][1] == results[1][1] != old
