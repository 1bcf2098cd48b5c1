"""``codex-engine exec``: run one turn non-interactively and stream it to the terminal."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import signal
import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click
import msgspec

from codex_engine.cli.exec_inputs import (
    check_prompt_length,
    image_attachments,
    load_output_schema,
    with_stdin_context,
    write_last_message,
)
from codex_engine.cli.inputs import InputError, check_path, decode_stdin_prompt
from codex_engine.cli.options import ConfigFlags, config_flags, gather_flags
from codex_engine.cli.render import HumanRenderer, JsonRenderer, Renderer
from codex_engine.cli.startup import pause_collector, resume_collector
from codex_engine.config.loader import Config, load_config
from codex_engine.core.events import TurnCompleted, TurnFailed, TurnInterrupted
from codex_engine.core.turn_options import TurnOptions
from codex_engine.errors import CodexError, ConfigError
from codex_engine.protocol.items import ContentPart

if TYPE_CHECKING:
    from codex_engine.config.catalog import ModelInfo
    from codex_engine.core.git_info import GitInfo
    from codex_engine.core.session import Session
    from codex_engine.transport.websocket import WebSocketConnection

__all__ = ["exec_command"]

EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130
# What a shell reports for a filter killed by SIGPIPE (128 + 13); Python ignores the signal,
# so the code is chosen, not inherited.
EXIT_BROKEN_PIPE = 141


def _read_prompt(prompt: str | None, *, append_stdin: bool = True) -> str:
    """The prompt argument, stdin (for ``-`` or no argument), or the argument with piped stdin
    appended as context, as the reference does for a new session (not for ``resume``)."""
    stdin = sys.stdin
    if prompt is not None and prompt != "-":
        # main() has already refused arguments that are not UTF-8
        if not append_stdin or stdin is None or _is_terminal(stdin):
            return prompt
        extra = _read_stdin(stdin)
        return with_stdin_context(prompt, extra) if extra.strip() else prompt
    if stdin is None:  # started with stdin closed (`<&-`)
        raise click.UsageError("no prompt given and stdin is closed: pass it as an argument")
    if prompt is None and _is_terminal(stdin):
        raise click.UsageError("no prompt given: pass it as an argument, or pipe it on stdin")
    text = _read_stdin(stdin)
    if not text.strip():
        raise click.UsageError("the prompt read from stdin is empty")
    return text


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or unusual: not a terminal
        return False


def _read_stdin(stdin: Any) -> str:
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
    return decode_stdin_prompt(raw)


def _inside_git_repo(path: Path) -> bool:
    for parent in (path, *path.parents):
        with contextlib.suppress(OSError):  # an unreadable parent just is not a repository
            if (parent / ".git").exists():
                return True
    return False


def _load(
    flags: ConfigFlags,
    *,
    model: str | None,
    sandbox: str | None,
    add_dirs: tuple[Path, ...],
    cwd: Path,
) -> Config:
    overrides = flags.parsed()
    if model is not None:
        overrides.append((["model"], model))
    if sandbox is not None:
        overrides.append((["sandbox_mode"], sandbox))
    # exec never stops to ask: like the reference, it runs with approval policy "never".
    overrides.append((["approval_policy"], "never"))
    config = load_config(overrides=overrides, profile=flags.profile, cwd=cwd)
    if not add_dirs:
        return config
    roots = tuple((cwd / d).resolve() for d in add_dirs)
    return msgspec.structs.replace(config, additional_writable_roots=roots)


class TurnInput(msgspec.Struct, frozen=True):
    """What the one turn of ``exec`` sends, and where its last message goes."""

    text: str
    attachments: tuple[ContentPart, ...] = ()
    output_schema: Mapping[str, Any] | None = None
    last_message_file: Path | None = None


class Target(msgspec.Struct, frozen=True):
    """Which session a run continues: a new one, a resumed one, or a fork of one."""

    kind: Literal["new", "resume", "fork"] = "new"
    thread: str | None = None
    cut: int | None = None
    #: With ``resume --last``: the newest session anywhere, not only the working directory's.
    anywhere: bool = False
    ephemeral: bool = False

    def open(
        self,
        config: Config,
        *,
        thread_id: str | None = None,
        warm_handshake: asyncio.Task[WebSocketConnection] | None = None,
        git_info: asyncio.Task[GitInfo | None] | None = None,
    ) -> AbstractAsyncContextManager[Session]:
        from codex_engine.core.launch import fork_session, open_session, resume_session

        if self.kind == "resume":
            assert self.thread is not None
            if self.thread == "last" and not self.anywhere:
                # The newest session recorded in this working directory, as the reference picks.
                return resume_session(config, self.thread, cwd=config.cwd)
            return resume_session(config, self.thread)
        if self.kind == "fork":
            assert self.thread is not None
            return fork_session(config, self.thread, cut_after_user_turns=self.cut)
        return open_session(
            config,
            thread_id=thread_id,
            warm_handshake=warm_handshake,
            ephemeral=self.ephemeral,
            git_info=git_info,
        )


def _warm_early(
    config: Config, model_info: ModelInfo
) -> tuple[str | None, asyncio.Task[WebSocketConnection] | None]:
    """Start the WebSocket handshake now, before the engine is imported, when it can be."""
    if not config.features.enabled("websocket_preconnect"):
        return None, None
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


def _target(
    args: tuple[str, ...],
    *,
    last: bool,
    cut: int | None,
    anywhere: bool = False,
    ephemeral: bool = False,
) -> tuple[Target, str | None]:
    """Split ``[resume (--last | ID) | fork ID] [PROMPT]`` into the target and the prompt."""
    if anywhere and not (args and args[0] == "resume"):
        raise click.UsageError("--all goes with `exec resume`")
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
        target = Target("resume" if kind == "resume" else "fork", thread, cut, anywhere)
        return target, rest[0] if rest else None
    if last or cut is not None:
        raise click.UsageError("--last goes with `exec resume`, --cut with `exec fork`")
    if len(args) > 1:
        raise click.UsageError("give the prompt as one argument (quote it)")
    return Target(ephemeral=ephemeral), args[0] if args else None


async def _run(config: Config, turn: TurnInput, renderer: Renderer, target: Target) -> int:
    # Looked up once here; the session makes its own settings (AGENTS.md included) as it opens.
    model_info, warning = config.model_info()
    thread_id, warm = _warm_early(config, model_info) if target.kind == "new" else (None, None)
    git: asyncio.Task[GitInfo | None] | None = None
    if target.kind == "new":
        from codex_engine.core.git_info import collect_git_info

        # git runs in its own processes (on another core) while the engine is imported.
        git = asyncio.create_task(collect_git_info(config.cwd.resolve()))
    # Most of start-up is importing the engine: do it while the handshake is in flight.
    await asyncio.to_thread(importlib.import_module, "codex_engine.core.launch")
    resume_collector()
    if warning:
        renderer.warning(warning)
    for notice in config.feature_warnings:
        renderer.warning(notice)
    async with target.open(
        config, thread_id=thread_id, warm_handshake=warm, git_info=git
    ) as session:
        for notice in session.load_warnings:
            renderer.warning(notice)
        renderer.session_started(
            session.thread_id,
            session.settings.model_info.slug,
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
        options = TurnOptions(attachments=tuple(turn.attachments), output_schema=turn.output_schema)
        events = session.run_turn(turn.text, options=options)
        async for event in events:
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
                if turn.last_message_file is not None:
                    code = _save_last_message(turn.last_message_file, event, renderer)
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
@click.option(
    "-o",
    "--output-last-message",
    "last_message_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the turn's last agent message to FILE when the turn completes.",
)
@click.option(
    "--output-schema",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A JSON schema file the model's final answer must follow.",
)
@click.option(
    "-i",
    "--image",
    "images",
    multiple=True,
    metavar="FILE",
    help="Attach an image to the prompt (repeat, or separate with commas).",
)
@click.option("--ephemeral", is_flag=True, help="Record no session file.")
@click.option(
    "--add-dir",
    "add_dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Another directory commands may write to under workspace-write (repeatable).",
)
@click.option(
    "--color",
    type=click.Choice(["always", "never", "auto"]),
    default="auto",
    show_default=True,
    help="Colour in the terminal output.",
)
@click.option(
    "--dangerously-bypass-approvals-and-sandbox",
    "bypass",
    is_flag=True,
    help="Run every command without a sandbox or approval. Only inside an external sandbox.",
)
@click.option(
    "--all", "anywhere", is_flag=True, help="With `resume --last`: look in every directory."
)
@config_flags
@click.pass_context
def exec_command(ctx: click.Context, /, **values: Any) -> None:
    """Run one turn with PROMPT (or stdin when PROMPT is `-` or piped) and print the answer.

    With both a PROMPT and piped stdin, stdin is appended to the prompt as context.
    `exec resume --last PROMPT` or `exec resume ID PROMPT` continues a recorded session (same
    id, same rollout file); `exec fork ID PROMPT` starts a new session from a copy of one.
    """
    pause_collector()  # until the engine is loaded (_run); the process ends with the command
    flag_keys = ("config_overrides", "enable", "disable", "profile")
    flag_values = {key: values.pop(key) for key in flag_keys}
    opts = ExecArgs(**values)
    renderer: Renderer = JsonRenderer() if opts.as_json else HumanRenderer(color=_color(opts.color))
    sandbox = "danger-full-access" if opts.bypass else opts.sandbox
    try:
        code = _execute(
            renderer, opts,
            load=lambda cwd: _load(
                gather_flags(ctx, **flag_values), model=opts.model, sandbox=sandbox,
                add_dirs=opts.add_dirs, cwd=cwd,
            ),
        )  # fmt: skip
    except BrokenPipeError:  # also when the error line itself meets a closed stdout (--json)
        code = EXIT_BROKEN_PIPE
    if code == EXIT_BROKEN_PIPE:
        _detach_stdout()
    ctx.exit(code)


class ExecArgs(msgspec.Struct, frozen=True):
    """The ``exec`` command line, as click parsed it."""

    args: tuple[str, ...]
    last: bool
    cut: int | None
    model: str | None
    cd: Path | None
    sandbox: str | None
    skip_git_repo_check: bool
    as_json: bool
    last_message_file: Path | None
    output_schema: Path | None
    images: tuple[str, ...]
    ephemeral: bool
    add_dirs: tuple[Path, ...]
    color: str
    bypass: bool
    anywhere: bool


def _color(choice: str) -> bool | None:
    return {"always": True, "never": False}.get(choice)


def _turn_input(opts: ExecArgs, prompt: str | None, *, new_session: bool) -> TurnInput:
    """Read and check everything the turn sends, before any session exists."""
    text = _read_prompt(prompt, append_stdin=new_session)
    check_prompt_length(text)
    paths = [Path(part) for raw in opts.images for part in raw.split(",") if part]
    schema = load_output_schema(opts.output_schema) if opts.output_schema else None
    out = opts.last_message_file
    if out is not None and not out.parent.resolve().is_dir():
        raise InputError(f"-o {out}: the directory {out.parent} does not exist; create it first")
    return TurnInput(text, tuple(image_attachments(paths)), schema, out)


def _execute(renderer: Renderer, opts: ExecArgs, *, load: Callable[[Path], Config]) -> int:
    """Run the command; its exit code (problems a user can fix are one line, never raised)."""
    try:
        target, prompt = _target(
            opts.args, last=opts.last, cut=opts.cut, anywhere=opts.anywhere,
            ephemeral=opts.ephemeral,
        )  # fmt: skip
        turn = _turn_input(opts, prompt, new_session=target.kind == "new")
        cwd = _working_directory(opts.cd)
        # The bypass is for runs inside an external sandbox: like the reference, it also skips
        # the repository check.
        skip_check = opts.skip_git_repo_check or opts.bypass
        if not skip_check and not _inside_git_repo(cwd):
            renderer.fatal(
                f"{cwd} is not inside a git repository, so changes could not be reviewed or "
                "undone; run inside a repository or pass --skip-git-repo-check"
            )
            return EXIT_FAILED
        return asyncio.run(_run(load(cwd), turn, renderer, target))
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


def _save_last_message(path: Path, event: TurnCompleted, renderer: Renderer) -> int:
    """Write ``-o``'s file once the turn completed (a failed turn leaves it untouched)."""
    text = event.last_agent_message
    if text is None:
        renderer.warning(f"the turn ended without an agent message; wrote an empty {path}")
    try:
        write_last_message(path, text or "")
    except OSError as exc:
        renderer.fatal(
            f"could not write the last message to {path} ({exc.strerror or exc}); "
            "pass a writable -o path"
        )
        return EXIT_FAILED
    return 0


def _detach_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit cannot complain about the closed pipe."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
