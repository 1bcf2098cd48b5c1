"""Opening a session from a loaded :class:`Config`: new, resumed or forked.

The library entry points the CLI and the app-server use too. A session's rollout file records it
as it runs, so it can be resumed (same thread, same file) or forked (new thread, new file).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import msgspec

from codex_engine._version import __version__
from codex_engine.client.credentials import CredentialSource, credentials_for_provider
from codex_engine.client.model_client import ModelClient
from codex_engine.config.catalog import ModelInfo
from codex_engine.config.loader import Config
from codex_engine.core.git_info import GitInfo, collect_git_info
from codex_engine.core.instructions.agents_md import agents_md_instructions
from codex_engine.core.rollout import RolloutRecorder, SessionMeta
from codex_engine.core.session import (
    Approver,
    Session,
    SessionDeps,
    SessionSettings,
    new_thread_id,
)
from codex_engine.core.tools.env_policy import create_env
from codex_engine.core.tools.mcp import McpToolset
from codex_engine.core.tools.request_user_input import UserInputAsker
from codex_engine.core.turn_metadata import build_turn_metadata
from codex_engine.errors import ThreadNotFoundError  # defined in the one tree, importable here
from codex_engine.mcp.manager import McpManager
from codex_engine.protocol.items import ResponseItem
from codex_engine.protocol.request import ClientIdentity, default_identity
from codex_engine.telemetry.metrics import Metrics
from codex_engine.telemetry.settings import parse_otel_settings

if TYPE_CHECKING:
    # Only what a new session on HTTP uses is imported up front: sign-in machinery, the rollout
    # reader and index (resume, fork) and the WebSocket transport load when a session needs them.
    from codex_engine.auth.manager import AuthManager
    from codex_engine.core.goals import ThreadGoal
    from codex_engine.core.rollout import RolloutContents
    from codex_engine.transport.websocket import WebSocketConnection

__all__ = [
    "ThreadNotFoundError",
    "fork_session",
    "locate_thread",
    "open_session",
    "resume_session",
    "settings_from_config",
    "start_preconnect",
]


#: Catalog entries with a config's overrides applied, by what picks them: sessions of one
#: process share them (they are never mutated) instead of each holding a deep copy.
_MODEL_INFOS: dict[tuple[object, ...], tuple[ModelInfo, str | None]] = {}
_MODEL_INFOS_MAX = 64


#: What a session without a metrics exporter records to (nothing, at no per-session cost).
_DISABLED_METRICS = Metrics.disabled()


def _model_info(config: Config) -> tuple[ModelInfo, str | None]:
    key = (
        config.model,
        config.model_context_window,
        config.model_auto_compact_token_limit,
        config.base_instructions,
        config.tool_output_token_limit,
        config.model_supports_reasoning_summaries,
    )
    found = _MODEL_INFOS.get(key)
    if found is None:
        if len(_MODEL_INFOS) >= _MODEL_INFOS_MAX:
            _MODEL_INFOS.clear()
        found = _MODEL_INFOS[key] = config.model_info()
    return found


def settings_from_config(
    config: Config, *, cwd: Path | None = None
) -> tuple[SessionSettings, str | None]:
    """The session settings a config asks for, and the unknown-model warning if there is one."""
    model_info, warning = _model_info(config)
    work_dir = (cwd or config.cwd).resolve()
    settings = SessionSettings(
        cwd=work_dir,
        model_info=model_info,
        base_instructions=model_info.base_instructions,
        approval_policy=config.approval_policy,
        sandbox_mode=config.sandbox_mode,
        developer_instructions=config.developer_instructions,
        reasoning_effort=config.model_reasoning_effort,
        reasoning_summary=config.model_reasoning_summary,
        verbosity=config.model_verbosity if model_info.support_verbosity else None,
        web_search=config.web_search,
        shell_tool=config.features.enabled("shell_tool"),
        unified_exec=config.features.enabled("unified_exec"),
        goals=config.features.enabled("goals"),
        default_mode_request_user_input=config.features.enabled("default_mode_request_user_input"),
        extra_writable_roots=config.additional_writable_roots,
        update_plan_tool=config.update_plan_tool,
        user_instructions=agents_md_instructions(
            config.codex_home,
            work_dir,
            max_bytes=config.project_doc_max_bytes,
            fallbacks=config.project_doc_fallback_filenames,
        ),
    )
    return settings, warning


def start_preconnect(
    client: ModelClient,
    settings: SessionSettings,
    *,
    warm_handshake: asyncio.Task[WebSocketConnection] | None = None,
) -> bool:
    """Warm the WebSocket the session's first turn will use, so that turn does not pay for the
    handshake: adopt ``warm_handshake`` (exec's, started before the engine was imported), else
    start one now. A no-op for a session on HTTP or with ``websocket_preconnect`` off.

    The launcher's job, not the session's: building a :class:`Session` starts no I/O.
    """
    if warm_handshake is not None:
        client.adopt_preconnect(warm_handshake)

    async def metadata() -> dict[str, object]:
        # The same bounded builder a turn uses, so the handshake carries the workspaces too.
        return await build_turn_metadata(settings.cwd, sandbox=settings.sandbox_mode)

    return client.preconnect(
        prefer_websockets=settings.model_info.prefer_websockets, turn_metadata=metadata
    )


def locate_thread(config: Config, thread: str | Path, *, cwd: Path | None = None) -> Path:
    """The rollout file for a thread id, a path, or ``"last"`` (the newest, in ``cwd`` if given).

    Blocking (walks ``CODEX_HOME/sessions``); call it from a thread in async code.
    """
    from codex_engine.core.rollout import find_rollout, latest_rollout

    home = config.codex_home
    if isinstance(thread, Path) or str(thread).endswith(".jsonl"):
        path = Path(thread)
        if not path.is_file():
            raise ThreadNotFoundError(f"no rollout file at {path}; check the path")
        return path
    if thread == "last":
        found = latest_rollout(home, cwd)
        where = f" for {cwd}" if cwd is not None else ""
        if found is None:
            raise ThreadNotFoundError(
                f"no recorded session to resume{where} under {home / 'sessions'}; "
                "start one with `codex-engine exec`"
            )
        return found
    try:
        found = find_rollout(home, str(thread))
    except ValueError:
        found = None
    if found is None:
        raise ThreadNotFoundError(
            f"no recorded session with id {thread} under {home / 'sessions'}; "
            "check the id (the first line of `exec` names it)"
        )
    return found


@asynccontextmanager
async def open_session(
    config: Config,
    *,
    cwd: Path | None = None,
    approver: Approver | None = None,
    ask_user: UserInputAsker | None = None,
    credentials: CredentialSource | None = None,
    identity: ClientIdentity | None = None,
    env: Mapping[str, str] | None = None,
    auth_manager: AuthManager | None = None,
    ephemeral: bool = False,
    source: str = "exec",
    thread_id: str | None = None,
    warm_handshake: asyncio.Task[WebSocketConnection] | None = None,
    git_info: Awaitable[GitInfo | None] | None = None,
    settings: SessionSettings | None = None,
) -> AsyncIterator[Session]:
    """A new session for ``config``; its connections are closed when the block exits.

    Raises ``AuthError`` at once when the provider needs credentials that are not there (or that
    break the login policy), so a caller learns it before the first turn, not in the middle of
    one. Without ``auth_manager`` one is made from the config, honouring ``CODEX_API_KEY``.
    ``ephemeral`` sessions write no rollout file. ``warm_handshake`` is a WebSocket handshake
    already started for ``thread_id`` (see ``client/warm.py``); the first turn adopts it.
    ``git_info``: the git context of the session's directory, already being collected by the
    caller (a task it owns; ``exec`` starts git before it imports the engine), used instead of
    running git again. ``env`` stands in for the process environment: credentials are read from
    it, and the model's commands get it as ``shell_environment_policy`` filters it. ``settings``
    are the ones :func:`settings_from_config` made for ``config`` and ``cwd``, when the caller
    has them.
    """
    if settings is None:
        settings, _warning = settings_from_config(config, cwd=cwd)
    async with _session(
        config,
        settings,
        thread_id=thread_id or new_thread_id(),
        warm_handshake=warm_handshake,
        git_info=git_info,
        rollout=None if ephemeral else "new",
        approver=approver,
        ask_user=ask_user,
        credentials=credentials,
        identity=identity,
        env=env,
        auth_manager=auth_manager,
        source=source,
    ) as session:
        yield session


@asynccontextmanager
async def resume_session(
    config: Config,
    thread: str | Path,
    *,
    cwd: Path | None = None,
    approver: Approver | None = None,
    ask_user: UserInputAsker | None = None,
    credentials: CredentialSource | None = None,
    identity: ClientIdentity | None = None,
    env: Mapping[str, str] | None = None,
    auth_manager: AuthManager | None = None,
) -> AsyncIterator[Session]:
    """Continue a recorded session: same thread id, same file, its history and instructions.

    ``thread`` is an id, a rollout path or ``"last"``. The stored base instructions are kept
    (even if the model changed) unless the config sets ``base_instructions`` explicitly.
    Raises ``SessionLockedError``, having written nothing, while another process has it open.
    """
    path = await asyncio.to_thread(locate_thread, config, thread, cwd=cwd)
    # Locked before the file is read or anything else starts, so a refusal comes first.
    recorder = await RolloutRecorder.resume(path)
    async with _recorded(
        config,
        recorder,
        cwd=cwd,
        approver=approver,
        ask_user=ask_user,
        credentials=credentials,
        identity=identity,
        env=env,
        auth_manager=auth_manager,
    ) as session:
        yield session


@asynccontextmanager
async def fork_session(
    config: Config,
    thread: str | Path,
    *,
    cut_after_user_turns: int | None = None,
    cwd: Path | None = None,
    approver: Approver | None = None,
    ask_user: UserInputAsker | None = None,
    credentials: CredentialSource | None = None,
    identity: ClientIdentity | None = None,
    env: Mapping[str, str] | None = None,
    auth_manager: AuthManager | None = None,
    ephemeral: bool = False,
) -> AsyncIterator[Session]:
    """A new thread that starts as a copy of a recorded one (up to a cut point).

    Its rollout names the source in ``forked_from_id``; base instructions carry over. An
    ``ephemeral`` fork writes no rollout: it starts from the source's history in memory.
    """
    from codex_engine.core.rollout import load_rollout

    source_path = await asyncio.to_thread(locate_thread, config, thread, cwd=cwd)
    if ephemeral:
        contents = await asyncio.to_thread(
            load_rollout, source_path, cut_after_user_turns=cut_after_user_turns
        )
        async with _session(
            config,
            _resumed_settings(config, contents, cwd),
            thread_id=new_thread_id(),
            rollout=None,
            history=contents.items,
            approver=approver,
            ask_user=ask_user,
            credentials=credentials,
            identity=identity,
            env=env,
            auth_manager=auth_manager,
            source="exec",
            warnings=contents.warnings,
        ) as session:
            yield session
        return
    recorder = await RolloutRecorder.fork(
        source_path,
        config.codex_home,
        new_thread_id=new_thread_id(),
        cut_after_user_turns=cut_after_user_turns,
    )
    async with _recorded(
        config,
        recorder,
        cwd=cwd,
        approver=approver,
        ask_user=ask_user,
        credentials=credentials,
        identity=identity,
        env=env,
        auth_manager=auth_manager,
    ) as session:
        yield session


@asynccontextmanager
async def _recorded(
    config: Config,
    recorder: RolloutRecorder,
    *,
    cwd: Path | None,
    approver: Approver | None,
    ask_user: UserInputAsker | None = None,
    credentials: CredentialSource | None,
    identity: ClientIdentity | None,
    env: Mapping[str, str] | None,
    auth_manager: AuthManager | None,
) -> AsyncIterator[Session]:
    """A session that continues the rollout ``recorder`` holds, under the id its meta names."""
    from codex_engine.core.goals import goal_from_events
    from codex_engine.core.rollout import load_rollout

    try:
        contents = await asyncio.to_thread(load_rollout, recorder.path)
        async with _session(
            config,
            _resumed_settings(config, contents, cwd),
            thread_id=contents.meta.id,
            rollout=recorder,
            history=contents.items,
            goal=goal_from_events(contents.events, contents.meta.id),
            approver=approver,
            ask_user=ask_user,
            credentials=credentials,
            identity=identity,
            env=env,
            auth_manager=auth_manager,
            source="exec",
            warnings=[*recorder.warnings, *contents.warnings],
        ) as session:
            yield session
    finally:
        await recorder.close()


def _resumed_settings(
    config: Config, contents: RolloutContents, cwd: Path | None
) -> SessionSettings:
    settings, _warning = settings_from_config(config, cwd=cwd)
    stored = contents.meta.base_instructions
    if config.base_instructions is None and stored:
        settings = msgspec.structs.replace(settings, base_instructions=stored)
    return settings


@asynccontextmanager
async def _session(
    config: Config,
    settings: SessionSettings,
    *,
    thread_id: str,
    rollout: RolloutRecorder | Literal["new"] | None,
    approver: Approver | None,
    ask_user: UserInputAsker | None = None,
    credentials: CredentialSource | None,
    identity: ClientIdentity | None,
    env: Mapping[str, str] | None,
    auth_manager: AuthManager | None,
    source: str,
    history: Sequence[ResponseItem] = (),
    warnings: Sequence[str] = (),
    warm_handshake: asyncio.Task[WebSocketConnection] | None = None,
    goal: ThreadGoal | None = None,
    git_info: Awaitable[GitInfo | None] | None = None,
) -> AsyncIterator[Session]:
    environ = dict(os.environ) if env is None else dict(env)
    if settings.shell_env is None:
        settings = msgspec.structs.replace(
            settings,
            shell_env=create_env(environ, config.shell_environment_policy, thread_id=thread_id),
        )
    provider = config.model_provider.with_chatgpt_base_url(config.chatgpt_base_url)
    owned_manager: AuthManager | None = None
    if credentials is None and auth_manager is None and provider.requires_openai_auth:
        from codex_engine.auth.manager import AuthManager

        auth_manager = owned_manager = AuthManager.from_config(
            config, env=environ, enable_codex_api_key_env=True
        )
    if auth_manager is not None:
        auth_manager.enforce_login_policy()
    source_creds = credentials or credentials_for_provider(provider, environ, auth_manager)
    try:
        await source_creds.credentials()
    except BaseException:
        if warm_handshake is not None:
            warm_handshake.cancel()
        if owned_manager is not None:
            await owned_manager.aclose()
        raise
    ident = identity or default_identity(environ.get("CODEX_INTERNAL_ORIGINATOR_OVERRIDE"))
    otel = parse_otel_settings(
        config.otel, codex_home=config.codex_home, source=str(config.config_path)
    )
    # Owned by this session, not installed globally: an embedding app keeps its own providers.
    # Without an exporter nothing is recorded: sessions share one disabled instance.
    metrics = (
        _DISABLED_METRICS
        if otel.user_metrics_exporter is None
        else Metrics.from_settings(
            otel, originator=ident.originator, model=settings.model_info.slug
        )
    )
    client = ModelClient(
        provider=provider,
        credentials=source_creds,
        thread_id=thread_id,
        identity=ident,
        beta_features=config.features.beta_header_value(),
        enable_websockets=config.features.websockets_enabled(),
        enable_preconnect=config.features.enabled("websocket_preconnect"),
        enable_compression=config.features.enabled("enable_request_compression"),
        include_timing_metrics=config.features.enabled("runtime_metrics"),
        metrics=metrics,
        env=environ,
    )
    recorder = rollout if isinstance(rollout, RolloutRecorder) else None
    # MCP servers start in the background now; the first request waits for them (bounded).
    mcp = McpManager(config.mcp_servers, environ=environ, cwd=settings.cwd)
    try:
        mcp.start()
        start_preconnect(client, settings, warm_handshake=warm_handshake)
        # Git runs while the WebSocket handshake is in flight; it is bounded to a fraction of a
        # second and never fails the session.
        git = await (git_info if git_info is not None else collect_git_info(settings.cwd))
        # Before the rollout exists: a required server that cannot start leaves nothing behind.
        await mcp.check_required()
        if rollout == "new":
            recorder = await RolloutRecorder.create(
                config.codex_home,
                SessionMeta(
                    id=thread_id,
                    cwd=str(settings.cwd),
                    originator=ident.originator,
                    cli_version=__version__,
                    source=source,
                    model_provider=config.model_provider_id,
                    base_instructions=settings.base_instructions,
                    git=git.to_session_meta() if git is not None else None,
                ),
            )
        deps = SessionDeps(
            client,
            recorder=recorder,
            git_info=git,
            approver=approver,
            ask_user=ask_user,
            load_warnings=tuple(warnings),
            # Always there, even empty: `config/mcpServer/reload` may add servers later.
            toolsets=(McpToolset(mcp),),
            goal=goal,
        )
        session = Session(settings, deps, history=history)
        try:
            yield session
        finally:
            # No process a command started outlives the session.
            await session.aclose()
    finally:
        # Servers first: nothing the session started outlives it, whatever fails below.
        await mcp.close()
        if recorder is not None:
            await recorder.close()
        await client.aclose()
        # Flushes what is left, so even a one-shot `exec` exports its metrics before exiting.
        await metrics.aclose()
        if owned_manager is not None:
            await owned_manager.aclose()
