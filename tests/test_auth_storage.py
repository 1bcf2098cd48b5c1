"""Credential stores: auth.json (atomic, 0600, damaged files left alone), keyring, memory."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from codex_engine.auth import ApiKeyAuth, AuthDocument, AuthManager
from codex_engine.auth.storage import (
    AutoAuthStore,
    EphemeralAuthStore,
    FileAuthStore,
    KeyringAuthStore,
    RefreshLock,
)
from codex_engine.errors import AuthError, ConfigError


def test_saved_file_is_private_and_reference_shaped(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = FileAuthStore(home)
    store.save(AuthDocument.from_auth(ApiKeyAuth("sk-test-key")))
    path = home / "auth.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data == {"auth_mode": "apikey", "OPENAI_API_KEY": "sk-test-key"}
    # No temp files are left behind by the atomic write.
    assert sorted(p.name for p in home.iterdir()) == ["auth.json"]


def test_overwriting_keeps_0600_even_if_the_old_file_was_wider(tmp_path: Path) -> None:
    store = FileAuthStore(tmp_path)
    (tmp_path / "auth.json").write_text("{}")
    (tmp_path / "auth.json").chmod(0o644)
    store.save(AuthDocument.from_auth(ApiKeyAuth("sk-two")))
    assert stat.S_IMODE((tmp_path / "auth.json").stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"\xff\xfe\x00", b'{"tokens": {"id_token": 5}}', b'["sk-secret-in-a-list"]'],
)
def test_damaged_file_gives_one_error_and_is_left_unchanged(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "auth.json"
    path.write_bytes(content)
    path.chmod(0o600)
    manager = AuthManager(tmp_path, env={})
    with pytest.raises(AuthError) as info:
        manager.auth_cached()
    message = str(info.value)
    assert str(path) in message and "codex-engine logout" in message
    assert "\n" not in message and "sk-secret" not in message
    assert path.read_bytes() == content


def test_unreadable_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "auth.json"
    path.mkdir()  # reading a directory fails with an OSError on every platform
    with pytest.raises(AuthError, match="cannot read"):
        FileAuthStore(tmp_path).load()


def test_ephemeral_store_never_touches_disk(tmp_path: Path) -> None:
    manager = AuthManager(tmp_path, store="ephemeral", env={})
    manager.login_with_api_key("sk-memory-only")
    assert list(tmp_path.iterdir()) == []
    assert isinstance(AuthManager(tmp_path, store="ephemeral", env={}).auth_cached(), ApiKeyAuth)
    assert manager.logout()
    assert EphemeralAuthStore(tmp_path).load() is None


class FakeKeyring:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, account: str) -> str | None:
        return self.entries.get((service, account))

    def set_password(self, service: str, account: str, value: str) -> None:
        self.entries[(service, account)] = value

    def delete_password(self, service: str, account: str) -> None:
        del self.entries[(service, account)]


def test_keyring_store_round_trip(tmp_path: Path) -> None:
    keyring: Any = FakeKeyring()
    store = KeyringAuthStore(tmp_path, keyring)
    store.save(AuthDocument.from_auth(ApiKeyAuth("sk-kr")))
    ((service, account),) = keyring.entries
    assert service == "Codex Auth" and account.startswith("cli|") and len(account) == 20
    loaded = store.load()
    assert loaded is not None and loaded.to_auth() == ApiKeyAuth("sk-kr")
    assert store.delete() and store.load() is None and not store.delete()


def test_auto_store_prefers_keyring_and_removes_the_file_copy(tmp_path: Path) -> None:
    FileAuthStore(tmp_path).save(AuthDocument.from_auth(ApiKeyAuth("sk-old")))
    store = AutoAuthStore(tmp_path, FakeKeyring())
    assert store.load() == AuthDocument.from_auth(ApiKeyAuth("sk-old"))
    store.save(AuthDocument.from_auth(ApiKeyAuth("sk-new")))
    assert not (tmp_path / "auth.json").exists()
    assert store.load() == AuthDocument.from_auth(ApiKeyAuth("sk-new"))


def test_keyring_store_without_the_package_is_a_config_error(tmp_path: Path) -> None:
    store = KeyringAuthStore(tmp_path)
    if store.available:
        pytest.skip("the keyring package is installed here")
    with pytest.raises(ConfigError, match="keyring"):
        store.load()


async def test_refresh_lock_serialises_holders(tmp_path: Path) -> None:
    lock = RefreshLock(tmp_path)
    order: list[str] = []
    inside = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with lock.hold():
            order.append("first in")
            inside.set()
            await release.wait()
            order.append("first out")

    async def second() -> None:
        await inside.wait()
        async with lock.hold():
            order.append("second in")

    tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
    await inside.wait()
    release.set()
    await asyncio.gather(*tasks)
    assert order == ["first in", "first out", "second in"]
    assert stat.S_IMODE((tmp_path / "auth.json.lock").stat().st_mode) == 0o600
