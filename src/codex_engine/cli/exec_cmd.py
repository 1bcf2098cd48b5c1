"""``codex-engine exec``: run one turn non-interactively and stream it to the terminal."""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import sys
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from codex_engine.cli.options import ConfigFlags, config_flags, gather_flags
from codex_engine.cli.render import HumanRenderer, JsonRenderer, Renderer
from codex_engine.config.loader import Config, load_config
from codex_engine.core.events import TurnCompleted, TurnFailed, TurnInterrupted
from codex_engine.errors import CodexError, ConfigError

if TYPE_CHECKING:
    from codex_engine.core.session import Session
    from codex_engine.transport.websocket import WebSocketConnection

__all__ = ["exec_command"]

EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130


def _read_prompt(prompt: str | None) -> str:
    if prompt is not None and prompt != "-":
        return prompt
    if prompt is None and sys.stdin.isatty():
        raise click.UsageError("no prompt given: pass it as an argument, or pipe it on stdin")
    text = sys.stdin.read()
    if not text.strip():
        raise click.UsageError("the prompt read from stdin is empty")
    return text


def _inside_git_repo(path: Path) -> bool:
    return any((parent / ".git").exists() for parent in (path, *path.parents))


def _load(flags: ConfigFlags, *, model: str | None, sandbox: str | None, cwd: Path) -> Config:
    overrides = flags.parsed()
    if model is not None:
        overrides.append((["model"], model))
    if sandbox is not None:
        overrides.append((["sandbox_mode"], sandbox))
    # exec never stops to ask: like the reference, it runs with approval policy "never".
    overrides.append((["approval_policy"], "never"))
    return load_config(overrides=overrides, profile=flags.profile, cwd=cwd)


@dataclass(frozen=True, slots=True)
class Target:
    """Which session a run continues: a new one, a resumed one, or a fork of one."""

    kind: Literal["new", "resume", "fork"] = "new"
    thread: str | None = None
    cut: int | None = None

    def open(
        self,
        config: Config,
        *,
        thread_id: str | None = None,
        warm_handshake: asyncio.Task[WebSocketConnection] | None = None,
    ) -> AbstractAsyncContextManager[Session]:
        from codex_engine.core.launch import fork_session, open_session, resume_session

        if self.kind == "resume":
            assert self.thread is not None
            return resume_session(config, self.thread)
        if self.kind == "fork":
            assert self.thread is not None
            return fork_session(config, self.thread, cut_after_user_turns=self.cut)
        return open_session(config, thread_id=thread_id, warm_handshake=warm_handshake)


def _warm_early(config: Config) -> tuple[str | None, asyncio.Task[WebSocketConnection] | None]:
    """Start the WebSocket handshake now, before the engine is imported, when it can be."""
    if not config.features.enabled("websocket_preconnect"):
        return None, None
    model_info, _warning = config.model_info()
    from codex_engine.client.warm import can_warm_early, start_warm_handshake

    if not can_warm_early(
        config.model_provider,
        feature_enabled=config.features.enabled("responses_websockets"),
        model_prefers=model_info.prefer_websockets,
    ):
        return None, None
    from codex_engine.protocol.ids import new_thread_id
    from codex_engine.protocol.request import default_identity

    thread_id = new_thread_id()
    task = start_warm_handshake(
        config.model_provider,
        thread_id=thread_id,
        identity=default_identity(os.environ.get("CODEX_INTERNAL_ORIGINATOR_OVERRIDE")),
        beta_features=config.features.beta_header_value(),
        env=dict(os.environ),
        turn_metadata={"sandbox": config.sandbox_mode},
    )
    return thread_id, task


def _target(args: tuple[str, ...], *, last: bool, cut: int | None) -> tuple[Target, str | None]:
    """Split ``[resume (--last | ID) | fork ID] [PROMPT]`` into the target and the prompt."""
    if args and args[0] in {"resume", "fork"}:
        kind, rest = args[0], list(args[1:])
        if kind == "resume" and last:
            thread = "last"
        elif rest:
            thread = rest.pop(0)
        else:
            hint = "pass a session id or --last" if kind == "resume" else "pass a session id"
            raise click.UsageError(f"`exec {kind}` needs the session to continue: {hint}")
        if len(rest) > 1:
            raise click.UsageError("give the prompt as one argument (quote it)")
        target = Target("resume" if kind == "resume" else "fork", thread, cut)
        return target, rest[0] if rest else None
    if last or cut is not None:
        raise click.UsageError("--last goes with `exec resume`, --cut with `exec fork`")
    if len(args) > 1:
        raise click.UsageError("give the prompt as one argument (quote it)")
    return Target(), args[0] if args else None


async def _run(config: Config, prompt: str, renderer: Renderer, target: Target) -> int:
    thread_id, warm = _warm_early(config) if target.kind == "new" else (None, None)
    # Most of start-up is importing the engine: do it while the handshake is in flight.
    await asyncio.to_thread(importlib.import_module, "codex_engine.core.launch")
    from codex_engine.core.launch import settings_from_config

    settings, warning = settings_from_config(config)
    if warning:
        renderer.warning(warning)
    for notice in config.feature_warnings:
        renderer.warning(notice)
    async with target.open(config, thread_id=thread_id, warm_handshake=warm) as session:
        for notice in session.load_warnings:
            renderer.warning(notice)
        renderer.session_started(
            session.thread_id,
            settings.model_info.slug,
            config.model_provider_id,
            str(session.settings.cwd),
        )
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGINT, session.interrupt)
            loop.add_signal_handler(signal.SIGTERM, session.interrupt)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix loops
            pass
        code = EXIT_FAILED
        async for event in session.run_turn(prompt):
            renderer.event(event)
            if isinstance(event, TurnCompleted):
                code = 0
            elif isinstance(event, TurnFailed):
                code = EXIT_FAILED
            elif isinstance(event, TurnInterrupted):
                code = EXIT_INTERRUPTED
        return code


@click.command("exec")
@click.argument("args", nargs=-1, metavar="[resume (--last | ID) | fork ID] [PROMPT]")
@click.option("--last", is_flag=True, help="With `resume`: continue the most recent session.")
@click.option(
    "--cut",
    type=click.IntRange(min=0),
    default=None,
    help="With `fork`: keep only the first N user turns of the source session.",
)
@click.option("-m", "--model", default=None, help="Model to use (overrides config `model`).")
@click.option(
    "-C",
    "--cd",
    "cd",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Working directory for the session.",
)
@click.option(
    "-s",
    "--sandbox",
    type=click.Choice(["read-only", "workspace-write", "danger-full-access"]),
    default=None,
    help="Sandbox mode for commands the model runs.",
)
@click.option(
    "--skip-git-repo-check",
    is_flag=True,
    help="Run even when the working directory is not inside a git repository.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON event per line on stdout.")
@config_flags
@click.pass_context
def exec_command(
    ctx: click.Context,
    /,
    args: tuple[str, ...],
    last: bool,
    cut: int | None,
    model: str | None,
    cd: Path | None,
    sandbox: str | None,
    skip_git_repo_check: bool,
    as_json: bool,
    **flag_values: Any,
) -> None:
    """Run one turn with PROMPT (or stdin when PROMPT is `-` or piped) and print the answer.

    `exec resume --last PROMPT` or `exec resume ID PROMPT` continues a recorded session (same
    id, same rollout file); `exec fork ID PROMPT` starts a new session from a copy of one.
    """
    renderer: Renderer = JsonRenderer() if as_json else HumanRenderer()
    cwd = (cd or Path.cwd()).resolve()
    try:
        target, prompt = _target(args, last=last, cut=cut)
        text = _read_prompt(prompt)
        if not cwd.is_dir():
            raise ConfigError(f"working directory {cwd} does not exist; pass an existing -C path")
        if not skip_git_repo_check and not _inside_git_repo(cwd):
            renderer.fatal(
                f"{cwd} is not inside a git repository, so changes could not be reviewed or "
                "undone; run inside a repository or pass --skip-git-repo-check"
            )
            ctx.exit(EXIT_FAILED)
        config = _load(gather_flags(ctx, **flag_values), model=model, sandbox=sandbox, cwd=cwd)
        code = asyncio.run(_run(config, text, renderer, target))
    except ConfigError as exc:
        renderer.fatal(str(exc))
        ctx.exit(EXIT_CONFIG)
    except CodexError as exc:
        renderer.fatal(str(exc))
        ctx.exit(EXIT_FAILED)
    except KeyboardInterrupt:
        renderer.fatal("interrupted")
        ctx.exit(EXIT_INTERRUPTED)
    ctx.exit(code)
