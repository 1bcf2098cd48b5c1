"""The app-server method handlers: threads backed by sessions, turns streamed as notifications.

One :class:`AppServer` serves one connection. Each loaded thread owns a :class:`Session`; each
running turn has a pump task that turns the session's events into notifications.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import platform
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from codex_engine._version import __version__
from codex_engine.app_server import history
from codex_engine.app_server.accounts import (
    DEFAULT_CALLBACK_PORT,
    EXTERNAL_AUTH_REFRESH_TIMEOUT_S,
    AccountService,
)
from codex_engine.app_server.connection import Connection, ConnectionClosedError, Reply
from codex_engine.app_server.projector import (
    Note,
    TurnProjector,
    command_actions,
    command_text,
    turn_error,
)
from codex_engine.auth.manager import AuthManager
from codex_engine.auth.refresh import DEFAULT_ISSUER
from codex_engine.config.catalog import DEFAULT_MODEL, ModelInfo, list_models
from codex_engine.config.loader import Config, load_config, resolve_codex_home
from codex_engine.config.overrides import Override
from codex_engine.core.events import TurnCompleted, TurnEvent, TurnFailed, TurnInterrupted
from codex_engine.core.launch import (
    fork_session,
    open_session,
    resume_session,
    settings_from_config,
)
from codex_engine.core.session import ApprovalRequest, Session, SessionSettings
from codex_engine.errors import CodexError, ConfigError
from codex_engine.protocol.app_server_types import (
    CancelLoginAccountParams,
    CommandExecutionRequestApprovalParams,
    ConfigWarningNotification,
    ContextCompactionItem,
    GetAccountParams,
    InitializeParams,
    InitializeResponse,
    ModelInfoWire,
    ModelListParams,
    ModelListResponse,
    ReasoningEffortOption,
    ServerRequestResolvedNotification,
    Thread,
    ThreadForkParams,
    ThreadIdNotification,
    ThreadIdParams,
    ThreadItem,
    ThreadListParams,
    ThreadListResponse,
    ThreadNameUpdatedNotification,
    ThreadReadParams,
    ThreadReadResponse,
    ThreadResumeParams,
    ThreadResumeResponse,
    ThreadSetNameParams,
    ThreadStartedNotification,
    ThreadStartParams,
    ThreadStartResponse,
    ThreadStatusChangedNotification,
    ThreadUnarchiveResponse,
    Turn,
    TurnCompletedNotification,
    TurnError,
    TurnInterruptParams,
    TurnStartedNotification,
    TurnStartParams,
    TurnStartResponse,
    TurnStatus,
    TurnSteerParams,
    UserMessageItem,
    WarningNotification,
    active_status,
    idle_status,
)
from codex_engine.protocol.jsonrpc import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    JsonRpcError,
)
from codex_engine.protocol.request import default_identity

__all__ = ["NOT_IMPLEMENTED", "AppServer", "ServerOptions"]

log = logging.getLogger(__name__)

#: Application error (JSON-RPC's server-defined range): the request was valid but failed.
REQUEST_FAILED = -32000

#: Methods of the reference protocol that codex-engine will implement, and what they wait for.
NOT_IMPLEMENTED: dict[str, str] = {
    "account/rateLimits/read": "rate limits arrive as account/rateLimits/updated during turns",
}

#: The session source recorded in rollouts and reported as ``Thread.source``; the reference
#: app-server records threads started by SDK and IDE clients as ``vscode``.
THREAD_SOURCE = "vscode"
#: ``thread/list`` without ``sourceKinds`` shows threads people started interactively.
INTERACTIVE_SOURCES = frozenset({"cli", "vscode", "appServer"})
DEFAULT_LIST_LIMIT = 25

P = TypeVar("P", bound=BaseModel)
ItemsView = Literal["notLoaded", "summary", "full"]
TurnKind = Literal["turn", "compaction"]


def _now_ms() -> int:
    return int(time.time() * 1000)


def _parse(model: type[P], params: Any, method: str) -> P:
    """Validate params; the error names the offending field the way the client spelled it."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise JsonRpcError(INVALID_PARAMS, f"invalid params for {method}: expected an object")
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        # Union members show up in the location as type names; keep only real keys and indexes.
        path = ".".join(
            str(part)
            for part in err.get("loc", ())
            if isinstance(part, int) or ("[" not in part and "(" not in part)
        )
        if err.get("type") == "missing":
            detail = "is required"
        else:
            detail = str(err.get("msg", "is invalid")).replace("Input should be", "should be")
        raise JsonRpcError(
            INVALID_PARAMS, f"invalid params for {method}: `{path}` {detail}"
        ) from None


@dataclass(frozen=True)
class ServerOptions:
    """What the command line fixed: global ``-c`` overrides, the profile, and sign-in plumbing.

    ``login_issuer`` and ``login_callback_port`` exist for tests and local issuers;
    ``auth_refresh_timeout_s`` bounds the wait for ``account/chatgptAuthTokens/refresh``.
    """

    overrides: Sequence[Override] = ()
    profile: str | None = None
    env: Mapping[str, str] | None = None
    login_issuer: str = DEFAULT_ISSUER
    login_callback_port: int = DEFAULT_CALLBACK_PORT
    auth_refresh_timeout_s: float = EXTERNAL_AUTH_REFRESH_TIMEOUT_S


def _sandbox_policy(mode: str, network: bool = False) -> dict[str, Any]:
    if mode == "danger-full-access":
        return {"type": "dangerFullAccess"}
    if mode == "workspace-write":
        return {
            "type": "workspaceWrite",
            "writableRoots": [],
            "networkAccess": network,
            "excludeTmpdirEnvVar": False,
            "excludeSlashTmp": False,
        }
    return {"type": "readOnly", "networkAccess": network}


_POLICY_TO_MODE = {
    "dangerFullAccess": "danger-full-access",
    "workspaceWrite": "workspace-write",
    "readOnly": "read-only",
}


def _resolve_cwd(raw: str | None, method: str) -> Path:
    cwd = Path(raw).expanduser() if raw else Path.cwd()
    cwd = (cwd if cwd.is_absolute() else Path.cwd() / cwd).resolve()
    if not cwd.is_dir():
        raise JsonRpcError(
            INVALID_PARAMS, f"invalid params for {method}: `cwd` {cwd} is not a directory"
        )
    return cwd


@dataclass
class TurnRecord:
    id: str
    user_item: UserMessageItem | None
    started_at: int
    projector: TurnProjector
    kind: TurnKind = "turn"
    status: TurnStatus = "inProgress"
    error: TurnError | None = None
    completed_at: int | None = None
    duration_ms: int | None = None
    interrupt_requested: bool = False
    responded: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    def to_wire(self, *, items: ItemsView) -> Turn:
        if items == "notLoaded":
            shown: list[ThreadItem] = []
        elif items == "summary" or self.user_item is None:
            shown = list(self.projector.completed)
        else:
            shown = [self.user_item, *self.projector.completed]
        return Turn(
            id=self.id,
            items=shown,
            items_view=items,
            status=self.status,
            error=self.error,
            started_at=self.started_at,
            completed_at=self.completed_at,
            duration_ms=self.duration_ms,
        )


class ThreadState:
    """One loaded thread: its session, its turns, and the approvals given for the session."""

    def __init__(
        self,
        server: AppServer,
        *,
        config: Config,
        settings: SessionSettings,
        approvals_reviewer: str,
        originator: str,
        ephemeral: bool,
        stored: history.StoredThread | None = None,
    ) -> None:
        self.server = server
        self.config = config
        self._settings = settings
        self.approvals_reviewer = approvals_reviewer
        self.originator = originator
        self.ephemeral = ephemeral
        self.session: Session | None = None
        self.stack = AsyncExitStack()
        self.created_at = int(time.time())
        self.updated_at = self.created_at
        self.preview = ""
        self.name: str | None = None
        self.forked_from_id: str | None = None
        #: Turns recorded before this server loaded the thread (resume, fork).
        self.past_turns: list[Turn] = []
        self.turns: list[TurnRecord] = []
        self.active: TurnRecord | None = None
        self.approved_for_session: set[tuple[str, ...]] = set()
        self.waiting_approvals = 0
        if stored is not None:
            self.created_at = stored.created_at
            self.updated_at = stored.updated_at
            self.preview = stored.preview
            self.name = stored.name
            self.forked_from_id = stored.meta.forked_from_id
            self.past_turns = stored.turns

    @property
    def settings(self) -> SessionSettings:
        # The session's settings change between turns (turn/start overrides).
        return self.session.settings if self.session is not None else self._settings

    @property
    def id(self) -> str:
        assert self.session is not None
        return self.session.thread_id

    def rollout_path(self) -> str | None:
        recorder = self.session.recorder if self.session is not None else None
        return str(recorder.path) if recorder is not None else None

    def status(self) -> dict[str, Any]:
        if self.active is None:
            return idle_status()
        return active_status(waiting_on_approval=self.waiting_approvals > 0)

    def git_info(self) -> dict[str, Any] | None:
        git = self.session.git_info if self.session is not None else None
        if git is None:
            return None
        return {"sha": git.commit_hash, "branch": git.branch, "originUrl": git.repository_url}

    def to_wire(self, *, include_turns: bool = False) -> Thread:
        turns: list[Turn] = []
        if include_turns:
            turns = [*self.past_turns, *(t.to_wire(items="full") for t in self.turns)]
        return Thread(
            id=self.id,
            session_id=self.id,
            preview=self.preview,
            ephemeral=self.ephemeral,
            path=self.rollout_path(),
            model_provider=self.config.model_provider_id,
            model=self.settings.model_info.slug,
            reasoning_effort=self.settings.reasoning_effort,
            created_at=self.created_at,
            updated_at=self.updated_at,
            status=self.status(),
            cwd=str(self.settings.cwd),
            cli_version=__version__,
            source=THREAD_SOURCE,
            originator=self.originator,
            forked_from_id=self.forked_from_id,
            git_info=self.git_info(),
            name=self.name,
            turns=turns,
        )

    async def approve(self, request: ApprovalRequest) -> bool:
        """The session's Approver: ask the client with ``item/commandExecution/requestApproval``."""
        key = tuple(request.command)
        if key in self.approved_for_session:
            return True
        conn = self.server.connection
        turn_id = self.active.id if self.active is not None else ""
        params = CommandExecutionRequestApprovalParams(
            thread_id=self.id,
            turn_id=turn_id,
            item_id=request.call_id,
            started_at_ms=_now_ms(),
            command=command_text(request.command),
            cwd=str(request.cwd),
            reason=request.reason,
            command_actions=command_actions(request.command),
        ).to_wire()
        request_id = conn.next_request_id()
        self.waiting_approvals += 1
        await self.server.notify_status(self)
        decision: Any = "decline"
        try:
            result = await conn.request(
                "item/commandExecution/requestApproval", params, request_id=request_id
            )
            decision = result.get("decision") if isinstance(result, dict) else None
        except (JsonRpcError, ConnectionClosedError) as exc:
            log.warning("approval request for %s got no decision: %s", request.call_id, exc)
        finally:
            self.waiting_approvals -= 1
            resolved = ServerRequestResolvedNotification(thread_id=self.id, request_id=request_id)
            if not conn.closed:
                await conn.notify("serverRequest/resolved", resolved.to_wire())
                await self.server.notify_status(self)
        if decision == "acceptForSession":
            self.approved_for_session.add(key)
            return True
        if decision == "accept" or (
            isinstance(decision, dict)
            and (
                "acceptWithExecpolicyAmendment" in decision
                or "applyNetworkPolicyAmendment" in decision
            )
        ):
            return True
        if decision == "cancel" and self.session is not None:
            # "cancel" declines and also ends the turn, as the schema describes.
            self.session.interrupt()
        elif decision != "decline":
            log.warning("unknown approval decision %r; treating it as decline", decision)
        return False


class AppServer:
    """Handles the requests of one connection."""

    def __init__(
        self,
        connection: Connection,
        options: ServerOptions | None = None,
        *,
        auth_manager: AuthManager | None = None,
    ) -> None:
        self.connection = connection
        self.options = options or ServerOptions()
        self.env: Mapping[str, str] = (
            dict(os.environ) if self.options.env is None else self.options.env
        )
        self.initialized = False
        self.client_name = ""
        self.codex_home = resolve_codex_home(None, self.env).expanduser().absolute()
        self.threads: dict[str, ThreadState] = {}
        self._auth_manager = auth_manager
        self._accounts: AccountService | None = None
        self._handlers: dict[str, Callable[[Any, Reply], Awaitable[Any]]] = {
            "thread/start": self._thread_start,
            "thread/resume": self._thread_resume,
            "thread/fork": self._thread_fork,
            "thread/list": self._thread_list,
            "thread/read": self._thread_read,
            "thread/archive": self._thread_archive,
            "thread/unarchive": self._thread_unarchive,
            "thread/name/set": self._thread_set_name,
            "thread/compact/start": self._thread_compact,
            "turn/start": self._turn_start,
            "turn/interrupt": self._turn_interrupt,
            "turn/steer": self._turn_steer,
            "model/list": self._model_list,
            "account/read": self._account_read,
            "account/login/start": self._account_login,
            "account/login/cancel": self._account_login_cancel,
            "account/logout": self._account_logout,
        }

    # -- dispatch ------------------------------------------------------------------------------

    async def handle_request(self, method: str, params: Any, reply: Reply) -> Any:
        if method == "initialize":
            return await self._initialize(params, reply)
        if not self.initialized:
            raise JsonRpcError(
                INVALID_REQUEST, f"{method} was sent before initialize; send initialize first"
            )
        handler = self._handlers.get(method)
        if handler is not None:
            return await handler(params, reply)
        if method in NOT_IMPLEMENTED:
            raise JsonRpcError(
                METHOD_NOT_FOUND,
                f"{method} is not implemented yet in codex-engine ({NOT_IMPLEMENTED[method]})",
            )
        raise JsonRpcError(METHOD_NOT_FOUND, f"unknown method {method!r}")

    async def handle_notification(self, method: str, params: Any) -> None:
        if method != "initialized":
            log.info("ignored client notification %s", method)

    async def notify_status(self, thread: ThreadState) -> None:
        status = ThreadStatusChangedNotification(thread_id=thread.id, status=thread.status())
        await self.connection.notify("thread/status/changed", status.to_wire())

    async def shutdown(self) -> None:
        """Interrupt running turns, wait for their pumps, close every session and sign-in."""
        for thread in self.threads.values():
            if thread.active is not None:
                self._interrupt(thread, thread.active)
        pumps = [
            t.active.task
            for t in self.threads.values()
            if t.active is not None and t.active.task is not None
        ]
        if pumps:
            await asyncio.wait(pumps, timeout=5)
        for thread in self.threads.values():
            with contextlib.suppress(Exception):
                await thread.stack.aclose()
        if self._accounts is not None:
            with contextlib.suppress(Exception):
                await self._accounts.aclose()

    # -- initialize ----------------------------------------------------------------------------

    def _load(self, overrides: Sequence[Override] = (), cwd: Path | None = None) -> Config:
        return load_config(
            overrides=[*self.options.overrides, *overrides],
            profile=self.options.profile,
            cwd=cwd,
            env=self.env,
        )

    @property
    def accounts(self) -> AccountService:
        """The account service and the process's one AuthManager, made on first use."""
        if self._accounts is None:
            requires_auth = False
            manager = self._auth_manager
            try:
                config = self._load()
                requires_auth = config.model_provider.requires_openai_auth
                if manager is None:
                    manager = AuthManager.from_config(config, env=self.env)
            except ConfigError:
                if manager is None:
                    manager = AuthManager(self.codex_home, env=self.env)
            conn = self.connection
            self._accounts = AccountService(
                manager,
                notify=conn.notify,
                server_request=conn.request,
                issuer=self.options.login_issuer,
                callback_port=self.options.login_callback_port,
                refresh_timeout_s=self.options.auth_refresh_timeout_s,
                requires_openai_auth=requires_auth,
                env=self.env,
            )
        return self._accounts

    def _auth_for(self, config: Config) -> AuthManager | None:
        """The shared AuthManager for providers that need OpenAI credentials."""
        return self.accounts.manager if config.model_provider.requires_openai_auth else None

    async def _initialize(self, params: Any, reply: Reply) -> None:
        if self.initialized:
            raise JsonRpcError(INVALID_REQUEST, "initialize was already called on this connection")
        parsed = _parse(InitializeParams, params, "initialize")
        self.initialized = True
        self.client_name = parsed.client_info.name
        caps = parsed.capabilities
        if caps is not None and caps.opt_out_notification_methods:
            self.connection.opt_out = frozenset(caps.opt_out_notification_methods)
        identity = default_identity(self.env.get("CODEX_INTERNAL_ORIGINATOR_OVERRIDE"))
        user_agent = (
            f"{identity.user_agent} ({parsed.client_info.name}; {parsed.client_info.version})"
        )
        await reply.result(
            InitializeResponse(
                user_agent=user_agent,
                codex_home=str(self.codex_home),
                platform_family="windows" if os.name == "nt" else "unix",
                platform_os="macos" if sys.platform == "darwin" else platform.system().lower(),
            ).to_wire()
        )
        try:
            self._load()
        except ConfigError as exc:
            warning = ConfigWarningNotification(summary=str(exc))
            await self.connection.notify("configWarning", warning.to_wire())
        # The refresher for app-supplied tokens must be in place before any turn runs.
        _ = self.accounts

    # -- threads: shared -----------------------------------------------------------------------

    def _thread(self, thread_id: str) -> ThreadState:
        thread = self.threads.get(thread_id)
        if thread is None:
            raise JsonRpcError(
                INVALID_REQUEST,
                f"thread {thread_id} is not loaded in this app-server; load it with "
                "thread/resume (or start one with thread/start)",
            )
        return thread

    async def _find_stored(self, thread_id: str, method: str) -> tuple[Path, bool]:
        found = await asyncio.to_thread(history.find_thread_file, self.codex_home, thread_id)
        if found is None:
            raise JsonRpcError(
                INVALID_REQUEST,
                f"{method}: no recorded thread {thread_id} under {self.codex_home}; check the id "
                "(thread/list shows the recorded ones)",
            )
        return found

    async def _read_stored(
        self, path: Path, archived: bool, *, with_turns: bool, method: str
    ) -> history.StoredThread:
        stored = await asyncio.to_thread(
            history.read_stored_thread, path, archived=archived, with_turns=with_turns
        )
        if stored is None:
            raise JsonRpcError(
                REQUEST_FAILED, f"{method}: {path} is not a readable rollout (no session_meta line)"
            )
        return stored

    def _stored_wire(self, stored: history.StoredThread, *, include_turns: bool) -> Thread:
        loaded = self.threads.get(stored.meta.id)
        if loaded is not None:
            return loaded.to_wire(include_turns=include_turns)
        meta = stored.meta
        return Thread(
            id=meta.id,
            session_id=meta.id,
            preview=stored.preview,
            ephemeral=False,
            path=str(stored.path),
            model_provider=meta.model_provider or "",
            model=stored.model,
            reasoning_effort=stored.reasoning_effort,
            created_at=stored.created_at,
            updated_at=stored.updated_at,
            status={"type": "notLoaded"},
            cwd=meta.cwd,
            cli_version=meta.cli_version,
            source=history.source_kind(meta.source),
            originator=meta.originator or None,
            forked_from_id=meta.forked_from_id,
            git_info=history.git_info_wire(meta.git),
            name=stored.name,
            turns=stored.turns if include_turns else [],
        )

    def _overrides(self, p: ThreadStartParams | ThreadResumeParams, method: str) -> list[Override]:
        overrides: list[Override] = []
        for key, value in (p.config or {}).items():
            path = [part for part in key.split(".") if part]
            if not path:
                raise JsonRpcError(
                    INVALID_PARAMS, f"invalid params for {method}: `config` key {key!r} is empty"
                )
            overrides.append((path, value))
        if isinstance(p.approval_policy, dict):
            raise JsonRpcError(
                INVALID_PARAMS,
                f"invalid params for {method}: granular `approvalPolicy` is not supported yet in "
                "codex-engine; use untrusted, on-request or never",
            )
        named: list[tuple[str, Any]] = [
            ("model", p.model),
            ("model_provider", p.model_provider),
            ("approval_policy", p.approval_policy),
            ("sandbox_mode", p.sandbox),
            ("base_instructions", p.base_instructions),
            ("developer_instructions", p.developer_instructions),
        ]
        overrides += [([key], value) for key, value in named if value is not None]
        return overrides

    def _config(
        self, overrides: list[Override], cwd: Path, method: str
    ) -> tuple[Config, SessionSettings, str | None]:
        try:
            config = self._load(overrides, cwd=cwd)
            settings, model_warning = settings_from_config(config, cwd=cwd)
        except ConfigError as exc:
            raise JsonRpcError(INVALID_PARAMS, f"invalid params for {method}: {exc}") from None
        return config, settings, model_warning

    def _new_state(
        self,
        config: Config,
        settings: SessionSettings,
        *,
        approvals_reviewer: str | None,
        ephemeral: bool = False,
        stored: history.StoredThread | None = None,
    ) -> ThreadState:
        identity = default_identity(self.env.get("CODEX_INTERNAL_ORIGINATOR_OVERRIDE"))
        return ThreadState(
            self,
            config=config,
            settings=settings,
            approvals_reviewer=approvals_reviewer or "user",
            originator=identity.originator,
            ephemeral=ephemeral,
            stored=stored,
        )

    async def _launch(
        self,
        thread: ThreadState,
        opener: AbstractAsyncContextManager[Session],
        method: str,
    ) -> None:
        try:
            thread.session = await thread.stack.enter_async_context(opener)
        except CodexError as exc:
            await thread.stack.aclose()
            raise JsonRpcError(REQUEST_FAILED, f"{method} failed: {exc}") from None
        except BaseException:
            await thread.stack.aclose()
            raise
        self.threads[thread.id] = thread

    def _session_response(self, thread: ThreadState, *, include_turns: bool) -> dict[str, Any]:
        s = thread.settings
        return ThreadResumeResponse(
            thread=thread.to_wire(include_turns=include_turns),
            model=s.model_info.slug,
            model_provider=thread.config.model_provider_id,
            cwd=str(s.cwd),
            approval_policy=s.approval_policy,
            approvals_reviewer=thread.approvals_reviewer,
            sandbox=_sandbox_policy(s.sandbox_mode, s.network_access),
            reasoning_effort=s.reasoning_effort,
        ).to_wire()

    async def _announce(self, thread: ThreadState, config: Config, warning: str | None) -> None:
        conn = self.connection
        await conn.notify(
            "thread/started", ThreadStartedNotification(thread=thread.to_wire()).to_wire()
        )
        if warning:
            note = WarningNotification(message=warning, thread_id=thread.id)
            await conn.notify("warning", note.to_wire())
        for notice in config.feature_warnings:
            await conn.notify("configWarning", ConfigWarningNotification(summary=notice).to_wire())

    def _settings_from_history(
        self, p: ThreadResumeParams, stored: history.StoredThread, overrides: list[Override]
    ) -> None:
        # The thread goes on with the model and effort of its last turn unless told otherwise.
        if p.model is None and stored.model:
            overrides.insert(0, (["model"], stored.model))
        if stored.reasoning_effort and not any(
            o[0] == ["model_reasoning_effort"] for o in overrides
        ):
            overrides.insert(0, (["model_reasoning_effort"], stored.reasoning_effort))

    def _stored_cwd(self, p: ThreadResumeParams, stored: history.StoredThread, method: str) -> Path:
        if p.cwd is not None:
            return _resolve_cwd(p.cwd, method)
        recorded = Path(stored.meta.cwd) if stored.meta.cwd else None
        if recorded is not None and recorded.is_dir():
            return recorded.resolve()
        return _resolve_cwd(None, method)

    # -- thread/start --------------------------------------------------------------------------

    async def _thread_start(self, params: Any, reply: Reply) -> None:
        p = _parse(ThreadStartParams, params, "thread/start")
        cwd = _resolve_cwd(p.cwd, "thread/start")
        config, settings, model_warning = self._config(
            self._overrides(p, "thread/start"), cwd, "thread/start"
        )
        thread = self._new_state(
            config, settings, approvals_reviewer=p.approvals_reviewer, ephemeral=bool(p.ephemeral)
        )
        opener = open_session(
            config,
            cwd=cwd,
            approver=thread.approve,
            env=self.env,
            auth_manager=self._auth_for(config),
            ephemeral=thread.ephemeral,
            source=THREAD_SOURCE,
        )
        await self._launch(thread, opener, "thread/start")
        response = self._session_response(thread, include_turns=False)
        await reply.result(ThreadStartResponse.model_validate(response).to_wire())
        await self._announce(thread, config, model_warning)

    # -- thread/resume -------------------------------------------------------------------------

    async def _thread_resume(self, params: Any, reply: Reply) -> Any:
        method = "thread/resume"
        p = _parse(ThreadResumeParams, params, method)
        loaded = self.threads.get(p.thread_id)
        if loaded is not None:
            # Already running here: rejoin it as it is.
            return self._session_response(loaded, include_turns=not p.exclude_turns)
        path, archived = await self._find_stored(p.thread_id, method)
        if archived:
            raise JsonRpcError(
                INVALID_REQUEST,
                f"thread {p.thread_id} is archived; send thread/unarchive before resuming it",
            )
        stored = await self._read_stored(path, False, with_turns=True, method=method)
        cwd = self._stored_cwd(p, stored, method)
        overrides = self._overrides(p, method)
        self._settings_from_history(p, stored, overrides)
        config, settings, model_warning = self._config(overrides, cwd, method)
        thread = self._new_state(
            config, settings, approvals_reviewer=p.approvals_reviewer, stored=stored
        )
        opener = resume_session(
            config,
            path,
            cwd=cwd,
            approver=thread.approve,
            env=self.env,
            auth_manager=self._auth_for(config),
        )
        await self._launch(thread, opener, method)
        await reply.result(self._session_response(thread, include_turns=not p.exclude_turns))
        if model_warning:
            note = WarningNotification(message=model_warning, thread_id=thread.id)
            await self.connection.notify("warning", note.to_wire())

    # -- thread/fork ---------------------------------------------------------------------------

    async def _thread_fork(self, params: Any, reply: Reply) -> None:
        method = "thread/fork"
        p = _parse(ThreadForkParams, params, method)
        if p.ephemeral:
            raise JsonRpcError(
                INVALID_PARAMS,
                "invalid params for thread/fork: ephemeral forks are not supported yet in "
                "codex-engine; fork without `ephemeral`",
            )
        source = self.threads.get(p.thread_id)
        if source is not None:
            recorder = source.session.recorder if source.session is not None else None
            if recorder is None:
                raise JsonRpcError(
                    INVALID_REQUEST,
                    f"thread {p.thread_id} is ephemeral: it has no recorded history to fork",
                )
            active = source.active
            if active is not None and (p.last_turn_id is None or p.last_turn_id == active.id):
                raise JsonRpcError(
                    INVALID_REQUEST,
                    f"thread {p.thread_id} has turn {active.id} in progress; wait for "
                    "turn/completed, or fork through an earlier turn with lastTurnId",
                )
            await recorder.flush()
            path, archived = recorder.path, False
        else:
            path, archived = await self._find_stored(p.thread_id, method)
        stored = await self._read_stored(path, archived, with_turns=True, method=method)
        cut: int | None = None
        if p.last_turn_id is not None:
            ids = [turn.id for turn in stored.turns]
            if p.last_turn_id not in ids:
                raise JsonRpcError(
                    INVALID_PARAMS,
                    f"invalid params for thread/fork: `lastTurnId` {p.last_turn_id} is not a "
                    f"completed turn of thread {p.thread_id}",
                )
            cut = ids.index(p.last_turn_id) + 1
        cwd = self._stored_cwd(p, stored, method)
        overrides = self._overrides(p, method)
        self._settings_from_history(p, stored, overrides)
        config, settings, model_warning = self._config(overrides, cwd, method)
        thread = self._new_state(config, settings, approvals_reviewer=p.approvals_reviewer)
        opener = fork_session(
            config,
            path,
            cut_after_user_turns=cut,
            cwd=cwd,
            approver=thread.approve,
            env=self.env,
            auth_manager=self._auth_for(config),
        )
        await self._launch(thread, opener, method)
        new_path = thread.rollout_path()
        if new_path is not None:
            forked = await self._read_stored(Path(new_path), False, with_turns=True, method=method)
            thread.preview = forked.preview
            thread.past_turns = forked.turns
            thread.name = forked.name
        thread.forked_from_id = stored.meta.id
        await reply.result(self._session_response(thread, include_turns=not p.exclude_turns))
        await self._announce(thread, config, model_warning)

    # -- thread/list, thread/read --------------------------------------------------------------

    async def _thread_list(self, params: Any, reply: Reply) -> Any:
        p = _parse(ThreadListParams, params, "thread/list")
        if p.sort_key == "section_position":
            raise JsonRpcError(
                INVALID_PARAMS,
                "invalid params for thread/list: `sortKey` section_position is not supported in "
                "codex-engine; use created_at or updated_at",
            )
        by_update = p.sort_key in ("updated_at", "recency_at")
        page, next_cursor = await asyncio.to_thread(self._list_page, p, by_update)
        return ThreadListResponse(
            data=[self._stored_wire(s, include_turns=False) for s in page],
            next_cursor=next_cursor,
        ).to_wire()

    def _list_page(
        self, p: ThreadListParams, by_update: bool
    ) -> tuple[list[history.StoredThread], str | None]:
        """One page of recorded threads. Blocking (reads rollout files)."""
        archived = bool(p.archived)
        files = history.list_thread_files(self.codex_home, archived=archived)

        def key_of(path: Path) -> str:
            if not by_update:
                return path.name
            try:
                mtime = path.stat().st_mtime_ns
            except OSError:
                mtime = 0
            return f"{mtime:020d}|{path.name}"

        keyed = sorted(((key_of(f), f) for f in files), reverse=p.sort_direction != "asc")
        prefix = "u:" if by_update else "c:"
        if p.cursor:
            if not p.cursor.startswith(prefix):
                raise JsonRpcError(
                    INVALID_PARAMS,
                    f"invalid params for thread/list: `cursor` {p.cursor!r} is not one this "
                    "server gave for this sort order",
                )
            after = p.cursor[len(prefix) :]
            if p.sort_direction == "asc":
                keyed = [(k, f) for k, f in keyed if k > after]
            else:
                keyed = [(k, f) for k, f in keyed if k < after]
        cwds = {p.cwd} if isinstance(p.cwd, str) else set(p.cwd or ())
        providers = set(p.model_providers or ())
        kinds = set(p.source_kinds or ()) or INTERACTIVE_SOURCES
        excluded = set(p.excluded_thread_ids or ())
        search = (p.search_term or "").lower()
        limit = p.limit or DEFAULT_LIST_LIMIT
        page: list[history.StoredThread] = []
        last_key: str | None = None
        more = False
        for key, path in keyed:
            if len(page) == limit:
                more = True
                break
            if history.thread_id_of(path) in excluded:
                continue
            stored = history.read_stored_thread(path, archived=archived, with_turns=False)
            if stored is None:
                continue
            meta = stored.meta
            if cwds and meta.cwd not in cwds:
                continue
            if providers and (meta.model_provider or "") not in providers:
                continue
            if history.source_kind(meta.source) not in kinds:
                continue
            if search and search not in f"{stored.name or ''}\n{stored.preview}".lower():
                continue
            page.append(stored)
            last_key = key
        next_cursor = f"{prefix}{last_key}" if more and last_key is not None else None
        return page, next_cursor

    async def _thread_read(self, params: Any, reply: Reply) -> Any:
        p = _parse(ThreadReadParams, params, "thread/read")
        loaded = self.threads.get(p.thread_id)
        if loaded is not None:
            thread = loaded.to_wire(include_turns=p.include_turns)
        else:
            path, archived = await self._find_stored(p.thread_id, "thread/read")
            stored = await self._read_stored(
                path, archived, with_turns=p.include_turns, method="thread/read"
            )
            thread = self._stored_wire(stored, include_turns=p.include_turns)
        return ThreadReadResponse(thread=thread).to_wire()

    # -- thread/archive, thread/unarchive, thread/name/set -------------------------------------

    async def _thread_archive(self, params: Any, reply: Reply) -> None:
        p = _parse(ThreadIdParams, params, "thread/archive")
        loaded = self.threads.get(p.thread_id)
        if loaded is not None:
            if loaded.active is not None:
                raise JsonRpcError(
                    INVALID_REQUEST,
                    f"thread {p.thread_id} has turn {loaded.active.id} in progress; wait for "
                    "turn/completed or interrupt it before archiving",
                )
            recorded = loaded.rollout_path()
            if recorded is None:
                raise JsonRpcError(
                    INVALID_REQUEST,
                    f"thread {p.thread_id} is ephemeral: it has no rollout to archive",
                )
            # Archiving unloads the thread: its rollout file is closed before it moves.
            del self.threads[p.thread_id]
            await loaded.stack.aclose()
            path = Path(recorded)
        else:
            path, archived = await self._find_stored(p.thread_id, "thread/archive")
            if archived:
                raise JsonRpcError(INVALID_REQUEST, f"thread {p.thread_id} is already archived")
        try:
            await asyncio.to_thread(history.archive_file, self.codex_home, path)
        except OSError as exc:
            raise JsonRpcError(
                REQUEST_FAILED, f"thread/archive failed: cannot move {path}: {exc.strerror}"
            ) from None
        await reply.result({})
        note = ThreadIdNotification(thread_id=p.thread_id)
        await self.connection.notify("thread/archived", note.to_wire())

    async def _thread_unarchive(self, params: Any, reply: Reply) -> None:
        method = "thread/unarchive"
        p = _parse(ThreadIdParams, params, method)
        path, archived = await self._find_stored(p.thread_id, method)
        if not archived:
            raise JsonRpcError(INVALID_REQUEST, f"thread {p.thread_id} is not archived")
        try:
            restored = await asyncio.to_thread(history.unarchive_file, self.codex_home, path)
        except (OSError, ValueError) as exc:
            raise JsonRpcError(
                REQUEST_FAILED, f"{method} failed: cannot move {path}: {exc}"
            ) from None
        stored = await self._read_stored(restored, False, with_turns=False, method=method)
        await reply.result(
            ThreadUnarchiveResponse(thread=self._stored_wire(stored, include_turns=False)).to_wire()
        )
        note = ThreadIdNotification(thread_id=p.thread_id)
        await self.connection.notify("thread/unarchived", note.to_wire())

    async def _thread_set_name(self, params: Any, reply: Reply) -> None:
        method = "thread/name/set"
        p = _parse(ThreadSetNameParams, params, method)
        name = p.name.strip() or None
        loaded = self.threads.get(p.thread_id)
        recorder = loaded.session.recorder if loaded and loaded.session else None
        if loaded is not None:
            loaded.name = name
            if recorder is not None:
                recorder.record("event_msg", {"type": history.NAME_EVENT, "thread_name": name})
                await recorder.flush()
        else:
            path, _archived = await self._find_stored(p.thread_id, method)
            try:
                await asyncio.to_thread(history.append_name, path, name)
            except OSError as exc:
                raise JsonRpcError(
                    REQUEST_FAILED, f"{method} failed: cannot write {path}: {exc.strerror}"
                ) from None
        await reply.result({})
        note = ThreadNameUpdatedNotification(thread_id=p.thread_id, thread_name=name)
        await self.connection.notify("thread/name/updated", note.to_wire())

    # -- thread/compact/start ------------------------------------------------------------------

    async def _thread_compact(self, params: Any, reply: Reply) -> None:
        p = _parse(ThreadIdParams, params, "thread/compact/start")
        thread = self._thread(p.thread_id)
        self._ensure_idle(thread)
        projector = TurnProjector(
            thread.id,
            str(uuid.uuid4()),
            context_window=thread.settings.model_info.effective_context_window(),
            clock_ms=_now_ms,
        )
        record = TurnRecord(projector.turn_id, None, int(time.time()), projector, kind="compaction")
        thread.active = record
        record.task = asyncio.create_task(self._run_compaction(thread, record))
        try:
            await reply.result({})
        finally:
            record.responded.set()

    async def _run_compaction(self, thread: ThreadState, record: TurnRecord) -> None:
        conn = self.connection
        status: TurnStatus = "completed"
        error: TurnError | None = None
        started = time.monotonic()
        item = ContextCompactionItem(id=record.projector._new_id())
        try:
            await record.responded.wait()
            await self._announce_turn(thread, record)
            method, params = record.projector.started(item)
            await conn.notify(method, params)
            assert thread.session is not None
            await thread.session.compact()
            method, params = record.projector.finished(item)
            await conn.notify(method, params)
        except asyncio.CancelledError:
            status = "interrupted"
        except CodexError as exc:
            status, error = "failed", turn_error(exc)
        except Exception as exc:
            log.exception("compaction of thread %s broke", thread.id)
            status = "failed"
            error = TurnError(
                message=f"internal error in codex-engine: {exc}", codex_error_info="other"
            )
        finally:
            duration = int((time.monotonic() - started) * 1000)
            await self._finish_turn(thread, record, status, error, duration)

    # -- turns ---------------------------------------------------------------------------------

    def _user_input(
        self, items: list[dict[str, Any]], method: str
    ) -> tuple[str, list[dict[str, Any]]]:
        if not items:
            raise JsonRpcError(INVALID_PARAMS, f"invalid params for {method}: `input` is empty")
        texts: list[str] = []
        content: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            kind = item.get("type")
            if kind != "text":
                raise JsonRpcError(
                    INVALID_PARAMS,
                    f"invalid params for {method}: `input.{index}` has type {kind!r}, which "
                    "codex-engine does not support yet; send text items",
                )
            text = item.get("text")
            if not isinstance(text, str):
                raise JsonRpcError(
                    INVALID_PARAMS,
                    f"invalid params for {method}: `input.{index}.text` should be a string",
                )
            elements = item.get("text_elements")
            texts.append(text)
            content.append(
                {
                    "type": "text",
                    "text": text,
                    "text_elements": elements if isinstance(elements, list) else [],
                }
            )
        return "\n\n".join(texts), content

    def _ensure_idle(self, thread: ThreadState) -> None:
        if thread.active is not None:
            what = "compaction" if thread.active.kind == "compaction" else "turn"
            raise JsonRpcError(
                INVALID_REQUEST,
                f"thread {thread.id} already has {what} {thread.active.id} in progress; wait for "
                "turn/completed or send turn/interrupt",
            )

    def _turn_overrides(
        self, p: TurnStartParams, thread: ThreadState
    ) -> tuple[dict[str, Any], str | None]:
        """The session setting changes a turn/start asks for (they stay for later turns)."""
        s = thread.settings
        changes: dict[str, Any] = {}
        warning: str | None = None
        if p.output_schema is not None:
            raise JsonRpcError(
                INVALID_PARAMS,
                "invalid params for turn/start: `outputSchema` is not supported yet in "
                "codex-engine; describe the wanted format in the prompt",
            )
        if p.model is not None and p.model != s.model_info.slug:
            info, warning = dataclasses.replace(thread.config, model=p.model).model_info()
            changes["model_info"] = info
        if p.effort is not None and p.effort != s.reasoning_effort:
            changes["reasoning_effort"] = p.effort
        if p.summary is not None and p.summary != s.reasoning_summary:
            changes["reasoning_summary"] = p.summary
        if p.cwd is not None:
            cwd = _resolve_cwd(p.cwd, "turn/start")
            if cwd != s.cwd:
                changes["cwd"] = cwd
        if isinstance(p.approval_policy, dict):
            raise JsonRpcError(
                INVALID_PARAMS,
                "invalid params for turn/start: granular `approvalPolicy` is not supported yet "
                "in codex-engine; use untrusted, on-request or never",
            )
        if p.approval_policy is not None and p.approval_policy != s.approval_policy:
            changes["approval_policy"] = p.approval_policy
        if p.sandbox_policy is not None:
            kind = str(p.sandbox_policy.get("type"))
            mode = _POLICY_TO_MODE.get(kind)
            if mode is None:
                raise JsonRpcError(
                    INVALID_PARAMS,
                    f"invalid params for turn/start: `sandboxPolicy.type` {kind!r} is not "
                    "supported in codex-engine; use readOnly, workspaceWrite or dangerFullAccess",
                )
            if mode != s.sandbox_mode:
                changes["sandbox_mode"] = mode
            network = p.sandbox_policy.get("networkAccess")
            if isinstance(network, bool) and network != s.network_access:
                changes["network_access"] = network
        return changes, warning

    async def _turn_start(self, params: Any, reply: Reply) -> None:
        p = _parse(TurnStartParams, params, "turn/start")
        thread = self._thread(p.thread_id)
        text, content = self._user_input(p.input, "turn/start")
        self._ensure_idle(thread)
        changes, model_warning = self._turn_overrides(p, thread)
        session = thread.session
        assert session is not None
        if changes:
            session.update_settings(**changes)
        if p.approvals_reviewer is not None:
            thread.approvals_reviewer = p.approvals_reviewer
        events = session.run_turn(text)
        # The first event is TurnStarted, yielded before any I/O: it names the turn.
        first = await events.__anext__()
        turn_id = getattr(first, "turn_id", "")
        projector = TurnProjector(
            thread.id,
            turn_id,
            context_window=thread.settings.model_info.effective_context_window(),
            clock_ms=_now_ms,
        )
        user_item = UserMessageItem(
            id=projector._new_id(), client_id=p.client_user_message_id, content=content
        )
        record = TurnRecord(turn_id, user_item, int(time.time()), projector)
        thread.active = record
        if not thread.preview:
            thread.preview = text
        thread.updated_at = record.started_at
        record.task = asyncio.create_task(self._pump(thread, record, events))
        try:
            await reply.result(TurnStartResponse(turn=record.to_wire(items="notLoaded")).to_wire())
        finally:
            record.responded.set()
        if model_warning:
            note = WarningNotification(message=model_warning, thread_id=thread.id)
            await self.connection.notify("warning", note.to_wire())

    async def _announce_turn(self, thread: ThreadState, record: TurnRecord) -> None:
        await self.notify_status(thread)
        started = TurnStartedNotification(
            thread_id=thread.id, turn=record.to_wire(items="notLoaded")
        )
        await self.connection.notify("turn/started", started.to_wire())

    async def _pump(
        self, thread: ThreadState, record: TurnRecord, events: AsyncIterator[TurnEvent]
    ) -> None:
        conn = self.connection
        projector = record.projector
        final: TurnEvent | None = None
        unexpected: BaseException | None = None

        async def send(notes: list[Note]) -> None:
            for method, params in notes:
                await conn.notify(method, params)

        try:
            await record.responded.wait()
            await self._announce_turn(thread, record)
            assert record.user_item is not None
            await send([projector.started(record.user_item), projector.finished(record.user_item)])
            # The user message is reported separately; turn/completed lists what the model did.
            projector.completed.clear()
            async for event in events:
                if isinstance(event, TurnCompleted | TurnFailed | TurnInterrupted):
                    final = event
                else:
                    await send(projector.on_event(event))
        except asyncio.CancelledError:
            close = getattr(events, "aclose", None)
            if close is not None:
                with contextlib.suppress(BaseException):
                    await close()
        except Exception as exc:
            log.exception("turn %s of thread %s broke", record.id, thread.id)
            unexpected = exc
        finally:
            status: TurnStatus = "interrupted"
            error: TurnError | None = None
            duration: int | None = None
            if isinstance(final, TurnCompleted):
                status = "completed"
            elif isinstance(final, TurnFailed):
                status, error = "failed", turn_error(final.error)
            elif unexpected is not None:
                status = "failed"
                error = TurnError(
                    message=f"internal error in codex-engine: {unexpected}",
                    codex_error_info="other",
                )
            runtime: dict[str, Any] | None = None
            if isinstance(final, TurnCompleted | TurnFailed | TurnInterrupted):
                duration = int(final.summary.duration_s * 1000)
                runtime = final.summary.runtime.to_json()
            await self._finish_turn(thread, record, status, error, duration, runtime)

    async def _finish_turn(
        self,
        thread: ThreadState,
        record: TurnRecord,
        status: TurnStatus,
        error: TurnError | None,
        duration_ms: int | None,
        runtime: dict[str, Any] | None = None,
    ) -> None:
        conn = self.connection
        notes = record.projector.close_open_items()
        record.status = status
        record.error = error
        record.completed_at = int(time.time())
        record.duration_ms = (
            duration_ms
            if duration_ms is not None
            else (record.completed_at - record.started_at) * 1000
        )
        thread.turns.append(record)
        thread.active = None
        thread.updated_at = record.completed_at
        if conn.closed:
            return
        try:
            for method, params in notes:
                await conn.notify(method, params)
            if record.error is not None:
                failure = {
                    "threadId": thread.id,
                    "turnId": record.id,
                    "error": record.error.to_wire(),
                    "willRetry": False,
                }
                await conn.notify("error", failure)
            await self.notify_status(thread)
            completed = TurnCompletedNotification(
                thread_id=thread.id, turn=record.to_wire(items="summary")
            ).to_wire()
            if runtime is not None:
                # codex-engine's per-turn runtime summary rides along as an extra field; the
                # schema allows additional properties here and clients that do not know it
                # ignore it.
                completed["runtimeSummary"] = runtime
            await conn.notify("turn/completed", completed)
        except asyncio.CancelledError:
            log.info("turn %s ended while the connection was closing", record.id)

    def _interrupt(self, thread: ThreadState, record: TurnRecord) -> None:
        record.interrupt_requested = True
        if record.kind == "compaction":
            if record.task is not None:
                record.task.cancel()
        elif thread.session is not None:
            thread.session.interrupt()

    async def _turn_interrupt(self, params: Any, reply: Reply) -> Any:
        p = _parse(TurnInterruptParams, params, "turn/interrupt")
        thread = self._thread(p.thread_id)
        active = thread.active
        if active is None or active.id != p.turn_id:
            found = active.id if active is not None else "none"
            raise JsonRpcError(
                INVALID_REQUEST, f"expected active turn id {p.turn_id} but found {found}"
            )
        self._interrupt(thread, active)
        return {}

    async def _turn_steer(self, params: Any, reply: Reply) -> Any:
        p = _parse(TurnSteerParams, params, "turn/steer")
        self._thread(p.thread_id)
        raise JsonRpcError(
            METHOD_NOT_FOUND,
            "turn/steer is not supported yet in codex-engine: a running turn cannot take more "
            "input; interrupt it and start a new turn",
        )

    # -- models --------------------------------------------------------------------------------

    async def _model_list(self, params: Any, reply: Reply) -> Any:
        p = _parse(ModelListParams, params, "model/list")
        try:
            default = self._load().model
        except ConfigError:
            default = DEFAULT_MODEL
        models = list_models(visible_only=not p.include_hidden)
        try:
            start = int(p.cursor) if p.cursor else 0
        except ValueError:
            raise JsonRpcError(
                INVALID_PARAMS,
                f"invalid params for model/list: `cursor` {p.cursor!r} is not one this server gave",
            ) from None
        end = start + p.limit if p.limit else len(models)
        page = [_model_wire(m, default) for m in models[start:end]]
        return ModelListResponse(
            data=page, next_cursor=str(end) if end < len(models) else None
        ).to_wire()

    # -- accounts ------------------------------------------------------------------------------

    async def _account_read(self, params: Any, reply: Reply) -> Any:
        p = _parse(GetAccountParams, params, "account/read")
        return await self.accounts.read(refresh=p.refresh_token)

    async def _account_login(self, params: Any, reply: Reply) -> None:
        await self.accounts.login(params, reply)

    async def _account_login_cancel(self, params: Any, reply: Reply) -> Any:
        p = _parse(CancelLoginAccountParams, params, "account/login/cancel")
        return await self.accounts.cancel(p.login_id)

    async def _account_logout(self, params: Any, reply: Reply) -> None:
        await reply.result({})
        await self.accounts.logout()


def _model_wire(info: ModelInfo, default_slug: str) -> ModelInfoWire:
    levels = [
        ReasoningEffortOption(reasoning_effort=level.effort, description=level.description)
        for level in info.supported_reasoning_levels
    ]
    default_effort = info.default_reasoning_level or (
        levels[0].reasoning_effort if levels else "none"
    )
    return ModelInfoWire(
        id=info.slug,
        model=info.slug,
        upgrade=info.upgrade.model if info.upgrade is not None else None,
        display_name=info.display_name,
        description=info.description or "",
        hidden=info.visibility != "list",
        supported_reasoning_efforts=levels,
        default_reasoning_effort=default_effort,
        input_modalities=list(info.input_modalities),
        is_default=info.slug == default_slug,
    )
