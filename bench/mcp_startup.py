"""Session start to first model request with 0, 1 and 5 stdio MCP servers configured.

Each server answers `initialize` after sleeping 200 ms: `bench/mcp_light_server.py` by default
(hand-written JSON-RPC, ~30 ms to start), or with `--sdk-server` the test suite's server written
with the `mcp` SDK (which also spends ~1 s of CPU importing it: 5 of them on 2 cores are CPU
bound). Servers start in parallel, so 5 should cost about what 1 costs. Prints a table of the
median and best over the runs.

    .venv/bin/python bench/mcp_startup.py [--runs N] [--delay SECONDS] [--sdk-server]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.mcp_support import mcp_config, stdio_entry, toml_value  # noqa: E402

from codex_engine.core.launch import open_session  # noqa: E402
from codex_engine.emulator import Reply, ResponsesEmulator  # noqa: E402

LIGHT = Path(__file__).resolve().parent / "mcp_light_server.py"


def light_entry(name: str, delay: float) -> str:
    args = toml_value([str(LIGHT), str(delay)])
    return f"[mcp_servers.{name}]\ncommand = {toml_value(sys.executable)}\nargs = {args}\n"


async def one_run(servers: int, delay: float, sdk: bool = False) -> float:
    """Seconds from opening the session to the emulator receiving the first request."""
    home = Path(tempfile.mkdtemp(prefix="mcp-bench-"))
    async with ResponsesEmulator() as emulator:
        entries = "".join(
            stdio_entry(f"s{i}", "--delay", str(delay)) if sdk else light_entry(f"s{i}", delay)
            for i in range(servers)
        )
        config = mcp_config(home, emulator, home, entries)
        emulator.enqueue(Reply.text("ok"))
        started = time.perf_counter()
        async with open_session(config, ephemeral=True) as session:
            turn = session.run_turn("hello")
            async for _event in turn:
                if emulator.requests:
                    elapsed = time.perf_counter() - started
                    break
            await turn.aclose()
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--sdk-server", action="store_true")
    args = parser.parse_args()
    print(
        f"| servers | median (ms) | best (ms) |  ({args.runs} runs, {args.delay * 1000:.0f} ms "
        "init delay each)"
    )
    print("|---:|---:|---:|")
    for servers in (0, 1, 5):
        await one_run(servers, args.delay, args.sdk_server)  # warm-up
        times = [await one_run(servers, args.delay, args.sdk_server) for _ in range(args.runs)]
        print(f"| {servers} | {statistics.median(times) * 1000:.0f} | {min(times) * 1000:.0f} |")


if __name__ == "__main__":
    asyncio.run(main())
