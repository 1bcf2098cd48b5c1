"""The app-server method handlers: threads backed by sessions, turns streamed as notifications.

One :class:`AppServer` serves one connection. Each thread owns a :class:`Session`; each running
turn has a pump task that turns the session's events into notifications.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import platform
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from codex_engine._version import __version__
from codex_engine.app_server.connection import Connection, ConnectionClosedError, Reply
from codex_engine.app_server.projector import (
    Note,
    TurnProjector,
    command_actions,
    command_text,
    turn_error,
)
from codex_engine.config.catalog import DEFAULT_MODEL, ModelInfo, list_models
from codex_engine.config.loader import Config, load_config, resolve_codex_home
from codex_engine.config.overrides import Override
from codex_engine.core.events import TurnCompleted, TurnEvent, TurnFailed, TurnInterrupted
from codex_engine.core.launch import open_session, settings_from_config
from codex_engine.core.session import ApprovalRequest, Session, SessionSettings
from codex_engine.errors import CodexError, ConfigError
from codex_engine.protocol.app_server_types import (
    CommandExecutionRequestApprovalParams,
    ConfigWarningNotification,
    InitializeParams,
    InitializeResponse,
    ModelInfoWire,
    ModelListParams,
    ModelListResponse,
    ReasoningEffortOption,
    ServerRequestResolvedNotification,
    Thread,
    ThreadItem,
    ThreadReadParams,
    ThreadReadResponse,
    ThreadStartedNotification,
    ThreadStartParams,
    ThreadStartResponse,
    ThreadStatusChangedNotification,
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
    "thread/resume": "it needs the rollout store",
    "thread/fork": "it needs the rollout store",
    "thread/list": "it needs the rollout store",
    "thread/archive": "it needs the rollout store",
    "thread/unarchive": "it needs the rollout store",
    "thread/name/set": "it needs the rollout store",
    "thread/compact/start": "compaction is not built yet",
    "account/read": "it needs the AuthManager bridge",
    "account/login/start": "it needs the AuthManager bridge",
    "account/login/cancel": "it needs the AuthManager bridge",
    "account/logout": "it needs the AuthManager bridge",
    "account/rateLimits/read": "it needs the AuthManager bridge",
}

#: The session source recorded in rollouts and reported as ``Thread.source``; the reference
#: app-server records threads started by SDK and IDE clients as ``vscode``.
THREAD_SOURCE = "vscode"

P = TypeVar("P", bound=BaseModel)
ItemsView = Literal["notLoaded", "summary", "full"]


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
    """What the command line fixed: global ``-c`` overrides and the profile."""

    overrides: Sequence[Override] = ()
    profile: str | None = None
    env: Mapping[str, str] | None = None


def _sandbox_policy(mode: str) -> dict[str, Any]:
    if mode == "danger-full-access":
        return {"type": "dangerFullAccess"}
    if mode == "workspace-write":
        return {
            "type": "workspaceWrite",
            "writableRoots": [],
            "networkAccess": False,
            "excludeTmpdirEnvVar": False,
            "excludeSlashTmp": False,
        }
    return {"type": "readOnly", "networkAccess": False}


_POLICY_TO_MODE = {
    "dangerFullAccess": "danger-full-access",
    "workspaceWrite": "workspace-write",
    "readOnly": "read-only",
}


def _resolve_cwd(raw: str | None) -> Path:
    cwd = Path(raw).expanduser() if raw else Path.cwd()
    cwd = (cwd if cwd.is_absolute() else Path.cwd() / cwd).resolve()
    if not cwd.is_dir():
        raise JsonRpcError(
            INVALID_PARAMS, f"invalid params for thread/start: `cwd` {cwd} is not a directory"
        )
    return cwd


@dataclass
class TurnRecord:
    id: str
    user_item: UserMessageItem
    started_at: int
    projector: TurnProjector
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
        elif items == "summary":
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
    """One thread: its session, its turns, and the approvals given for the session."""

    def __init__(
        self,
        server: AppServer,
        *,
        config: Config,
        settings: SessionSettings,
        approvals_reviewer: str,
        originator: str,
        ephemeral: bool,
    ) -> None:
        self.server = server
        self.config = config
        self.settings = settings
        self.approvals_reviewer = approvals_reviewer
        self.originator = originator
        self.ephemeral = ephemeral
        self.session: Session | None = None
        self.stack = AsyncExitStack()
        self.created_at = int(time.time())
        self.updated_at = self.created_at
        self.preview = ""
        self.turns: list[TurnRecord] = []
        self.active: TurnRecord | None = None
        self.approved_for_session: set[tuple[str, ...]] = set()
        self.waiting_approvals = 0

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

    def to_wire(self, *, include_turns: bool = False) -> Thread:
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
            turns=[t.to_wire(items="full") for t in self.turns] if include_turns else [],
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

    def __init__(self, connection: Connection, options: ServerOptions | None = None) -> None:
        self.connection = connection
        self.options = options or ServerOptions()
        self.env: Mapping[str, str] = (
            dict(os.environ) if self.options.env is None else self.options.env
        )
        self.initialized = False
        self.client_name = ""
        self.threads: dict[str, ThreadState] = {}
        self._handlers: dict[str, Callable[[Any, Reply], Awaitable[Any]]] = {
            "thread/start": self._thread_start,
            "thread/read": self._thread_read,
            "turn/start": self._turn_start,
            "turn/interrupt": self._turn_interrupt,
            "turn/steer": self._turn_steer,
            "model/list": self._model_list,
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
        """Interrupt running turns, wait for their pumps, close every session."""
        for thread in self.threads.values():
            if thread.active is not None and thread.session is not None:
                thread.active.interrupt_requested = True
                thread.session.interrupt()
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

    # -- initialize ----------------------------------------------------------------------------

    def _load(self, overrides: Sequence[Override] = (), cwd: Path | None = None) -> Config:
        return load_config(
            overrides=[*self.options.overrides, *overrides],
            profile=self.options.profile,
            cwd=cwd,
            env=self.env,
        )

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
        home = resolve_codex_home(None, self.env).expanduser().absolute()
        await reply.result(
            InitializeResponse(
                user_agent=user_agent,
                codex_home=str(home),
                platform_family="windows" if os.name == "nt" else "unix",
                platform_os="macos" if sys.platform == "darwin" else platform.system().lower(),
            ).to_wire()
        )
        try:
            self._load()
        except ConfigError as exc:
            warning = ConfigWarningNotification(summary=str(exc))
            await self.connection.notify("configWarning", warning.to_wire())

    # -- threads -------------------------------------------------------------------------------

    def _thread(self, thread_id: str) -> ThreadState:
        thread = self.threads.get(thread_id)
        if thread is None:
            raise JsonRpcError(
                INVALID_REQUEST,
                f"thread {thread_id} is not loaded in this app-server; start one with thread/start",
            )
        return thread

    async def _thread_start(self, params: Any, reply: Reply) -> None:
        p = _parse(ThreadStartParams, params, "thread/start")
        cwd = _resolve_cwd(p.cwd)
        overrides: list[Override] = []
        for key, value in (p.config or {}).items():
            path = [part for part in key.split(".") if part]
            if not path:
                raise JsonRpcError(
                    INVALID_PARAMS,
                    f"invalid params for thread/start: `config` key {key!r} is empty",
                )
            overrides.append((path, value))
        if isinstance(p.approval_policy, dict):
            raise JsonRpcError(
                INVALID_PARAMS,
                "invalid params for thread/start: granular `approvalPolicy` is not supported yet "
                "in codex-engine; use untrusted, on-request or never",
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
        try:
            config = self._load(overrides, cwd=cwd)
            settings, model_warning = settings_from_config(config, cwd=cwd)
        except ConfigError as exc:
            raise JsonRpcError(INVALID_PARAMS, f"invalid params for thread/start: {exc}") from None
        identity = default_identity(self.env.get("CODEX_INTERNAL_ORIGINATOR_OVERRIDE"))
        thread = ThreadState(
            self,
            config=config,
            settings=settings,
            approvals_reviewer=p.approvals_reviewer or "user",
            originator=identity.originator,
            ephemeral=bool(p.ephemeral),
        )
        try:
            thread.session = await thread.stack.enter_async_context(
                open_session(
                    config,
                    cwd=cwd,
                    approver=thread.approve,
                    env=self.env,
                    ephemeral=thread.ephemeral,
                    source=THREAD_SOURCE,
                )
            )
        except CodexError as exc:
            await thread.stack.aclose()
            raise JsonRpcError(REQUEST_FAILED, f"thread/start failed: {exc}") from None
        except BaseException:
            await thread.stack.aclose()
            raise
        self.threads[thread.id] = thread
        await reply.result(
            ThreadStartResponse(
                thread=thread.to_wire(),
                model=settings.model_info.slug,
                model_provider=config.model_provider_id,
                cwd=str(settings.cwd),
                approval_policy=settings.approval_policy,
                approvals_reviewer=thread.approvals_reviewer,
                sandbox=_sandbox_policy(settings.sandbox_mode),
                reasoning_effort=settings.reasoning_effort,
            ).to_wire()
        )
        conn = self.connection
        await conn.notify(
            "thread/started", ThreadStartedNotification(thread=thread.to_wire()).to_wire()
        )
        if model_warning:
            warning = WarningNotification(message=model_warning, thread_id=thread.id)
            await conn.notify("warning", warning.to_wire())
        for notice in config.feature_warnings:
            await conn.notify("configWarning", ConfigWarningNotification(summary=notice).to_wire())

    async def _thread_read(self, params: Any, reply: Reply) -> Any:
        p = _parse(ThreadReadParams, params, "thread/read")
        thread = self._thread(p.thread_id)
        return ThreadReadResponse(thread=thread.to_wire(include_turns=p.include_turns)).to_wire()

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

    def _check_turn_overrides(self, p: TurnStartParams, thread: ThreadState) -> None:
        """Per-turn setting changes need a session change; accept only values already in force."""
        s = thread.settings
        differing: list[str] = []
        if p.model is not None and p.model != s.model_info.slug:
            differing.append("model")
        if p.effort is not None and p.effort != s.reasoning_effort:
            differing.append("effort")
        if p.summary is not None and p.summary != s.reasoning_summary:
            differing.append("summary")
        if p.cwd is not None and Path(p.cwd).expanduser().resolve() != s.cwd:
            differing.append("cwd")
        if isinstance(p.approval_policy, dict) or (
            p.approval_policy is not None and p.approval_policy != s.approval_policy
        ):
            differing.append("approvalPolicy")
        if p.sandbox_policy is not None and (
            _POLICY_TO_MODE.get(str(p.sandbox_policy.get("type"))) != s.sandbox_mode
        ):
            differing.append("sandboxPolicy")
        if p.output_schema is not None:
            differing.append("outputSchema")
        if differing:
            raise JsonRpcError(
                INVALID_PARAMS,
                f"invalid params for turn/start: changing {', '.join(differing)} per turn is not "
                "supported yet in codex-engine; start a new thread with the settings you need",
            )

    async def _turn_start(self, params: Any, reply: Reply) -> None:
        p = _parse(TurnStartParams, params, "turn/start")
        thread = self._thread(p.thread_id)
        text, content = self._user_input(p.input, "turn/start")
        if thread.active is not None:
            raise JsonRpcError(
                INVALID_REQUEST,
                f"thread {thread.id} already has turn {thread.active.id} in progress; wait for "
                "turn/completed or send turn/interrupt",
            )
        self._check_turn_overrides(p, thread)
        session = thread.session
        assert session is not None
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
            await self.notify_status(thread)
            started = TurnStartedNotification(
                thread_id=thread.id, turn=record.to_wire(items="notLoaded")
            )
            await conn.notify("turn/started", started.to_wire())
            await send([projector.started(record.user_item), projector.finished(record.user_item)])
            # The user message is reported separately; turn/completed lists what the model did.
            projector.completed.clear()
            iterator = aiter(events)
            # Resuming the generator once creates the session's turn task; only then can an
            # interrupt that arrived before this point reach it.
            step = asyncio.ensure_future(anext(iterator))
            if record.interrupt_requested:
                await asyncio.sleep(0)
                assert thread.session is not None
                thread.session.interrupt()
            while True:
                try:
                    event = await step
                except StopAsyncIteration:
                    break
                if isinstance(event, TurnCompleted | TurnFailed | TurnInterrupted):
                    final = event
                else:
                    await send(projector.on_event(event))
                step = asyncio.ensure_future(anext(iterator))
        except asyncio.CancelledError:
            close = getattr(events, "aclose", None)
            if close is not None:
                with contextlib.suppress(BaseException):
                    await close()
        except Exception as exc:
            log.exception("turn %s of thread %s broke", record.id, thread.id)
            unexpected = exc
        finally:
            await self._finish_turn(thread, record, final, unexpected)

    async def _finish_turn(
        self,
        thread: ThreadState,
        record: TurnRecord,
        final: TurnEvent | None,
        unexpected: BaseException | None,
    ) -> None:
        conn = self.connection
        notes = record.projector.close_open_items()
        if isinstance(final, TurnCompleted):
            record.status = "completed"
        elif isinstance(final, TurnFailed):
            record.status = "failed"
            record.error = turn_error(final.error)
        elif unexpected is not None:
            record.status = "failed"
            record.error = TurnError(
                message=f"internal error in codex-engine: {unexpected}", codex_error_info="other"
            )
        else:
            record.status = "interrupted"
        record.completed_at = int(time.time())
        record.duration_ms = (record.completed_at - record.started_at) * 1000
        if isinstance(final, TurnCompleted | TurnFailed | TurnInterrupted):
            record.duration_ms = int(final.summary.duration_s * 1000)
        thread.turns.append(record)
        thread.active = None
        thread.updated_at = record.completed_at
        if conn.closed:
            return
        try:
            for method, params in notes:
                await conn.notify(method, params)
            if record.error is not None:
                error = {
                    "threadId": thread.id,
                    "turnId": record.id,
                    "error": record.error.to_wire(),
                    "willRetry": False,
                }
                await conn.notify("error", error)
            await self.notify_status(thread)
            completed = TurnCompletedNotification(
                thread_id=thread.id, turn=record.to_wire(items="summary")
            )
            await conn.notify("turn/completed", completed.to_wire())
        except asyncio.CancelledError:
            log.info("turn %s ended while the connection was closing", record.id)

    async def _turn_interrupt(self, params: Any, reply: Reply) -> Any:
        p = _parse(TurnInterruptParams, params, "turn/interrupt")
        thread = self._thread(p.thread_id)
        active = thread.active
        if active is None or active.id != p.turn_id:
            found = active.id if active is not None else "none"
            raise JsonRpcError(
                INVALID_REQUEST, f"expected active turn id {p.turn_id} but found {found}"
            )
        active.interrupt_requested = True
        assert thread.session is not None
        thread.session.interrupt()
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
