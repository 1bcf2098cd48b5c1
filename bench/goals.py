"""Every start-up and throughput goal in one table, codex-engine beside the reference 0.163.

Reproduce (from the repo root)::

    .venv/bin/python bench/goals.py                     # everything, about 5 minutes
    .venv/bin/python bench/goals.py --quick             # fewer runs, for a first look
    .venv/bin/python bench/goals.py --json bench/results/goals.json

It first compiles the package's bytecode (``python -m compileall -q src``), because an installed
package has it and this machine sets ``PYTHONDONTWRITEBYTECODE=1``, which would otherwise make
every run recompile every module. Then, each part against the bundled emulator in its own
process (instant scripted replies, so every figure is client overhead, never model time):

- ``exec`` wall, CPU and peak RSS for a one-turn text prompt over HTTP/SSE (``exec_turn.py``)
  and over WebSocket (``first_turn.py --cases exec --delays 0``), both CLIs interleaved;
- imports: the sum of the top-level ``-X importtime`` entries (``PYTHONPROFILEIMPORTTIME=1``)
  of a real one-turn ``exec`` and of an app-server that answers initialize, thread/start and
  one turn, minus what a bare ``python -c pass`` imports; best of N;
- the official SDK: ``Codex()`` + ``models()`` + ``close()``, and ``thread_start`` + one ``run``
  (``app_server_concurrency.py``), both runtimes interleaved, medians;
- the app-server under load: 100 concurrent turns (added p99 over the library baseline) and the
  resident memory of 1,000 idle threads (``app_server_concurrency.py``);
- the SSE decoder's throughput against openai-python's (``sse_decode.py``).

Goals are never asserted in tests; this script only prints them and whether each is met.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from app_server_concurrency import (  # noqa: E402
    ENGINE,
    Client,
    bench_env,
    concurrency,
    idle_threads,
    provider_overrides,
    sdk_compare,
)
from exec_turn import ensure_reference, make_repo, start_emulator, stop  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"


def log(message: str) -> None:
    print(f"[goals] {message}", file=sys.stderr, flush=True)


@dataclass
class Goal:
    """One line of the table: our figure, the reference's, and the target on their ratio (or on
    our figure alone when ``absolute``)."""

    name: str
    ours: float | None
    reference: float | None
    unit: str
    target: float
    absolute: bool = False
    higher_is_better: bool = False

    def ratio(self) -> float | None:
        if self.ours is None or self.reference in (None, 0):
            return None
        assert self.reference is not None
        return self.ours / self.reference

    def met(self) -> str:
        value = self.ours if self.absolute else self.ratio()
        if value is None:
            return "n/a"
        ok = value >= self.target if self.higher_is_better else value <= self.target
        return "met" if ok else "MISSED"

    def target_text(self) -> str:
        sign = "≥" if self.higher_is_better else "≤" if not self.absolute else "<"
        return f"{sign} {self.target:g} {self.unit}" if self.absolute else f"{sign} {self.target}×"


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:,.1f}{(' ' + unit) if unit else ''}"


def render(goals: list[Goal]) -> str:
    lines = [
        "| goal | codex-engine | reference 0.163 | ratio | target | |",
        "|---|---:|---:|---:|---|---|",
    ]
    for goal in goals:
        ratio = goal.ratio()
        lines.append(
            f"| {goal.name} | {_fmt(goal.ours, goal.unit)} | {_fmt(goal.reference, goal.unit)} "
            f"| {'—' if ratio is None else f'{ratio:.2f}×'} | {goal.target_text()} "
            f"| {goal.met()} |"
        )
    return "\n".join(lines)


# --- helpers ---------------------------------------------------------------------------------


def compile_bytecode() -> None:
    subprocess.run([str(PYTHON), "-m", "compileall", "-q", str(ROOT / "src")], check=True)


def run_json(script: str, *args: str) -> dict[str, Any]:
    """Run one of the other benchmarks with ``--json`` and return its figures."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    try:
        log(f"{script} {' '.join(args)}")
        subprocess.run(
            [str(PYTHON), str(ROOT / "bench" / script), *args, "--json", str(out)],
            check=False,
            stdout=subprocess.DEVNULL,
        )
        return dict(json.loads(out.read_text() or "{}"))
    finally:
        out.unlink(missing_ok=True)


def _import_total_ms(stderr: str, baseline: set[str]) -> float:
    """Sum of the top-level entries of an ``-X importtime`` log, minus interpreter start-up."""
    total_us = 0
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|", 2)
        if name.startswith("  ") or name.strip() in baseline:
            continue  # nested (counted in its parent), or imported by any python start-up
        total_us += int(cumulative)
    return total_us / 1000


def interpreter_baseline() -> set[str]:
    done = subprocess.run(
        [str(PYTHON), "-X", "importtime", "-c", "pass"], capture_output=True, text=True
    )
    return {
        line.split("|", 2)[2].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "cumulative" not in line
    }


def exec_imports_ms(url: str, tmp: Path, baseline: set[str], index: int) -> float:
    home, work = tmp / f"imp-home-{index}", tmp / f"imp-work-{index}"
    home.mkdir()
    make_repo(work)
    argv = [str(ENGINE)]
    for override in provider_overrides(url):
        argv += ["-c", override]
    argv += ["exec", "--skip-git-repo-check", "-m", "gpt-5.1-codex", "say hello"]
    env = {**bench_env(home), "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run(
        argv, cwd=work, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    if done.returncode != 0:
        raise RuntimeError(f"exec failed: {done.stderr[-2000:]}")
    return _import_total_ms(done.stderr, baseline)


async def app_server_imports_ms(url: str, tmp: Path, baseline: set[str], index: int) -> float:
    home, work = tmp / f"imp-as-home-{index}", tmp / f"imp-as-work-{index}"
    home.mkdir()
    work.mkdir()
    args: list[str] = []
    for override in provider_overrides(url):
        args += ["-c", override]
    log_path = tmp / f"imp-as-{index}.log"
    with log_path.open("wb") as stderr:  # a file, not a pipe: the log outgrows a pipe's buffer
        process = await asyncio.create_subprocess_exec(
            str(ENGINE),
            *args,
            "app-server",
            cwd=work,
            env={**bench_env(home), "PYTHONPROFILEIMPORTTIME": "1"},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            limit=64 * 1024 * 1024,
        )
        client = Client(process)
        await client.call("initialize", {"clientInfo": {"name": "bench", "version": "1"}})
        thread = (await client.call("thread/start", {"approvalPolicy": "never"}))["thread"]["id"]
        await client.turn(thread)
        await client.close()
    return _import_total_ms(log_path.read_text(), baseline)


def sdk_startup_ms(binary: Path, url: str, tmp: Path, index: int) -> float:
    """``Codex()`` + ``models()`` + ``close()`` through the official SDK, in milliseconds."""
    import openai_codex

    home, work = tmp / f"sdk-start-home-{index}", tmp / f"sdk-start-work-{index}"
    home.mkdir()
    work.mkdir()
    config = openai_codex.CodexConfig(
        codex_bin=str(binary),
        config_overrides=tuple(provider_overrides(url)),
        env=bench_env(home),
        cwd=str(work),
    )
    started = time.perf_counter()
    codex = openai_codex.Codex(config)
    codex.models()
    codex.close()
    return (time.perf_counter() - started) * 1000


def sse_ratio(events: int, repeats: int) -> tuple[float, float | None]:
    """Best events/s of ours and of openai-python's decoder (None without the ``bench`` extra)."""
    import sse_decode

    chunks = sse_decode.chunked(sse_decode.build_stream(events), 4096)
    ours = events / min(sse_decode.measure(sse_decode.run_ours, chunks, repeats))
    if sse_decode.OpenAISSEDecoder is None:  # openai-python is in the optional ``bench`` extra
        return ours, None
    theirs = events / min(sse_decode.measure(sse_decode.run_theirs, chunks, repeats))
    return ours, theirs


# --- main ------------------------------------------------------------------------------------


def _row(payload: dict[str, Any], cli: str, scenario: str = "text") -> dict[str, Any] | None:
    for row in payload.get("rows", []):
        if row.get("cli") == cli and row.get("scenario", scenario) == scenario:
            stats = row.get("stats")
            return dict(stats) if stats else None
    return None


def _first_turn_median(payload: dict[str, Any], mode: str) -> float | None:
    for row in payload.get("rows", []):
        if row.get("mode") == mode and row.get("delay_ms", 0) == 0 and row.get("median_s"):
            return float(row["median_s"]) * 1000
    return None


async def measure(args: argparse.Namespace) -> list[Goal]:
    runs = "5" if args.quick else "15"
    http = run_json("exec_turn.py", "--scenarios", "text", "--runs", runs)
    ws = run_json("first_turn.py", "--cases", "exec", "--delays", "0", "--runs", runs)
    goals: list[Goal] = []
    ours, ref = _row(http, "codex-engine"), _row(http, "reference")
    goals.append(
        Goal(
            "exec one turn, HTTP/SSE: wall median",
            ours and ours["wall_median_ms"],
            ref and ref["wall_median_ms"],
            "ms",
            0.9,
        )
    )
    goals.append(
        Goal(
            "exec one turn, WebSocket: wall median",
            _first_turn_median(ws, "engine preconnect"),
            _first_turn_median(ws, "reference ws"),
            "ms",
            0.9,
        )
    )
    goals.append(
        Goal(
            "exec one turn: peak RSS",
            ours and ours["maxrss_max_mib"],
            ref and ref["maxrss_max_mib"],
            "MiB",
            0.5,
        )
    )

    reference, why = ensure_reference(args.ref_venv, None)
    if reference is None:
        log(f"reference CLI not available: {why}")
    repeats = 3 if args.quick else 5
    with tempfile.TemporaryDirectory(prefix="goals-") as raw:
        tmp = Path(raw)
        emulator, url = start_emulator(ENGINE, tmp)
        try:
            baseline = interpreter_baseline()
            log("imports ...")
            exec_ms = min(exec_imports_ms(url, tmp, baseline, i) for i in range(repeats))
            server_ms = min(
                [await app_server_imports_ms(url, tmp, baseline, i) for i in range(repeats)]
            )
            goals.append(Goal("imports, exec path (best)", exec_ms, None, "ms", 80, True))
            goals.append(Goal("imports, app-server path (best)", server_ms, None, "ms", 120, True))

            log("SDK start-up ...")
            samples: dict[str, list[float]] = {"ours": [], "ref": []}
            for i in range(repeats * 2 + 1):
                samples["ours"].append(sdk_startup_ms(ENGINE, url, tmp, i * 2))
                if reference is not None:
                    samples["ref"].append(sdk_startup_ms(reference, url, tmp, i * 2 + 1))
            ref_start = statistics.median(samples["ref"][1:]) if samples["ref"] else None
            goals.append(
                Goal(
                    "SDK Codex() + models() + close()",
                    statistics.median(samples["ours"][1:]),
                    ref_start,
                    "ms",
                    1.2,
                )
            )
            sdk = await sdk_compare(repeats, url, tmp, reference)
            goals.append(
                Goal(
                    "SDK thread_start + one run",
                    sdk["codex-engine"]["total_ms"],
                    sdk.get("reference", {}).get("total_ms"),
                    "ms",
                    1.0,
                )
            )

            log("100 concurrent turns ...")
            row = await concurrency(100, 2 if args.quick else 5, url, tmp)
            goals.append(
                Goal("100 concurrent turns: added p99", row["added_p99_ms"], None, "ms", 20, True)
            )
            log("1,000 idle threads ...")
            idle = await idle_threads(1000, url, tmp)
            goals.append(
                Goal("1,000 idle threads: RSS", idle["rss_after_mib"], None, "MiB", 100, True)
            )
        finally:
            stop(emulator)

    log("SSE decoder ...")
    ours_rate, theirs_rate = sse_ratio(10_000, 5 if args.quick else 15)
    goals.append(
        Goal(
            "SSE decode vs openai-python (events/s)",
            ours_rate,
            theirs_rate,
            "ev/s",
            3.0,
            higher_is_better=True,
        )
    )
    return goals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs per figure")
    parser.add_argument("--ref-venv", type=Path, default=ROOT / "bench" / ".venv-ref")
    parser.add_argument("--json", type=Path, help="also write the goals as JSON here")
    parser.add_argument(
        "--no-compile", action="store_true", help="measure without compiling bytecode first"
    )
    args = parser.parse_args()
    if not args.no_compile:
        log("compiling bytecode (python -m compileall -q src) ...")
        compile_bytecode()
    goals = asyncio.run(measure(args))
    table = render(goals)
    bytecode = "without" if args.no_compile else "with"
    print(
        f"codex-engine vs reference 0.163, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}, {bytecode} compiled bytecode\n"
    )
    print(table)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([goal.__dict__ for goal in goals], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
