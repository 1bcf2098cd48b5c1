"""Helpers shared by the auth tests: sign a CODEX_HOME in with emulator-issued tokens."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from codex_engine.auth import AuthDocument, AuthManager, ChatGptAuth, TokenData
from codex_engine.auth.tokens import parse_jwt_claims
from codex_engine.emulator import ResponsesEmulator
from codex_engine.emulator.oauth import IssuedTokens
from tests.conftest import Run, run_cli

__all__ = ["Run", "error_lines", "manager_for", "run_cli", "sign_in", "stored_tokens", "token_data"]


def token_data(issued: IssuedTokens) -> TokenData:
    return TokenData(
        id_token=issued.id_token,
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        account_id=parse_jwt_claims(issued.id_token).account_id,
    )


def sign_in(
    home: Path,
    emu: ResponsesEmulator,
    *,
    access_token_ttl: float | None = None,
    last_refresh: datetime | None = None,
    **issue: Any,
) -> IssuedTokens:
    """Write `auth.json` in ``home`` with fresh emulator tokens; return them."""
    issued = emu.oauth.issue(access_token_ttl=access_token_ttl, **issue)
    auth = ChatGptAuth(token_data(issued), last_refresh or datetime.now(UTC))
    document = AuthDocument.from_auth(auth)
    home.mkdir(parents=True, exist_ok=True)
    (home / "auth.json").write_text(json.dumps(document.to_json(), indent=2))
    return issued


def manager_for(home: Path, emu: ResponsesEmulator, **kwargs: Any) -> AuthManager:
    return AuthManager(home, env={}, refresh_url=f"{emu.issuer_url}/oauth/token", **kwargs)


def stored_tokens(home: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((home / "auth.json").read_text())
    return data["tokens"]


STALE = datetime.now(UTC) - timedelta(days=30)


def error_lines(run: Run) -> list[str]:
    assert "Traceback" not in run.stderr, run.stderr
    return [line for line in run.stderr.splitlines() if line.startswith("error:")]
