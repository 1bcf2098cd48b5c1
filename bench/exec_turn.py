"""Benchmark one `exec` turn end to end: codex-engine versus the Rust reference CLI (0.163.0).

Reproduce (from the repo root; the first run installs the reference CLI into
``bench/.venv-ref`` with pip, later runs reuse it)::

    .venv/bin/python bench/exec_turn.py                  # 10 runs per row after 1 warm-up
    .venv/bin/python bench/exec_turn.py --runs 20 --json bench/results/exec_turn.json
    .venv/bin/python bench/exec_turn.py --no-reference   # codex-engine's figures only

Both CLIs talk to the same bundled Responses API emulator (``codex-engine emulator --port 0``,
started once as a separate process, HTTP+SSE) and each run gets a fresh temporary CODEX_HOME
and a fresh temporary git repository (one commit) as its working directory. Scenarios:

* ``text``: ``say hello`` -- one request, a word-by-word text reply.
* ``tool``: ``run `echo hi``` -- two requests in one turn: the model calls the shell tool
  (``shell`` for codex-engine, ``exec_command`` for the reference), the CLI runs ``echo hi``
  and sends the output back, the model answers from it.
* ``startup``: ``--version`` -- no turn at all; the process start-up floor, for context only.

Every run is checked (exit code 0 and the expected answer on stdout); a failing run aborts its
row and its stderr is printed. Per run we measure wall time (``time.perf_counter`` around the
child), CPU time user+sys and peak RSS (``ru_maxrss``, KiB on Linux) from ``os.wait4`` on the
child's pid (so they include the child and the descendants it waited for, e.g. ``bash -lc``).
Runs of the two CLIs are interleaved so drift on the machine hits both alike.

Reported: median and p90 wall, median CPU, max peak RSS, and the ratios codex-engine/reference
for median wall and max peak RSS. Targets (from the issue): wall <= 1.0x and peak memory <= 0.5x
the reference's.

Both CLIs are run with ``-m gpt-5.1-codex``: with its own default model (``gpt-6.1-sol``,
which the emulator's catalog does not describe) the reference offers the model no tools at
all, so the ``tool`` scenario would silently degrade to a text reply.

Caveats: codex-engine's figures are dominated by CPython start-up and imports (see the
``startup`` row); the emulator runs on the same 2-core machine and competes for CPU with the
CLI under test; the emulator's replies are instant, so this measures client overhead only,
never model latency; the reference logs "could not create PATH aliases" when CODEX_HOME is
under /tmp (pass ``--tmp-dir`` elsewhere to avoid it; it made no measurable difference here).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REF_PACKAGE = "openai-codex-cli-bin==0.163.0"
REF_VERSION = "codex-cli 0.163.0"
MODEL = "gpt-5.1-codex"
TARGET_WALL = 1.0
TARGET_RSS = 0.5
RUN_TIMEOUT = 120.0


@dataclass(frozen=True)
class Scenario:
    name: str
    prompt: str | None  # None: no turn, just `--version`
    description: str

    def check(self, stdout: str) -> str | None:
        """None when stdout is the expected answer, else what is wrong."""
        lines = [line.strip() for line in stdout.splitlines()]
        if self.prompt is None:
            ok = bool(stdout.strip())
        elif self.name == "text":
            ok = f"You said: {self.prompt}" in stdout
        else:
            ok = "The command finished. Its output was:" in stdout and "hi" in lines
        return None if ok else f"unexpected stdout: {stdout!r}"


SCENARIOS = {
    "text": Scenario("text", "say hello", "plain text reply, 1 request"),
    "tool": Scenario("tool", "run `echo hi`", "shell tool call, 2 requests"),
    "startup": Scenario("startup", None, "`--version`, no turn (context)"),
}


@dataclass
class Cli:
    name: str
    argv: list[str]  # the executable (and any fixed prefix)
    exec_flags: list[str] = field(default_factory=list)


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    maxrss_kib: int


@dataclass
class Row:
    scenario: str
    cli: str
    runs: list[Run] = field(default_factory=list)
    error: str | None = None

    def stats(self) -> dict[str, float]:
        walls = sorted(r.wall_s for r in self.runs)
        return {
            "wall_median_ms": statistics.median(walls) * 1000,
            "wall_p90_ms": _p90(walls) * 1000,
            "cpu_median_ms": statistics.median(r.cpu_s for r in self.runs) * 1000,
            "maxrss_max_mib": max(r.maxrss_kib for r in self.runs) / 1024,
        }


def _p90(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- reference CLI -------------------------------------------------------------------------------


def ensure_reference(venv: Path, binary: str | None) -> tuple[Path | None, str]:
    """(path to the reference `codex`, "") or (None, reason it is not available)."""
    if binary:
        path = Path(binary)
        return (path, "") if os.access(path, os.X_OK) else (None, f"{path} is not executable")
    python = venv / "bin" / "python"
    found = _find_ref_binary(python) if python.exists() else None
    if found is None or _version(found) != REF_VERSION:
        log(f"installing {REF_PACKAGE} into {venv} ...")
        try:
            if not python.exists():
                subprocess.run(
                    [sys.executable, "-m", "venv", str(venv)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", REF_PACKAGE],
                check=True,
                capture_output=True,
                text=True,
                timeout=900,
            )
        except subprocess.CalledProcessError as exc:
            tail = (exc.stderr or exc.stdout or "").strip().splitlines()[-3:]
            return None, f"installing {REF_PACKAGE} failed: {' / '.join(tail) or exc}"
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"installing {REF_PACKAGE} failed: {exc}"
        found = _find_ref_binary(python)
    if found is None:
        return None, f"codex_cli_bin/bin/codex not found in {venv}"
    version = _version(found)
    if version != REF_VERSION:
        return None, f"{found} reports {version!r}, expected {REF_VERSION!r}"
    return found, ""


def _find_ref_binary(python: Path) -> Path | None:
    code = (
        "import importlib.util, pathlib\n"
        "spec = importlib.util.find_spec('codex_cli_bin')\n"
        "origin = spec and spec.origin\n"
        "print(pathlib.Path(origin).parent / 'bin' / 'codex' if origin else '')\n"
    )
    try:
        out = subprocess.run(
            [str(python), "-c", code], capture_output=True, text=True, timeout=60
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    path = Path(out) if out else None
    return path if path is not None and os.access(path, os.X_OK) else None


def _version(binary: Path) -> str:
    try:
        res = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"error: {exc}"
    return res.stdout.strip()


# --- emulator ------------------------------------------------------------------------------------


def start_emulator(engine: Path, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    ready = workdir / "emulator.ready"
    proc = subprocess.Popen(
        [str(engine), "emulator", "--port", "0", "--ready-file", str(ready)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "emulator.log", "wb"),  # noqa: SIM115 - lives as long as proc
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log_text = (workdir / "emulator.log").read_text(errors="replace")
            raise SystemExit(f"emulator exited with {proc.returncode}:\n{log_text}")
        if ready.exists() and (url := ready.read_text().strip()):
            return proc, url
        time.sleep(0.05)
    stop(proc)
    raise SystemExit("emulator did not become ready within 30 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- one run -------------------------------------------------------------------------------------


def make_repo(path: Path) -> None:
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run([*git, "init", "-q", str(path)], check=True)
    (path / "README.md").write_text("benchmark repo\n")
    subprocess.run([*git, "-C", str(path), "add", "README.md"], check=True)
    subprocess.run([*git, "-C", str(path), "commit", "-q", "-m", "init"], check=True)


def command(cli: Cli, scenario: Scenario, url: str) -> list[str]:
    if scenario.prompt is None:
        return [*cli.argv, "--version"]
    provider = (
        f'model_providers.mock={{name="mock", base_url="{url}", '
        'env_key="MOCK_KEY", wire_api="responses"}'
    )
    return [
        *cli.argv,
        "exec",
        "--skip-git-repo-check",
        *cli.exec_flags,
        "-c",
        "model_provider=mock",
        "-c",
        provider,
        scenario.prompt,
    ]


@dataclass(frozen=True)
class Measured:
    """One CLI process run in a fresh CODEX_HOME and git repo: exit code, output, costs."""

    returncode: int
    stdout: str
    stderr: str
    wall: float
    cpu: float
    max_rss_kib: int


def measure_cli(argv: list[str], tmp_root: Path | None, *, prefix: str) -> Measured:
    """Run ``argv`` once in a fresh CODEX_HOME and git repo; wall from perf_counter, CPU and
    peak RSS of that process from os.wait4."""
    with tempfile.TemporaryDirectory(prefix=prefix, dir=tmp_root) as tmp:
        base = Path(tmp)
        home, repo = base / "codex-home", base / "repo"
        home.mkdir()
        make_repo(repo)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CODEX_", "OPENAI_"))}
        env.update(CODEX_HOME=str(home), MOCK_KEY="sk-test", NO_COLOR="1")
        with open(base / "stdout", "w+b") as out, open(base / "stderr", "w+b") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                argv,
                cwd=repo,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
            timer = threading.Timer(RUN_TIMEOUT, _kill_group, (proc.pid,))
            timer.start()
            try:
                _, status, rusage = os.wait4(proc.pid, 0)
            finally:
                timer.cancel()
            wall = time.perf_counter() - t0
            _kill_group(proc.pid)  # anything the CLI left behind
            out.seek(0)
            err.seek(0)
            return Measured(
                os.waitstatus_to_exitcode(status),
                out.read().decode(errors="replace"),
                err.read().decode(errors="replace"),
                wall,
                rusage.ru_utime + rusage.ru_stime,
                rusage.ru_maxrss,
            )


def run_once(cli: Cli, scenario: Scenario, url: str, tmp_root: Path | None) -> Run:
    """One measured run; raises RuntimeError (with the child's stderr) when it fails."""
    argv = command(cli, scenario, url)
    m = measure_cli(argv, tmp_root, prefix="exec-turn-")
    problem = f"exit code {m.returncode}" if m.returncode != 0 else scenario.check(m.stdout)
    if problem is not None:
        raise RuntimeError(
            f"{cli.name} / {scenario.name} failed: {problem}\n"
            f"command: {shlex.join(argv)}\n--- stdout ---\n{m.stdout}--- stderr ---\n{m.stderr}"
        )
    return Run(m.wall, m.cpu, m.max_rss_kib)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


# --- report --------------------------------------------------------------------------------------


def render(rows: list[Row], scenarios: list[Scenario], meta: dict[str, Any]) -> str:
    out = [
        f"exec turn benchmark: {meta['runs']} runs per row after {meta['warmup']} warm-up, "
        f"{meta['cpus']} CPUs, emulator {meta['emulator']} (HTTP+SSE), model {MODEL}",
        "",
        "| scenario | CLI | wall median (ms) | wall p90 (ms) | CPU median (ms) "
        "| peak RSS max (MiB) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    by_key = {(r.scenario, r.cli): r for r in rows}
    for row in rows:
        if row.error is not None or not row.runs:
            out.append(f"| {row.scenario} | {row.cli} | failed | | | |")
            continue
        s = row.stats()
        out.append(
            f"| {row.scenario} | {row.cli} | {s['wall_median_ms']:.0f} | {s['wall_p90_ms']:.0f} "
            f"| {s['cpu_median_ms']:.0f} | {s['maxrss_max_mib']:.1f} |"
        )
    ratio_lines = []
    for sc in scenarios:
        ours, ref = by_key.get((sc.name, "codex-engine")), by_key.get((sc.name, "reference"))
        if ours is None or ref is None or not ours.runs or not ref.runs:
            continue
        if ours.error is not None or ref.error is not None:
            continue
        a, b = ours.stats(), ref.stats()
        wall = a["wall_median_ms"] / b["wall_median_ms"]
        cpu = a["cpu_median_ms"] / b["cpu_median_ms"]
        rss = a["maxrss_max_mib"] / b["maxrss_max_mib"]
        if sc.prompt is None:
            wall_t = rss_t = "context"
        else:
            wall_t = f"≤ {TARGET_WALL:.1f}× {'met' if wall <= TARGET_WALL else 'MISSED'}"
            rss_t = f"≤ {TARGET_RSS:.1f}× {'met' if rss <= TARGET_RSS else 'MISSED'}"
        ratio_lines.append(
            f"| {sc.name} | {wall:.2f}× | {wall_t} | {cpu:.2f}× | {rss:.2f}× | {rss_t} |"
        )
    if ratio_lines:
        out += [
            "",
            "Ratios codex-engine / reference (lower is better):",
            "",
            "| scenario | wall median | target | CPU median | peak RSS | target |",
            "|---|---:|---|---:|---:|---|",
            *ratio_lines,
        ]
    return "\n".join(out)


def write_report(table: str, payload: dict[str, Any], destination: str) -> None:
    """The table on stdout and the raw numbers as JSON in ``destination`` ('-': the JSON on
    stdout and the table on stderr, so the JSON can be piped)."""
    text = json.dumps(payload, indent=2)
    if destination == "-":
        print(table, file=sys.stderr)
        print(text)
    else:
        Path(destination).parent.mkdir(parents=True, exist_ok=True)
        Path(destination).write_text(text + "\n")
        print(table)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Options every CLI-comparing benchmark here takes: which binaries, where, output."""
    parser.add_argument("--no-reference", action="store_true", help="skip the Rust reference CLI")
    parser.add_argument(
        "--ref-venv",
        type=Path,
        default=ROOT / "bench" / ".venv-ref",
        help="venv for the reference CLI (created and filled with pip when absent)",
    )
    parser.add_argument("--ref-bin", help="use this reference `codex` binary instead")
    parser.add_argument(
        "--engine",
        type=Path,
        default=Path(sys.executable).parent / "codex-engine",
        help="codex-engine executable (default: next to this interpreter)",
    )
    parser.add_argument("--tmp-dir", type=Path, help="parent of the per-run temporary dirs")
    parser.add_argument(
        "--json", metavar="FILE", help="also write the raw numbers as JSON to FILE ('-': stdout)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="measured runs per row (10)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs per row first (1)")
    parser.add_argument(
        "--scenarios",
        default="text,tool,startup",
        help="comma-separated subset of: " + ", ".join(SCENARIOS),
    )
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be >= 1 and --warmup >= 0")
    try:
        scenarios = [SCENARIOS[s.strip()] for s in args.scenarios.split(",") if s.strip()]
    except KeyError as exc:
        parser.error(f"unknown scenario {exc}")
    if shutil.which("git") is None:
        raise SystemExit("git is needed to create the temporary repositories")
    if not os.access(args.engine, os.X_OK):
        raise SystemExit(f"codex-engine not found at {args.engine}")

    # Same model and sandbox for both, so that both offer a shell tool and run it unsandboxed.
    common = ["-m", MODEL, "-s", "danger-full-access"]
    clis = [Cli("codex-engine", [str(args.engine)], common)]
    ref_note = "skipped (--no-reference)"
    if not args.no_reference:
        ref, reason = ensure_reference(args.ref_venv, args.ref_bin)
        if ref is None:
            ref_note = f"not available: {reason}"
            log(f"reference CLI not available: {reason}; skipping the comparison")
        else:
            ref_note = f"{ref} ({_version(ref)})"
            clis.append(Cli("reference", [str(ref)], common))
    log(f"reference: {ref_note}")

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="exec-turn-emu-") as emu_dir:
        emulator, url = start_emulator(args.engine, Path(emu_dir))
        log(f"emulator: {url}")
        try:
            for sc in scenarios:
                sc_rows = [Row(sc.name, cli.name) for cli in clis]
                rows += sc_rows
                for i in range(args.warmup + args.runs):
                    for cli, row in zip(clis, sc_rows, strict=True):
                        if row.error is not None:
                            continue
                        try:
                            run = run_once(cli, sc, url, args.tmp_dir)
                        except RuntimeError as exc:
                            row.error = str(exc)
                            log(str(exc))
                            continue
                        if i >= args.warmup:
                            row.runs.append(run)
                log(f"{sc.name}: done")
        finally:
            stop(emulator)

    meta: dict[str, Any] = {
        "runs": args.runs,
        "warmup": args.warmup,
        "cpus": os.cpu_count(),
        "emulator": "subprocess",
        "model": MODEL,
        "reference": ref_note,
        "date": time.strftime("%Y-%m-%d"),
        "python": sys.version.split()[0],
    }
    table = render(rows, scenarios, meta)
    if args.json:
        payload = {
            "meta": meta,
            "rows": [
                {**asdict(r), "stats": r.stats() if r.runs and r.error is None else None}
                for r in rows
            ],
        }
        write_report(table, payload, args.json)
    else:
        print(table)
    return 1 if any(r.error is not None for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
