"""``codex-engine exec``: run one turn non-interactively and stream it to the terminal."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import signal
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from codex_engine.cli.inputs import InputError, check_path, decode_stdin_prompt
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
# What a shell reports for a filter killed by SIGPIPE (128 + 13); Python ignores the signal,
# so the code is chosen, not inherited.
EXIT_BROKEN_PIPE = 141


def _read_prompt(prompt: str | None) -> str:
    if prompt is not None and prompt != "-":
        return prompt  # main() has already refused arguments that are not UTF-8
    stdin = sys.stdin
    if stdin is None:  # started with stdin closed (`<&-`)
        raise click.UsageError("no prompt given and stdin is closed: pass it as an argument")
    if prompt is None and stdin.isatty():
        raise click.UsageError("no prompt given: pass it as an argument, or pipe it on stdin")
    # Bytes, not text: the decoder of sys.stdin would either raise mid-read or smuggle the bad
    # bytes through as surrogates that fail much later, when the rollout line is encoded.
    try:
        buffer = getattr(stdin, "buffer", None)
        if buffer is not None:
            raw = buffer.read()
        else:
            raw = stdin.read().encode("utf-8", "surrogateescape")
    except OSError as exc:
        raise InputError(
            f"could not read the prompt from stdin ({exc.strerror or exc}); pipe a readable file"
        ) from None
    text = decode_stdin_prompt(raw)
    if not text.strip():
        raise click.UsageError("the prompt read from stdin is empty")
    return text


def _inside_git_repo(path: Path) -> bool:
    for parent in (path, *path.parents):
        with contextlib.suppress(OSError):  # an unreadable parent just is not a repository
            if (parent / ".git").exists():
                return True
    return False


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
        feature_enabled=config.features.websockets_enabled(),
        model_prefers=model_info.prefer_websockets,
    ):
        return None, None
    from codex_engine.protocol.ids import new_thread_id
    from codex_engine.protocol.request import default_identity

    thread_id = new_thread_id()
    cwd = config.cwd.resolve()

    async def metadata() -> dict[str, object]:
        # Imported inside the task, so starting the handshake stays light; the same bounded
        # builder the session's turns use (git context included).
        from codex_engine.core.turn_metadata import build_turn_metadata

        return await build_turn_metadata(cwd, sandbox=config.sandbox_mode)

    task = start_warm_handshake(
        config.model_provider,
        thread_id=thread_id,
        identity=default_identity(os.environ.get("CODEX_INTERNAL_ORIGINATOR_OVERRIDE")),
        beta_features=config.features.beta_header_value(),
        env=dict(os.environ),
        turn_metadata=metadata,
        timing_metrics=config.features.enabled("runtime_metrics"),
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
        reader_gone = False
        async for event in session.run_turn(prompt):
            if not reader_gone:
                try:
                    renderer.event(event)
                except BrokenPipeError:
                    # Whoever read stdout went away (`| head -1`): nobody sees the rest, so stop
                    # the turn and its commands, let it end (recorded as interrupted) and leave
                    # quietly, as a Unix filter does.
                    reader_gone = True
                    session.interrupt()
            if isinstance(event, TurnCompleted):
                code = 0
            elif isinstance(event, TurnFailed):
                code = EXIT_FAILED
            elif isinstance(event, TurnInterrupted):
                code = EXIT_INTERRUPTED
        return EXIT_BROKEN_PIPE if reader_gone else code


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
    try:
        code = _execute(
            renderer, args, last=last, cut=cut, cd=cd,
            skip_git_repo_check=skip_git_repo_check,
            load=lambda cwd: _load(
                gather_flags(ctx, **flag_values), model=model, sandbox=sandbox, cwd=cwd
            ),
        )  # fmt: skip
    except BrokenPipeError:  # also when the error line itself meets a closed stdout (--json)
        code = EXIT_BROKEN_PIPE
    if code == EXIT_BROKEN_PIPE:
        _detach_stdout()
    ctx.exit(code)


def _execute(
    renderer: Renderer,
    args: tuple[str, ...],
    *,
    last: bool,
    cut: int | None,
    cd: Path | None,
    skip_git_repo_check: bool,
    load: Callable[[Path], Config],
) -> int:
    """Run the command; its exit code (problems a user can fix are one line, never raised)."""
    try:
        target, prompt = _target(args, last=last, cut=cut)
        text = _read_prompt(prompt)
        cwd = _working_directory(cd)
        if not skip_git_repo_check and not _inside_git_repo(cwd):
            renderer.fatal(
                f"{cwd} is not inside a git repository, so changes could not be reviewed or "
                "undone; run inside a repository or pass --skip-git-repo-check"
            )
            return EXIT_FAILED
        return asyncio.run(_run(load(cwd), text, renderer, target))
    except ConfigError as exc:
        renderer.fatal(str(exc))
        return EXIT_CONFIG
    except CodexError as exc:
        renderer.fatal(str(exc))
        return EXIT_FAILED
    except KeyboardInterrupt:
        renderer.fatal("interrupted")
        return EXIT_INTERRUPTED


def _working_directory(cd: Path | None) -> Path:
    """The session's directory, absolute; InputError/ConfigError when it cannot be used."""
    try:
        cwd = (cd or Path.cwd()).resolve()
        usable = cwd.is_dir()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python 3.11)
        where = f"-C {cd}" if cd is not None else "the current directory"
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(
            f"cannot use {where} as the working directory ({reason}); pass a directory you can "
            "read with -C"
        ) from None
    if not usable:
        raise ConfigError(f"working directory {cwd} does not exist; pass an existing -C path")
    check_path(str(cwd), "the working directory")
    return cwd


def _detach_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit cannot complain about the closed pipe."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
