"""Where credentials live: `auth.json` in CODEX_HOME, the OS keyring, or process memory.

Also the cross-process refresh lock. No network here.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal, Protocol

from codex_engine import _filelock
from codex_engine.auth.tokens import AuthDocument
from codex_engine.errors import AuthError, ConfigError

__all__ = [
    "AUTH_FILE_NAME",
    "KEYRING_SERVICE",
    "LOCK_FILE_NAME",
    "AuthStore",
    "AutoAuthStore",
    "EphemeralAuthStore",
    "FileAuthStore",
    "KeyringAuthStore",
    "RefreshLock",
    "StoreMode",
    "auth_store",
]

log = logging.getLogger(__name__)

AUTH_FILE_NAME = "auth.json"
LOCK_FILE_NAME = "auth.json.lock"
KEYRING_SERVICE = "Codex Auth"
StoreMode = Literal["file", "keyring", "auto", "ephemeral"]


class AuthStore(Protocol):
    """A place that holds at most one auth document."""

    def load(self) -> AuthDocument | None:
        """The stored document, None when there is none. Raises AuthError when unreadable."""
        ...

    def save(self, document: AuthDocument) -> None: ...

    def delete(self) -> bool:
        """Remove the stored document; whether there was one."""
        ...


class FileAuthStore:
    """`$CODEX_HOME/auth.json`, written atomically with mode 0600."""

    def __init__(self, codex_home: Path) -> None:
        self.codex_home = codex_home
        self.path = codex_home / AUTH_FILE_NAME

    def load(self) -> AuthDocument | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise AuthError(
                f"{self.path}: cannot read the credentials file ({reason}); fix its permissions "
                "or run `codex-engine login` to sign in again"
            ) from None
        try:
            return AuthDocument.from_json(json.loads(raw.decode("utf-8")))
        except (UnicodeDecodeError, ValueError) as exc:
            # The reason names a field, never its value, so no secret leaks through it.
            reason = str(exc) if not isinstance(exc, json.JSONDecodeError) else "not valid JSON"
            if isinstance(exc, UnicodeDecodeError):
                reason = "not valid UTF-8"
            raise AuthError(
                f"{self.path}: the credentials file is damaged ({reason}) and was left as it is; "
                "repair it, or remove it with `codex-engine logout` and sign in again"
            ) from None

    def save(self, document: AuthDocument) -> None:
        payload = json.dumps(document.to_json(), indent=2).encode() + b"\n"
        try:
            self.codex_home.mkdir(parents=True, exist_ok=True)
            # A temp file in the same directory and a rename: readers see the old file or the
            # new one, never half of one. mkstemp creates it 0600 before any secret is written.
            fd, tmp = tempfile.mkstemp(prefix=".auth.", suffix=".tmp", dir=self.codex_home)
        except OSError as exc:
            raise self._unwritable(exc, "store credentials in") from None
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), 0o600)
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise self._unwritable(exc, "store credentials in") from None
            raise

    def delete(self) -> bool:
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise self._unwritable(exc, "remove the credentials file from") from None
        return True

    def _unwritable(self, exc: OSError, doing: str) -> AuthError:
        reason = exc.strerror or type(exc).__name__
        return AuthError(
            f"cannot {doing} {self.codex_home} ({reason}); make it writable (e.g. `chmod u+w "
            f"{self.codex_home}`) or point CODEX_HOME at a writable directory"
        )


_EPHEMERAL: dict[str, AuthDocument] = {}
_EPHEMERAL_GUARD = threading.Lock()


def _home_key(codex_home: Path) -> str:
    try:
        canonical = codex_home.resolve()
    except OSError:
        canonical = codex_home.absolute()
    return str(canonical)


class EphemeralAuthStore:
    """Process memory only (per CODEX_HOME): nothing reaches the disk."""

    def __init__(self, codex_home: Path) -> None:
        self._key = _home_key(codex_home)

    def load(self) -> AuthDocument | None:
        with _EPHEMERAL_GUARD:
            return _EPHEMERAL.get(self._key)

    def save(self, document: AuthDocument) -> None:
        with _EPHEMERAL_GUARD:
            _EPHEMERAL[self._key] = document

    def delete(self) -> bool:
        with _EPHEMERAL_GUARD:
            return _EPHEMERAL.pop(self._key, None) is not None


def _keyring_module() -> Any | None:
    try:
        return importlib.import_module("keyring")
    except ImportError:
        return None


class KeyringAuthStore:
    """The OS keyring (needs the optional `keyring` package): the whole document in one entry."""

    def __init__(self, codex_home: Path, module: Any | None = None) -> None:
        self.codex_home = codex_home
        digest = hashlib.sha256(_home_key(codex_home).encode()).hexdigest()[:16]
        self.account = f"cli|{digest}"
        self._keyring = module if module is not None else _keyring_module()

    @property
    def available(self) -> bool:
        return self._keyring is not None

    def _require(self) -> Any:
        if self._keyring is None:
            raise ConfigError(
                'cli_auth_credentials_store = "keyring" needs the `keyring` Python package, '
                'which is not installed: install it, or set the store to "file" or "auto"'
            )
        return self._keyring

    def load(self) -> AuthDocument | None:
        keyring = self._require()
        try:
            raw = keyring.get_password(KEYRING_SERVICE, self.account)
        except Exception as exc:
            raise AuthError(
                f"the OS keyring could not be read ({type(exc).__name__}); unlock it, or set "
                'cli_auth_credentials_store = "file"'
            ) from None
        if raw is None:
            return None
        try:
            return AuthDocument.from_json(json.loads(raw))
        except ValueError:
            raise AuthError(
                f"the keyring entry {KEYRING_SERVICE!r}/{self.account} is damaged; run "
                "`codex-engine logout` and sign in again"
            ) from None

    def save(self, document: AuthDocument) -> None:
        keyring = self._require()
        try:
            keyring.set_password(KEYRING_SERVICE, self.account, json.dumps(document.to_json()))
        except Exception as exc:
            raise AuthError(
                f"the OS keyring refused to store credentials ({type(exc).__name__}); unlock "
                'it, or set cli_auth_credentials_store = "file"'
            ) from None

    def delete(self) -> bool:
        keyring = self._require()
        try:
            if keyring.get_password(KEYRING_SERVICE, self.account) is None:
                return False
            keyring.delete_password(KEYRING_SERVICE, self.account)
        except Exception as exc:
            raise AuthError(
                f"the OS keyring entry could not be removed ({type(exc).__name__}); remove "
                f"{KEYRING_SERVICE!r}/{self.account} by hand"
            ) from None
        return True


class AutoAuthStore:
    """The keyring when it is installed and works, else `auth.json`."""

    def __init__(self, codex_home: Path, module: Any | None = None) -> None:
        self._keyring = KeyringAuthStore(codex_home, module)
        self._file = FileAuthStore(codex_home)

    def load(self) -> AuthDocument | None:
        if self._keyring.available:
            try:
                found = self._keyring.load()
            except AuthError as exc:
                log.warning("keyring unavailable, using auth.json: %s", exc)
            else:
                if found is not None:
                    return found
        return self._file.load()

    def save(self, document: AuthDocument) -> None:
        if self._keyring.available:
            try:
                self._keyring.save(document)
            except AuthError as exc:
                log.warning("keyring unavailable, writing auth.json instead: %s", exc)
            else:
                # One copy only: a stale file next to a fresh keyring entry would confuse reads.
                self._file.delete()
                return
        self._file.save(document)

    def delete(self) -> bool:
        removed = False
        if self._keyring.available:
            with contextlib.suppress(AuthError):
                removed = self._keyring.delete()
        return self._file.delete() or removed


def auth_store(mode: StoreMode, codex_home: Path) -> AuthStore:
    """The store `cli_auth_credentials_store` names."""
    if mode == "file":
        return FileAuthStore(codex_home)
    if mode == "keyring":
        return KeyringAuthStore(codex_home)
    if mode == "auto":
        return AutoAuthStore(codex_home)
    return EphemeralAuthStore(codex_home)


class RefreshLock:
    """Serialises token refreshes within a process and across processes sharing CODEX_HOME.

    Across processes it is an advisory ``flock`` on a lock file beside `auth.json` (released by
    the OS if the holder dies). Where ``flock`` does not exist only the in-process part applies.
    """

    def __init__(self, codex_home: Path) -> None:
        self.path = codex_home / LOCK_FILE_NAME
        self._local = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        async with self._local:
            fd = await self._acquire_file_lock()
            try:
                yield
            finally:
                if fd is not None:
                    os.close(fd)  # closing the descriptor releases the flock

    async def _acquire_file_lock(self) -> int | None:
        if not _filelock.HAVE_FLOCK:  # pragma: no cover - no flock there
            return None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            if _filelock.try_lock(fd):
                return fd
        except BaseException:
            os.close(fd)
            raise
        # Another process holds it: wait in a worker thread so the event loop keeps running.
        loop = asyncio.get_running_loop()
        waiter = loop.run_in_executor(None, _filelock.lock, fd)
        try:
            await asyncio.shield(waiter)
        except asyncio.CancelledError:
            # The thread may still get the lock later; closing the fd then drops it again.
            waiter.add_done_callback(lambda _f: os.close(fd))
            raise
        except BaseException:
            os.close(fd)
            raise
        return fd
