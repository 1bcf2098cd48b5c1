"""``codex-engine emulator``: serve the bundled Responses API emulator on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

import click

__all__ = ["emulator_command"]


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free).",
)
@click.option(
    "--ready-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the base URL to this file once listening (for scripts).",
)
@click.option(
    "--handshake-delay",
    type=float,
    default=0.0,
    show_default=True,
    help="Seconds to hold every WebSocket upgrade before answering it.",
)
@click.option(
    "--event-delay",
    type=float,
    default=0.0,
    show_default=True,
    help="Seconds between streamed events.",
)
@click.option(
    "--turn-state",
    default=None,
    help="Value to send as x-codex-turn-state on every response.",
)
def emulator_command(
    host: str,
    port: int,
    ready_file: Path | None,
    handshake_delay: float,
    event_delay: float,
    turn_state: str | None,
) -> None:
    """Serve a scripted Responses API (HTTP+SSE and WebSocket) until interrupted.

    Point codex-engine at it with `-c model_provider=emulator
    -c model_providers.emulator.base_url=<printed URL>`.
    """

    # Imported here: aiohttp is heavy, an extra, and only this command needs it.
    try:
        from codex_engine.emulator import serve
    except ImportError as exc:
        if exc.name is None or exc.name.split(".")[0] != "aiohttp":
            raise
        raise click.ClickException(
            "the emulator needs the `emulator` extra (aiohttp); "
            "pip install 'codex-engine[emulator]'"
        ) from None

    def ready(base_url: str) -> None:
        print(base_url, flush=True)
        if ready_file is not None:
            tmp = ready_file.with_name(ready_file.name + ".tmp")
            tmp.write_text(base_url + "\n")
            tmp.replace(ready_file)
        print(f"emulator listening on {base_url} (Ctrl-C to stop)", file=sys.stderr, flush=True)

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(
                serve(
                    host,
                    port,
                    ready=ready,
                    handshake_delay=handshake_delay,
                    event_delay=event_delay,
                    turn_state=turn_state,
                )
            )
    except OSError as exc:
        raise click.ClickException(
            f"could not listen on {host}:{port} ({exc.strerror or exc}); pick another --port"
        ) from None
