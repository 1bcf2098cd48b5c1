"""Benchmark the app-server: concurrent turns, memory per idle thread, and SDK start-to-answer.

Reproduce (from the repo root)::

    .venv/bin/python bench/app_server_concurrency.py                 # all three parts
    .venv/bin/python bench/app_server_concurrency.py --json bench/results/app_server.json
    .venv/bin/python bench/app_server_concurrency.py --no-reference  # skip the reference CLI

The bundled Responses API emulator runs as its own process (``codex-engine emulator --port 0``,
HTTP+SSE, instant scripted replies), so every figure is client-side overhead, never model time.

1. Concurrent turns (N = 10, 50, 100). One ``codex-engine app-server`` process on stdio pipes,
   N threads, then per round all N ``turn/start`` requests sent at once; a turn's latency is
   from writing its ``turn/start`` to reading its ``turn/completed``. The baseline is the same
   N turns driven at once through the library (``open_session`` + ``run_turn`` in this
   process, from the call to ``TurnCompleted``) against the same emulator. *Added latency* is
   app-server minus library at the same percentile (p50, p99) over all rounds: what the JSON-RPC
   layer, the notification stream and the extra process cost a turn, queueing under load
   included; the bench client decodes only responses and ``turn/completed`` lines, so its own
   JSON work is not charged to the server. (Per-turn pairing is not possible: the two runs are
   separate.) Rounds alternate between the two so drift hits both alike. Peak memory is the
   app-server's ``VmHWM``.
2. Memory per idle thread: a fresh app-server, one warm-up thread, then 200 ``thread/start``;
   the ``VmRSS`` growth divided by 200.
3. ``thread_start`` + one ``run`` through the official ``openai-codex`` SDK, codex-engine
   versus the reference CLI's app-server (``openai-codex-cli-bin==0.163.0`` in
   ``bench/.venv-ref``, installed by ``bench/exec_turn.py``; skipped with a message if
   absent). Each run has a fresh CODEX_HOME; timed: client start + initialize, thread_start,
   run, and the total.

Targets (from the issue): p99 added latency < 20 ms at 100 concurrent turns; < 1 MiB per idle
thread. Caveats: the emulator, the app-server and (for the baseline) this process share the
machine's cores, so at N = 100 both sides queue for CPU; Linux only (``/proc`` for memory).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from exec_turn import ensure_reference, start_emulator, stop  # noqa: E402

ENGINE = ROOT / ".venv" / "bin" / "codex-engine"
MODEL = "gpt-5.1-codex"
TARGET_P99_ADDED_MS = 20.0
TARGET_IDLE_THREAD_KIB = 1024.0
PROMPT = "say hello"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def proc_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def provider_overrides(url: str) -> list[str]:
    provider = (
        f'model_providers.mock={{name="mock", base_url="{url}", env_key="MOCK_KEY", '
        'wire_api="responses"}'
    )
    return ["model_provider=mock", provider, f"model={MODEL}"]


def bench_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(CODEX_HOME=str(home), MOCK_KEY="bench-key")
    return env


# --- a minimal JSON-RPC client over the app-server's pipes --------------------------------------


class Client:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._ids = 0
        self._responses: dict[int, asyncio.Future[Any]] = {}
        self._completed: dict[str, asyncio.Future[float]] = {}
        self._early: dict[str, float] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, home: Path, cwd: Path, url: str) -> Client:
        args: list[str] = []
        for override in provider_overrides(url):
            args += ["-c", override]
        process = await asyncio.create_subprocess_exec(
            str(ENGINE),
            *args,
            "app-server",
            cwd=cwd,
            env=bench_env(home),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            limit=64 * 1024 * 1024,
        )
        client = cls(process)
        await client.call("initialize", {"clientInfo": {"name": "bench", "version": "1"}})
        return client

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            now = time.perf_counter()
            # Only responses and turn/completed matter here; parsing every delta would charge
            # the bench client's JSON decoding to the server.
            if line.startswith(b'{"method":') and b'"turn/completed"' not in line[:40]:
                continue
            message = json.loads(line)
            if "id" in message and "method" not in message:
                future = self._responses.pop(message["id"], None)
                if future is not None:
                    future.set_result(message)
            elif message.get("method") == "turn/completed":
                turn_id = message["params"]["turn"]["id"]
                waiting = self._completed.pop(turn_id, None)
                if waiting is not None:
                    waiting.set_result(now)
                else:
                    self._early[turn_id] = now

    async def call(self, method: str, params: Any) -> Any:
        self._ids += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._responses[self._ids] = future
        assert self.process.stdin is not None
        line = json.dumps({"id": self._ids, "method": method, "params": params}) + "\n"
        self.process.stdin.write(line.encode())
        await self.process.stdin.drain()
        message = await future
        if "error" in message:
            raise RuntimeError(f"{method} failed: {message['error']['message']}")
        return message["result"]

    async def turn(self, thread_id: str) -> float:
        """Milliseconds from writing turn/start to reading its turn/completed."""
        sent = time.perf_counter()
        result = await self.call(
            "turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": PROMPT}]}
        )
        turn_id = result["turn"]["id"]
        done = self._early.pop(turn_id, None)
        if done is None:
            future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            self._completed[turn_id] = future
            done = await future
        return (done - sent) * 1000

    async def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        await self.process.wait()
        await self._reader


# --- part 1: concurrent turns ---------------------------------------------------------------------


async def library_sessions(n: int, home: Path, cwd: Path, url: str) -> tuple[Any, list[Any]]:
    from contextlib import AsyncExitStack

    from codex_engine import load_config, open_session
    from codex_engine.config.overrides import parse_override

    os.environ.update(CODEX_HOME=str(home), MOCK_KEY="bench-key")
    config = load_config(overrides=[parse_override(o) for o in provider_overrides(url)], cwd=cwd)
    stack = AsyncExitStack()
    sessions = [await stack.enter_async_context(open_session(config, cwd=cwd)) for _ in range(n)]
    return stack, sessions


async def library_turn(session: Any) -> float:
    from codex_engine import TurnCompleted

    started = time.perf_counter()
    async for event in session.run_turn(PROMPT):
        if isinstance(event, TurnCompleted):
            return (time.perf_counter() - started) * 1000
    raise RuntimeError("a library turn did not complete")


async def concurrency(n: int, rounds: int, url: str, tmp: Path) -> dict[str, Any]:
    home, cwd = tmp / f"home-{n}", tmp / f"work-{n}"
    home.mkdir()
    cwd.mkdir()
    client = await Client.start(home, cwd, url)
    threads = [
        (await client.call("thread/start", {"approvalPolicy": "never"}))["thread"]["id"]
        for _ in range(n)
    ]
    stack, sessions = await library_sessions(n, tmp / f"libhome-{n}", cwd, url)
    server: list[float] = []
    library: list[float] = []
    try:
        # One warm-up round each (imports, connection pools), not counted.
        await asyncio.gather(*(client.turn(t) for t in threads))
        await asyncio.gather(*(library_turn(s) for s in sessions))
        for _ in range(rounds):
            server += await asyncio.gather(*(client.turn(t) for t in threads))
            library += await asyncio.gather(*(library_turn(s) for s in sessions))
        peak = proc_kib(client.process.pid, "VmHWM")
    finally:
        await stack.aclose()
        await client.close()
    row = {
        "n": n,
        "turns_measured": len(server),
        "server_p50_ms": percentile(server, 50),
        "server_p99_ms": percentile(server, 99),
        "library_p50_ms": percentile(library, 50),
        "library_p99_ms": percentile(library, 99),
        "server_peak_rss_mib": peak / 1024,
    }
    row["added_p50_ms"] = row["server_p50_ms"] - row["library_p50_ms"]
    row["added_p99_ms"] = row["server_p99_ms"] - row["library_p99_ms"]
    return row


# --- part 2: idle threads -------------------------------------------------------------------------


async def idle_threads(count: int, url: str, tmp: Path) -> dict[str, Any]:
    home, cwd = tmp / "home-idle", tmp / "work-idle"
    home.mkdir()
    cwd.mkdir()
    client = await Client.start(home, cwd, url)
    try:
        await client.call("thread/start", {})
        before = proc_kib(client.process.pid, "VmRSS")
        for _ in range(count):
            await client.call("thread/start", {})
        after = proc_kib(client.process.pid, "VmRSS")
    finally:
        await client.close()
    return {
        "threads": count,
        "rss_before_mib": before / 1024,
        "rss_after_mib": after / 1024,
        "per_thread_kib": (after - before) / count,
    }


# --- part 3: the official SDK against both app-servers --------------------------------------------


async def sdk_run(binary: Path, url: str, tmp: Path, index: int) -> dict[str, float]:
    import openai_codex

    home, cwd = tmp / f"sdk-home-{index}", tmp / f"sdk-work-{index}"
    home.mkdir()
    cwd.mkdir()
    config = openai_codex.CodexConfig(
        codex_bin=str(binary),
        config_overrides=tuple(provider_overrides(url)),
        env=bench_env(home),
        cwd=str(cwd),
    )
    t0 = time.perf_counter()
    async with openai_codex.AsyncCodex(config) as codex:
        t1 = time.perf_counter()
        thread = await codex.thread_start()
        t2 = time.perf_counter()
        result = await thread.run(PROMPT)
        t3 = time.perf_counter()
    if result.status.value != "completed" or not result.final_response:
        raise RuntimeError(f"{binary.name}: the turn ended {result.status.value}")
    return {
        "initialize_ms": (t1 - t0) * 1000,
        "thread_start_ms": (t2 - t1) * 1000,
        "run_ms": (t3 - t2) * 1000,
        "total_ms": (t3 - t0) * 1000,
    }


async def sdk_compare(
    runs: int, url: str, tmp: Path, reference: Path | None
) -> dict[str, dict[str, float]]:
    binaries = {"codex-engine": ENGINE}
    if reference is not None:
        binaries["reference"] = reference
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in binaries}
    index = 0
    for run in range(runs + 1):
        for name, binary in binaries.items():
            index += 1
            sample = await sdk_run(binary, url, tmp, index)
            if run > 0:  # the first run of each warms the page cache
                samples[name].append(sample)
    return {
        name: {key: statistics.median(s[key] for s in rows) for key in rows[0]}
        for name, rows in samples.items()
    }


# --- main -----------------------------------------------------------------------------------------


def render(result: dict[str, Any]) -> str:
    lines = [
        "Concurrent turns through one app-server vs the library (ms; added = server - library)",
        f"{'N':>4} {'server p50':>11} {'server p99':>11} {'lib p50':>8} {'lib p99':>8} "
        f"{'added p50':>10} {'added p99':>10} {'peak RSS':>9}",
    ]
    for row in result["concurrency"]:
        lines.append(
            f"{row['n']:>4} {row['server_p50_ms']:>11.1f} {row['server_p99_ms']:>11.1f} "
            f"{row['library_p50_ms']:>8.1f} {row['library_p99_ms']:>8.1f} "
            f"{row['added_p50_ms']:>10.1f} {row['added_p99_ms']:>10.1f} "
            f"{row['server_peak_rss_mib']:>7.1f}Mi"
        )
    idle = result["idle"]
    lines.append(
        f"Idle threads: {idle['threads']} threads, RSS {idle['rss_before_mib']:.1f} -> "
        f"{idle['rss_after_mib']:.1f} MiB = {idle['per_thread_kib']:.0f} KiB per thread "
        f"(target < {TARGET_IDLE_THREAD_KIB:.0f} KiB)"
    )
    sdk = result.get("sdk")
    if sdk:
        lines.append("SDK thread_start + run (median ms)")
        for name, row in sdk.items():
            lines.append(
                f"  {name:<13} init {row['initialize_ms']:7.1f}  thread_start "
                f"{row['thread_start_ms']:6.1f}  run {row['run_ms']:6.1f}  total "
                f"{row['total_ms']:7.1f}"
            )
    if result.get("sdk_skipped"):
        lines.append(f"SDK comparison with the reference skipped: {result['sdk_skipped']}")
    return "\n".join(lines)


async def amain(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"rounds": args.rounds, "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory(prefix="app-server-bench-") as raw_tmp:
        tmp = Path(raw_tmp)
        emulator, url = start_emulator(ENGINE, tmp)
        try:
            rows = []
            for n in args.n:
                log(f"concurrency N={n} ...")
                rows.append(await concurrency(n, args.rounds, url, tmp))
            result["concurrency"] = rows
            log("idle threads ...")
            result["idle"] = await idle_threads(args.idle_threads, url, tmp)
            reference: Path | None = None
            if args.no_reference:
                result["sdk_skipped"] = "--no-reference"
            else:
                reference, why = ensure_reference(args.ref_venv, None)
                if reference is None:
                    result["sdk_skipped"] = why
                    log(f"reference CLI not available: {why}")
            log("SDK thread_start + run ...")
            result["sdk"] = await sdk_compare(args.sdk_runs, url, tmp, reference)
        finally:
            stop(emulator)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--idle-threads", type=int, default=200)
    parser.add_argument("--sdk-runs", type=int, default=5)
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument("--ref-venv", type=Path, default=ROOT / "bench" / ".venv-ref")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    result = asyncio.run(amain(args))
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
