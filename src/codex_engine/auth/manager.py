"""`AuthManager`: the one owner of auth behaviour (load, refresh, 401 recovery, policy, logout).

It keeps one cached snapshot and does not watch the disk; `reload()` re-reads it. Refreshes are
serialised in this process and, through a lock file, across processes sharing CODEX_HOME, and
the store is re-read under that lock before a refresh token is spent.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import httpx

from codex_engine.auth.recovery import RecoveryOutcome, RecoveryStep, UnauthorizedRecovery
from codex_engine.auth.refresh import (
    RefreshUnavailableError,
    redeem_refresh_token,
    refresh_token_url,
)
from codex_engine.auth.storage import (
    AuthStore,
    EphemeralAuthStore,
    RefreshLock,
    StoreMode,
    auth_store,
)
from codex_engine.auth.tokens import (
    ApiKeyAuth,
    AuthDocument,
    ChatGptAuth,
    CodexAuth,
    ExternalChatGptAuth,
    TokenData,
    parse_jwt_claims,
)
from codex_engine.errors import AuthError, IllegalTransitionError, RefreshTokenFailedError

if TYPE_CHECKING:
    from codex_engine.config.loader import Config

__all__ = [
    "ACCESS_TOKEN_REFRESH_MARGIN",
    "CODEX_API_KEY_ENV",
    "TOKEN_REFRESH_INTERVAL",
    "AuthManager",
    "ExternalAuthRefresher",
    "ForcedLoginMethod",
]

log = logging.getLogger(__name__)

CODEX_API_KEY_ENV = "CODEX_API_KEY"
#: Refresh when the access token expires within this margin...
ACCESS_TOKEN_REFRESH_MARGIN = timedelta(minutes=5)
#: ...or, when its expiry cannot be read, when the last refresh is older than this.
TOKEN_REFRESH_INTERVAL = timedelta(days=8)

ForcedLoginMethod = Literal["chatgpt", "api"]
#: Given the account id the rejected tokens belonged to, returns fresh app-supplied tokens.
ExternalAuthRefresher = Callable[[str | None], Awaitable[ExternalChatGptAuth]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _fingerprint(secret: str) -> str:
    # Failures are remembered per refresh token without keeping the token itself around.
    return hashlib.sha256(secret.encode()).hexdigest()


class AuthManager:
    """Loads, caches, refreshes and removes credentials for one CODEX_HOME."""

    def __init__(
        self,
        codex_home: Path,
        *,
        store: StoreMode = "file",
        env: Mapping[str, str] | None = None,
        enable_codex_api_key_env: bool = False,
        forced_login_method: ForcedLoginMethod | None = None,
        forced_chatgpt_workspace_id: str | None = None,
        refresh_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.codex_home = codex_home
        self.store_mode: StoreMode = store
        self._store: AuthStore = auth_store(store, codex_home)
        self._ephemeral = EphemeralAuthStore(codex_home)
        self._env: Mapping[str, str] = dict(os.environ) if env is None else dict(env)
        self._enable_env_key = enable_codex_api_key_env
        self.forced_login_method = forced_login_method
        self.forced_chatgpt_workspace_id = forced_chatgpt_workspace_id or None
        self.refresh_url = refresh_url or refresh_token_url(self._env)
        self._http = http_client
        self._owns_http = http_client is None
        self._now = now
        self._lock = RefreshLock(codex_home)
        self._external: ExternalChatGptAuth | None = None
        self._external_refresher: ExternalAuthRefresher | None = None
        self._external_lock = asyncio.Lock()
        self._auth: CodexAuth | None = None
        self._loaded = False
        self._failures: dict[str, RefreshTokenFailedError] = {}
        #: How many refresh tokens this manager redeemed (tests and telemetry read it).
        self.refresh_count = 0

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        env: Mapping[str, str] | None = None,
        enable_codex_api_key_env: bool = False,
    ) -> AuthManager:
        """A manager for the config's CODEX_HOME, credentials store and login policy."""
        return cls(
            config.codex_home,
            store=config.cli_auth_credentials_store,
            env=env,
            enable_codex_api_key_env=enable_codex_api_key_env,
            forced_login_method=config.forced_login_method,
            forced_chatgpt_workspace_id=config.forced_chatgpt_workspace_id,
        )

    @property
    def allows_env_api_key(self) -> bool:
        """Whether `CODEX_API_KEY` is honoured (non-interactive runs such as `exec`)."""
        return self._enable_env_key

    # -- loading ----------------------------------------------------------------------------

    def _stored_auth(self) -> ApiKeyAuth | ChatGptAuth | None:
        document = self._store.load()
        return document.to_auth() if document is not None else None

    def _load(self) -> CodexAuth | None:
        if self._enable_env_key:
            key = self._env.get(CODEX_API_KEY_ENV, "").strip()
            if key:
                return ApiKeyAuth(key)
        if self._external is not None:
            return self._external
        if self.store_mode != "ephemeral":
            document = self._ephemeral.load()
            if document is not None:
                return document.to_auth()
        return self._stored_auth()

    def auth_cached(self) -> CodexAuth | None:
        """The current snapshot without refreshing (read from the store on first use)."""
        if not self._loaded:
            self._auth = self._load()
            self._loaded = True
        return self._auth

    def reload(self) -> bool:
        """Re-read the credentials; whether they changed."""
        before = self._auth if self._loaded else None
        self._auth = self._load()
        self._loaded = True
        return self._auth != before

    async def auth(self) -> CodexAuth | None:
        """The current credentials, refreshed first when managed ChatGPT tokens are stale.

        A refresh that fails for now leaves the old tokens in use (the server has the last
        word); a refusal raises once the access token has run out, since nothing can work then.
        """
        current = self.auth_cached()
        if not isinstance(current, ChatGptAuth) or not self.is_stale(current):
            return current
        try:
            return await self._refresh(current, force=False)
        except RefreshUnavailableError as exc:
            log.warning("could not renew ChatGPT credentials, using the current ones: %s", exc)
            return current
        except RefreshTokenFailedError:
            expires = current.expires_at
            if expires is not None and expires > self._now():
                log.warning("ChatGPT credentials could not be renewed; using them until expiry")
                return current
            raise

    def is_stale(self, auth: ChatGptAuth) -> bool:
        """Access token expiring within 5 minutes; without a readable expiry, the 8-day rule."""
        now = self._now()
        expires = auth.expires_at
        if expires is not None:
            return expires - now <= ACCESS_TOKEN_REFRESH_MARGIN
        if auth.last_refresh is None:
            return True
        return now - auth.last_refresh >= TOKEN_REFRESH_INTERVAL

    # -- refreshing -------------------------------------------------------------------------

    async def refresh_token(self) -> CodexAuth | None:
        """Renew managed ChatGPT tokens now (no-op for other credentials)."""
        current = self.auth_cached()
        if not isinstance(current, ChatGptAuth):
            return current
        return await self._refresh(current, force=True)

    def _http_client(self) -> httpx.AsyncClient:
        if self._http is None:
            from codex_engine.transport.tls import ssl_context

            self._http = httpx.AsyncClient(timeout=30.0, verify=ssl_context(self._env))
        return self._http

    async def _refresh(self, expected: ChatGptAuth, *, force: bool) -> CodexAuth | None:
        """Spend ``expected``'s refresh token unless someone already replaced those tokens.

        ``force`` (after a 401) treats any change in the store as the wanted refresh; without
        it (proactive) a changed but still stale store is refreshed in turn.
        """
        async with self._lock.hold():
            # Another coroutine or process may have refreshed while this one waited.
            stored = self._stored_auth()
            if not isinstance(stored, ChatGptAuth):
                self.reload()
                return self._auth
            if stored != expected:
                self.reload()
                if force or not self.is_stale(stored):
                    return self._auth
            key = _fingerprint(stored.tokens.refresh_token)
            known = self._failures.get(key)
            if known is not None:
                raise known
            try:
                fresh = await redeem_refresh_token(
                    self._http_client(), self.refresh_url, stored.tokens.refresh_token
                )
            except RefreshTokenFailedError as exc:
                # Remember it so later turns fail at once instead of asking the issuer again.
                self._failures[key] = exc
                raise
            self.refresh_count += 1
            id_token = fresh.id_token or stored.tokens.id_token
            tokens = TokenData(
                id_token=id_token,
                access_token=fresh.access_token or stored.tokens.access_token,
                refresh_token=fresh.refresh_token or stored.tokens.refresh_token,
                account_id=parse_jwt_claims(id_token).account_id or stored.tokens.account_id,
            )
            renewed = ChatGptAuth(tokens, self._now())
            try:
                self._check_workspace(renewed, "the renewed ChatGPT credentials")
            except AuthError:
                self._remove_stored()
                raise
            self._store.save(AuthDocument.from_auth(renewed))
            log.info("ChatGPT credentials renewed")
            self.reload()
            return self._auth

    # -- 401 recovery -----------------------------------------------------------------------

    def unauthorized_recovery(self) -> UnauthorizedRecovery:
        """Where recovery from a 401 starts for the credentials in use now."""
        return UnauthorizedRecovery.for_auth(
            self.auth_cached(), has_external_refresher=self._external_refresher is not None
        )

    async def recover_unauthorized(self, issued: CodexAuth | None = None) -> bool:
        """Run recovery steps until one yields new credentials; whether one did.

        Concurrent requests that all failed with the same credentials share one refresh: a
        request whose credentials were already replaced by another just retries.
        """
        current = self.auth_cached()
        if issued is not None and current is not None and current != issued:
            return True
        rejected = issued if issued is not None else current
        recovery = self.unauthorized_recovery()
        while not recovery.done:
            changed = await self._run_recovery_step(recovery.step, rejected)
            recovery.advance(RecoveryOutcome.CHANGED if changed else RecoveryOutcome.UNCHANGED)
        return recovery.recovered

    async def _run_recovery_step(self, step: RecoveryStep, rejected: CodexAuth | None) -> bool:
        """Run one step; whether the credentials changed (so a retry is worth it)."""
        match step:
            case RecoveryStep.RELOAD:
                return self._recover_by_reload(rejected)
            case RecoveryStep.REFRESH:
                return await self._recover_by_refresh(rejected)
            case RecoveryStep.EXTERNAL:
                return await self._recover_external(rejected)
            case _:
                raise IllegalTransitionError("401 recovery", step, "run")

    def _recover_by_reload(self, issued: CodexAuth | None) -> bool:
        current = self.auth_cached()
        stored = self._stored_auth()
        if stored is None:
            raise RefreshTokenFailedError(
                "ChatGPT credentials were removed (signed out) since this session started; "
                "sign in again with `codex-engine login`"
            )
        if not isinstance(current, ChatGptAuth) or stored.account_id != current.account_id:
            raise RefreshTokenFailedError(
                "the stored credentials now belong to another account than this session's; "
                "start a new session, or sign in again with `codex-engine login`"
            )
        if stored != (issued if issued is not None else current):
            self.reload()
            return True
        return False

    async def _recover_by_refresh(self, issued: CodexAuth | None) -> bool:
        expected = issued if isinstance(issued, ChatGptAuth) else self.auth_cached()
        if not isinstance(expected, ChatGptAuth):
            return False
        before = expected
        after = await self._refresh(expected, force=True)
        return after is not None and after != before

    async def _recover_external(self, issued: CodexAuth | None) -> bool:
        refresher = self._external_refresher
        if refresher is None:
            return False
        async with self._external_lock:
            if self._external is not None and issued is not None and self._external != issued:
                return True
            previous = self._external.account_id if self._external is not None else None
            fresh = await refresher(previous)
            self._check_workspace(fresh, "the refreshed app-supplied ChatGPT credentials")
            self._external = fresh
            self.reload()
            return True

    # -- external (app-supplied) tokens ------------------------------------------------------

    def set_external_auth(self, auth: ExternalChatGptAuth | None) -> None:
        """Use app-supplied ChatGPT tokens (memory only; never refreshed by codex-engine)."""
        if auth is not None:
            self._check_workspace(auth, "the supplied ChatGPT credentials")
        self._external = auth
        self.reload()

    def set_external_refresher(self, refresher: ExternalAuthRefresher | None) -> None:
        """Who to ask for new app-supplied tokens after a 401."""
        self._external_refresher = refresher

    # -- login, logout, policy --------------------------------------------------------------

    def login_with_api_key(self, api_key: str) -> ApiKeyAuth:
        """Store an API key as the credentials (replacing any others)."""
        key = api_key.strip()
        if not key:
            raise AuthError("the API key is empty; pass a key on stdin")
        if self.forced_login_method == "chatgpt":
            raise AuthError(
                'this configuration requires ChatGPT sign-in (forced_login_method = "chatgpt"); '
                "run `codex-engine login` instead"
            )
        auth = ApiKeyAuth(key)
        self._store.save(AuthDocument.from_auth(auth))
        self.reload()
        return auth

    def login_with_chatgpt_tokens(self, tokens: TokenData) -> ChatGptAuth:
        """Store ChatGPT tokens obtained by a sign-in flow."""
        if self.forced_login_method == "api":
            raise AuthError(
                'this configuration requires an API key (forced_login_method = "api"); run '
                "`codex-engine login --with-api-key` instead"
            )
        auth = ChatGptAuth(tokens, self._now())
        self._check_workspace(auth, "these ChatGPT credentials")
        self._store.save(AuthDocument.from_auth(auth))
        self._failures.clear()
        self.reload()
        return auth

    def _remove_stored(self) -> bool:
        removed = self._store.delete()
        if self.store_mode != "ephemeral":
            removed = self._ephemeral.delete() or removed
        return removed

    def logout(self) -> bool:
        """Remove stored and in-memory credentials; whether there were any."""
        removed = self._remove_stored()
        had_external = self._external is not None
        self._external = None
        self._failures.clear()
        self.reload()
        return removed or had_external

    def _workspace_problem(self, auth: CodexAuth, what: str) -> str | None:
        wanted = self.forced_chatgpt_workspace_id
        if wanted is None or isinstance(auth, ApiKeyAuth):
            return None
        actual = auth.account_id
        if actual == wanted:
            return None
        belongs = f"belong to workspace {actual}" if actual else "name no workspace"
        return (
            f"sign-in is restricted to workspace {wanted} (forced_chatgpt_workspace_id), but "
            f"{what} {belongs}"
        )

    def _check_workspace(self, auth: CodexAuth, what: str) -> None:
        problem = self._workspace_problem(auth, what)
        if problem is not None:
            wanted = self.forced_chatgpt_workspace_id
            raise AuthError(f"{problem}; sign in with an account of workspace {wanted}")

    def enforce_login_policy(self) -> None:
        """Apply `forced_login_method` / `forced_chatgpt_workspace_id` to the current credentials.

        Stored credentials that break the policy are removed, as the reference does, and an
        AuthError says why and what to do.
        """
        auth = self.auth_cached()
        if auth is None:
            return
        from_env = (
            isinstance(auth, ApiKeyAuth)
            and self._enable_env_key
            and bool(self._env.get(CODEX_API_KEY_ENV, "").strip())
        )
        method = self.forced_login_method
        problem: str | None = None
        fix = "signed out; sign in again with `codex-engine login`"
        if method == "chatgpt" and isinstance(auth, ApiKeyAuth):
            problem = (
                'this configuration requires ChatGPT sign-in (forced_login_method = "chatgpt") '
                "but an API key is in use"
            )
            fix = "unset CODEX_API_KEY" if from_env else "signed out; run `codex-engine login`"
        elif method == "api" and not isinstance(auth, ApiKeyAuth):
            problem = (
                'this configuration requires an API key (forced_login_method = "api") but '
                "ChatGPT sign-in is in use"
            )
            fix = "signed out; run `codex-engine login --with-api-key`"
        else:
            problem = self._workspace_problem(auth, "the current ChatGPT credentials")
        if problem is None:
            return
        if not from_env:
            self.logout()
        raise AuthError(f"{problem}: {fix}")

    async def aclose(self) -> None:
        if self._http is not None and self._owns_http:
            await self._http.aclose()
        self._http = None
