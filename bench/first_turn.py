"""Benchmark first-turn latency against a slow WebSocket handshake: does the preconnect hide it?

Reproduce (from the repo root; the first run installs the reference CLI into
``bench/.venv-ref`` with pip, later runs reuse it)::

    .venv/bin/python bench/first_turn.py                          # 15 runs per row, 1 warm-up
    .venv/bin/python bench/first_turn.py --json bench/results/first_turn.json
    .venv/bin/python bench/first_turn.py --cases library --delays 0,300 --runs 30

The bundled Responses API emulator runs in a separate process (this script re-executed with
``--emulator-child``) that holds every WebSocket upgrade for the handshake delay under test
(0, 100 and 300 ms by default) and counts, per run, the requests it saw (WebSocket handshakes,
WebSocket messages, HTTP requests). The counts come from the server, so they also cover the
reference CLI. The prompt is ``say hello``: one request, answered with a text reply.

Two cases:

* ``library`` (the app-server case): a fresh ``ModelClient`` + ``Session`` per run, then a pause
  of ``delay + 50 ms`` (so a preconnect has had time to finish), then the turn. Measured: turn
  start (just before ``run_turn``) to the first ``AgentMessageDelta``. Modes: ``preconnect``
  (WebSocket, preconnect on), ``ws-no-preconnect`` (WebSocket, preconnect off), ``http``.
* ``exec`` (one-shot): the whole ``codex-engine exec`` process, start to exit, in the same three
  modes (``--enable responses_websockets`` [``--disable websocket_preconnect``], or neither for
  HTTP), plus the Rust reference CLI 0.163.0 with ``supports_websockets=true`` in its provider
  (it prewarms a WebSocket on its own) and with ``supports_websockets=false`` (HTTP baseline).
  Each run gets a fresh CODEX_HOME and a fresh git repository as its cwd; wall time is
  ``time.perf_counter`` around the child, CPU time from ``os.wait4``.

Within a delay the modes are interleaved run by run, so drift on the machine hits all alike.

"Handshake hidden" for a mode at delay d > 0 is ``1 - (T(d) - T(0)) / d`` where T is the median
of that same mode: the fraction of the added handshake delay that does not show up in the
measured time. 100 % = fully hidden, 0 % = fully paid. For ``http`` (no handshake at all) it is a
control whose distance from 100 % shows the noise. A 90 % bootstrap interval (resampling the
runs of both medians) is printed next to it. Targets (from the issue): preconnect hides >= 90 %
in the library case and >= 50 % in one-shot exec (the reference hides about 15 %).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from exec_turn import (
    REF_VERSION,
    _kill_group,
    _version,
    add_common_arguments,
    ensure_reference,
    measure_cli,
    write_report,
)

ROOT = Path(__file__).resolve().parent.parent
MODEL = "gpt-5.1-codex"
PROMPT = "say hello"
EXPECTED = f"You said: {PROMPT}"
TARGET_LIBRARY = 0.90
TARGET_EXEC = 0.50
RUN_TIMEOUT = 120.0
BOOTSTRAP = 2000

LIBRARY_MODES = ["preconnect", "ws-no-preconnect", "http"]
# (row name, CLI, extra exec flags, provider supports_websockets)
EXEC_MODES: list[tuple[str, str, list[str], bool]] = [
    ("engine preconnect", "engine", ["--enable", "responses_websockets"], True),
    (
        "engine ws-no-preconnect",
        "engine",
        ["--enable", "responses_websockets", "--disable", "websocket_preconnect"],
        True,
    ),
    ("engine http", "engine", [], True),
    ("reference ws", "reference", [], True),
    ("reference http", "reference", [], False),
]
# What each mode's role is in the "hidden" column.
ROLE = {
    "preconnect": "target",
    "engine preconnect": "target",
    "reference ws": "reference",
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- emulator in a child process ----------------------------------------------------------------


async def _emulator_child() -> None:
    """Serve the emulator; obey ``delay SECONDS`` and ``take`` (counts since last take) on stdin."""
    from codex_engine.emulator import ResponsesEmulator

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with ResponsesEmulator() as emulator:
        print(json.dumps({"base_url": emulator.base_url}), flush=True)
        while line := await reader.readline():
            cmd, _, arg = line.decode().strip().partition(" ")
            reply: dict[str, Any]
            if cmd == "delay":
                emulator.handshake_delay = float(arg)
                reply = {"ok": True}
            elif cmd == "take":
                counts = Counter(r.kind for r in emulator.requests)
                # The reference warms its socket with a `response.create` that has
                # `generate: false`; count those apart from real model requests.
                counts["ws_prewarm"] = sum(
                    1
                    for r in emulator.requests
                    if r.kind == "ws_message"
                    and isinstance(r.body, dict)
                    and r.body.get("generate") is False
                )
                reply = {"counts": {k: v for k, v in counts.items() if v}}
                emulator.clear()
            else:
                reply = {"error": f"unknown command {cmd!r}"}
            print(json.dumps(reply), flush=True)


class Emulator:
    """The emulator child process and its line-based control channel."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--emulator-child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.base_url = str(self._read()["base_url"])

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"emulator child exited with {self.proc.wait()}")
        result: dict[str, Any] = json.loads(line)
        return result

    def _call(self, command: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._read()

    def set_delay(self, seconds: float) -> None:
        self._call(f"delay {seconds}")

    def take_counts(self) -> dict[str, int]:
        """Requests the emulator saw since the last call, by kind."""
        return dict(self._call("take")["counts"])

    def stop(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _kill_group(self.proc.pid)
                self.proc.wait()


# --- results -------------------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float  # library: turn start -> first delta; exec: process wall time
    counts: dict[str, int]
    cpu_s: float | None = None
    engine_first_event_ms: float | None = None  # from codex-engine exec's summary line


@dataclass
class Row:
    case: str
    mode: str
    delay_ms: int
    runs: list[Run] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.runs)

    def times(self) -> list[float]:
        return [r.seconds for r in self.runs]

    def handshakes(self) -> str:
        """Server-side WebSocket handshakes per run, e.g. ``1`` or ``1 ×14, 2 ×1``."""
        tally = Counter(r.counts.get("ws_handshake", 0) for r in self.runs)
        if len(tally) == 1:
            return str(next(iter(tally)))
        return ", ".join(f"{k} ×{v}" for k, v in sorted(tally.items()))

    def requests(self) -> str:
        """Model requests per run (HTTP POSTs plus WebSocket messages), same format; prewarm
        messages (``generate: false``) are shown apart as ``+ N prewarm``."""

        def label(c: dict[str, int]) -> str:
            prewarm = c.get("ws_prewarm", 0)
            real = c.get("http", 0) + c.get("ws_message", 0) - prewarm
            return f"{real} + {prewarm} prewarm" if prewarm else str(real)

        tally = Counter(label(r.counts) for r in self.runs)
        if len(tally) == 1:
            return next(iter(tally))
        return ", ".join(f"{k} ×{v}" for k, v in sorted(tally.items()))


def _p90(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def hidden(base: list[float], slow: list[float], delay_s: float) -> float:
    """Fraction of the handshake delay hidden: 1 - (median(slow) - median(base)) / delay."""
    return 1 - (statistics.median(slow) - statistics.median(base)) / delay_s


def hidden_interval(
    base: list[float], slow: list[float], delay_s: float, rng: random.Random
) -> tuple[float, float]:
    """90 % bootstrap interval of :func:`hidden`, resampling both sets of runs."""
    values = sorted(
        hidden(rng.choices(base, k=len(base)), rng.choices(slow, k=len(slow)), delay_s)
        for _ in range(BOOTSTRAP)
    )
    return values[int(0.05 * BOOTSTRAP)], values[int(0.95 * BOOTSTRAP) - 1]


# --- library case --------------------------------------------------------------------------------


async def library_run(mode: str, base_url: str, pause: float) -> tuple[float, str]:
    """One fresh client + session; (seconds from turn start to first text delta, reply text)."""
    from codex_engine.client.credentials import StaticCredentials
    from codex_engine.client.model_client import ModelClient
    from codex_engine.config.catalog import find_model_info
    from codex_engine.config.providers import ModelProviderInfo
    from codex_engine.core.events import AgentMessageDelta, TurnCompleted, TurnFailed
    from codex_engine.core.launch import start_preconnect
    from codex_engine.core.session import Session, SessionDeps, SessionSettings

    provider = ModelProviderInfo(name="bench", base_url=base_url, supports_websockets=True)
    client = ModelClient(
        provider=provider,
        credentials=StaticCredentials("sk-test"),
        thread_id=str(uuid.uuid4()),
        enable_websockets=mode != "http",
        enable_preconnect=mode == "preconnect",
    )
    info, _ = find_model_info(MODEL)
    first: float | None = None
    text: list[str] = []
    failure: str | None = None
    completed = False
    try:
        session = Session(
            SessionSettings(
                cwd=ROOT,
                model_info=info,
                base_instructions=info.base_instructions,
                sandbox_mode="danger-full-access",
                approval_policy="never",
            ),
            SessionDeps(client),
        )
        # As the launcher does: the preconnect (if any) starts here.
        start_preconnect(session.client, session.settings)
        await asyncio.sleep(pause)
        t0 = time.perf_counter()
        async for event in session.run_turn(PROMPT):
            if isinstance(event, AgentMessageDelta):
                if first is None:
                    first = time.perf_counter() - t0
                text.append(event.delta)
            elif isinstance(event, TurnCompleted):
                completed = True
            elif isinstance(event, TurnFailed):
                failure = str(event.error)
    finally:
        await client.aclose()
    reply = "".join(text)
    if failure is not None or not completed or first is None or EXPECTED not in reply:
        raise RuntimeError(
            f"library / {mode}: turn did not complete as expected "
            f"(completed={completed}, error={failure!r}, reply={reply!r})"
        )
    return first, reply


async def run_library(
    emulator: Emulator, delays: list[int], runs: int, warmup: int, pause_extra: float
) -> list[Row]:
    blocks = {d: [Row("library", mode, d) for mode in LIBRARY_MODES] for d in delays}
    for i in range(warmup + runs):
        for delay_ms, block in blocks.items():  # delays interleaved too, against drift
            emulator.set_delay(delay_ms / 1000)
            pause = delay_ms / 1000 + pause_extra
            for row in block:
                if row.error is not None:
                    continue
                emulator.take_counts()  # start from a clean slate
                try:
                    seconds, _ = await library_run(row.mode, emulator.base_url, pause)
                except Exception as exc:
                    row.error = f"{type(exc).__name__}: {exc}"
                    log(row.error)
                    continue
                counts = emulator.take_counts()
                if i >= warmup:
                    row.runs.append(Run(seconds, counts))
        log(f"library: round {i + 1}/{warmup + runs} done")
    return [row for block in blocks.values() for row in block]


# --- exec case -----------------------------------------------------------------------------------


def exec_command(binary: Path, flags: list[str], url: str, websockets: bool) -> list[str]:
    provider = (
        f'model_providers.mock={{name="mock", base_url="{url}", env_key="MOCK_KEY", '
        f'wire_api="responses", supports_websockets={str(websockets).lower()}}}'
    )
    return [
        str(binary),
        "exec",
        "--skip-git-repo-check",
        "-m",
        MODEL,
        "-s",
        "danger-full-access",
        *flags,
        "-c",
        "model_provider=mock",
        "-c",
        provider,
        PROMPT,
    ]


FIRST_EVENT = re.compile(r"first event ([\d,.]+) ms")


def exec_run(argv: list[str], tmp_root: Path | None) -> tuple[float, float, float | None]:
    """(wall s, CPU s, codex-engine's own "first event" ms or None); raises on failure."""
    m = measure_cli(argv, tmp_root, prefix="first-turn-")
    if m.returncode != 0 or EXPECTED not in m.stdout:
        raise RuntimeError(
            f"exit code {m.returncode}, expected {EXPECTED!r} on stdout\n"
            f"command: {shlex.join(argv)}\n--- stdout ---\n{m.stdout}--- stderr ---\n{m.stderr}"
        )
    match = FIRST_EVENT.search(m.stderr)
    first = float(match.group(1).replace(",", "")) if match else None
    return m.wall, m.cpu, first


def run_exec(
    emulator: Emulator,
    delays: list[int],
    runs: int,
    warmup: int,
    binaries: dict[str, Path],
    tmp_root: Path | None,
) -> list[Row]:
    modes = [m for m in EXEC_MODES if m[1] in binaries]
    blocks = {d: [Row("exec", name, d) for name, *_ in modes] for d in delays}
    for i in range(warmup + runs):
        for delay_ms, block in blocks.items():  # delays interleaved too, against drift
            emulator.set_delay(delay_ms / 1000)
            for (_, cli, flags, ws), row in zip(modes, block, strict=True):
                if row.error is not None:
                    continue
                argv = exec_command(binaries[cli], flags, emulator.base_url, ws)
                emulator.take_counts()
                try:
                    wall, cpu, first = exec_run(argv, tmp_root)
                except RuntimeError as exc:
                    row.error = str(exc)
                    log(f"exec / {row.mode} / {delay_ms} ms failed: {exc}")
                    continue
                counts = emulator.take_counts()
                if i >= warmup:
                    row.runs.append(Run(wall, counts, cpu, first))
        log(f"exec: round {i + 1}/{warmup + runs} done")
    return [row for block in blocks.values() for row in block]


# --- report --------------------------------------------------------------------------------------


def _pct(x: float) -> str:
    return f"{x * 100:.0f} %"


def hidden_cells(
    row: Row, by_key: dict[tuple[str, str, int], Row], rng: random.Random
) -> tuple[str, str, str, dict[str, Any] | None]:
    """(hidden, 90 % interval, target verdict, raw) for one row."""
    base = by_key.get((row.case, row.mode, 0))
    if row.delay_ms == 0 or base is None or not base.ok or not row.ok:
        return "", "", "", None
    d = row.delay_ms / 1000
    value = hidden(base.times(), row.times(), d)
    lo, hi = hidden_interval(base.times(), row.times(), d, rng)
    role = ROLE.get(row.mode)
    target = TARGET_LIBRARY if row.case == "library" else TARGET_EXEC
    if role == "target":
        verdict = f"≥ {_pct(target)} {'met' if value >= target else 'MISSED'}"
    elif role == "reference":
        verdict = "reference (~15 % per issue)"
    elif row.mode.endswith("http"):
        verdict = "control (no handshake)"
    else:
        verdict = "context (pays it)"
    raw = {"hidden": value, "interval90": [lo, hi]}
    return _pct(value), f"{_pct(lo)} … {_pct(hi)}", verdict, raw


def render(rows: list[Row], meta: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    rng = random.Random(0)
    by_key = {(r.case, r.mode, r.delay_ms): r for r in rows}
    derived: dict[str, Any] = {}
    out = [
        f"first-turn benchmark: {meta['runs']} runs per row after {meta['warmup']} warm-up, "
        f"{meta['cpus']} CPUs, emulator in a separate process, model {MODEL}, "
        f"prompt {PROMPT!r}",
    ]
    lib = [r for r in rows if r.case == "library"]
    if lib:
        out += [
            "",
            f"Library: turn start -> first AgentMessageDelta, fresh client + session per run, "
            f"turn started {meta['pause_extra_ms']:.0f} ms after the handshake delay.",
            "",
            "| delay (ms) | mode | median (ms) | p90 (ms) | − http same delay (ms) "
            "| handshakes/run | requests/run | hidden | 90 % interval | target |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        for row in lib:
            out.append(_row_line(row, by_key, rng, derived, exec_case=False))
    ex = [r for r in rows if r.case == "exec"]
    if ex:
        out += [
            "",
            "One-shot exec: whole process wall time (start to exit); `first event` is "
            "codex-engine's own summary figure (turn start -> first stream event), and "
            "`hidden (first event)` the same ratio computed from it.",
            "",
            "| delay (ms) | CLI / mode | wall median (ms) | p90 (ms) | CPU median (ms) "
            "| first event median (ms) | hidden (first event) | handshakes/run | requests/run "
            "| hidden (wall) | 90 % interval | target |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        for row in ex:
            out.append(_row_line(row, by_key, rng, derived, exec_case=True))
    return "\n".join(out), derived


def _row_line(
    row: Row,
    by_key: dict[tuple[str, str, int], Row],
    rng: random.Random,
    derived: dict[str, Any],
    *,
    exec_case: bool,
) -> str:
    if not row.ok:
        blanks = " |" * (10 if exec_case else 8)
        return f"| {row.delay_ms} | {row.mode} | failed |{blanks}"
    times = row.times()
    h, interval, verdict, raw = hidden_cells(row, by_key, rng)
    if raw is not None:
        derived[f"{row.case}/{row.mode}/{row.delay_ms}"] = raw
    cells = [str(row.delay_ms), row.mode, f"{statistics.median(times) * 1000:.1f}"]
    cells.append(f"{_p90(times) * 1000:.1f}")
    if exec_case:
        cpus = [r.cpu_s for r in row.runs if r.cpu_s is not None]
        firsts = [r.engine_first_event_ms for r in row.runs if r.engine_first_event_ms is not None]
        cells.append(f"{statistics.median(cpus) * 1000:.0f}" if cpus else "")
        cells.append(f"{statistics.median(firsts):.0f}" if firsts else "n/a")
        base = by_key.get((row.case, row.mode, 0))
        base_firsts = [
            r.engine_first_event_ms
            for r in (base.runs if base is not None and base.ok else [])
            if r.engine_first_event_ms is not None
        ]
        if row.delay_ms > 0 and firsts and base_firsts:
            value = hidden(base_firsts, firsts, float(row.delay_ms))
            derived[f"{row.case}/{row.mode}/{row.delay_ms}/first_event"] = value
            cells.append(_pct(value))
        else:
            cells.append("")
    else:
        http = by_key.get((row.case, "http", row.delay_ms))
        if http is not None and http.ok:
            diff = statistics.median(times) - statistics.median(http.times())
            cells.append(f"{diff * 1000:+.1f}")
        else:
            cells.append("")
    cells += [row.handshakes(), row.requests(), h, interval, verdict]
    return "| " + " | ".join(cells) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emulator-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=15, help="measured runs per row (15)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs per row first (1)")
    parser.add_argument(
        "--delays", default="0,100,300", help="handshake delays in ms, comma-separated (0,100,300)"
    )
    parser.add_argument(
        "--cases", default="library,exec", help="comma-separated subset of: library, exec"
    )
    parser.add_argument(
        "--pause-extra",
        type=float,
        default=50.0,
        help="library case: ms to wait beyond the handshake delay before the turn (50)",
    )
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.emulator_child:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_emulator_child())
        return 0
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be >= 1 and --warmup >= 0")
    try:
        delays = [int(d) for d in args.delays.split(",") if d.strip()]
    except ValueError:
        parser.error("--delays takes integers (milliseconds)")
    if any(d < 0 for d in delays):
        parser.error("--delays must be >= 0")
    if 0 not in delays:
        delays.insert(0, 0)  # the baseline of the "hidden" ratio
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    if not cases or set(cases) - {"library", "exec"}:
        parser.error("--cases takes library and/or exec")

    binaries: dict[str, Path] = {}
    ref_note = "not used (library case only)"
    if "exec" in cases:
        if shutil.which("git") is None:
            raise SystemExit("git is needed to create the temporary repositories")
        if not os.access(args.engine, os.X_OK):
            raise SystemExit(f"codex-engine not found at {args.engine}")
        binaries["engine"] = args.engine
        ref_note = "skipped (--no-reference)"
        if not args.no_reference:
            ref, reason = ensure_reference(args.ref_venv, args.ref_bin)
            if ref is None:
                ref_note = f"not available: {reason}"
                log(f"reference CLI not available: {reason}; skipping the comparison")
            else:
                ref_note = f"{ref} ({_version(ref)})"
                binaries["reference"] = ref
    log(f"reference: {ref_note}")

    emulator = Emulator()
    log(f"emulator: {emulator.base_url} (pid {emulator.proc.pid})")
    rows: list[Row] = []
    try:
        if "library" in cases:
            rows += asyncio.run(
                run_library(emulator, delays, args.runs, args.warmup, args.pause_extra / 1000)
            )
        if "exec" in cases:
            rows += run_exec(emulator, delays, args.runs, args.warmup, binaries, args.tmp_dir)
    finally:
        emulator.stop()

    meta: dict[str, Any] = {
        "runs": args.runs,
        "warmup": args.warmup,
        "delays_ms": delays,
        "pause_extra_ms": args.pause_extra,
        "cpus": os.cpu_count(),
        "model": MODEL,
        "prompt": PROMPT,
        "reference": ref_note,
        "reference_expected_version": REF_VERSION,
        "date": time.strftime("%Y-%m-%d"),
        "python": sys.version.split()[0],
    }
    table, derived = render(rows, meta)
    if args.json:
        payload = {
            "meta": meta,
            "hidden": derived,
            "rows": [
                {
                    **asdict(r),
                    "median_s": statistics.median(r.times()) if r.ok else None,
                    "p90_s": _p90(r.times()) if r.ok else None,
                }
                for r in rows
            ],
        }
        write_report(table, payload, args.json)
    else:
        print(table)
    return 1 if any(r.error is not None for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
