"""What a one-turn ``exec`` imports, and what each import costs (``-X importtime``).

Reproduce (from the repo root)::

    .venv/bin/python bench/exec_imports.py                 # best of 5, top 25 costs
    .venv/bin/python bench/exec_imports.py --runs 9 --top 40 --modules /tmp/exec-modules.txt
    # before/after, interleaved run by run: an older tree's src/ (git archive REV src | tar -x)
    .venv/bin/python bench/exec_imports.py --baseline-src /tmp/before/src

It compiles the package's bytecode first (this machine sets ``PYTHONDONTWRITEBYTECODE=1``),
starts the bundled emulator, runs ``codex-engine exec`` against it with
``PYTHONPROFILEIMPORTTIME=1`` and prints: the total of the top-level entries minus what a bare
``python -c pass`` imports (the same figure as ``goals.py``'s "imports, exec path"), best and
median of the runs; the CPU time (user+sys) of the best run; the top-level packages imported; and
the modules with the largest cumulative cost in the best run, grouped by top-level package; and,
steadier under load, each module's least self time over the runs, summed.
With ``--baseline-src`` the runs alternate between that tree (on ``PYTHONPATH``, bytecode
compiled too) and this one, and both summaries are printed: on a loaded machine only figures
taken side by side compare.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from app_server_concurrency import ENGINE, bench_env, provider_overrides  # noqa: E402
from exec_turn import make_repo, start_emulator, stop  # noqa: E402
from goals import _import_total_ms, interpreter_baseline  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"


def run_exec(url: str, tmp: Path, index: str, src: Path | None = None) -> tuple[str, float]:
    """One ``exec`` turn (of the package in ``src`` when given); its import log and its CPU time
    (user+sys, seconds)."""
    home, work = tmp / f"home-{index}", tmp / f"work-{index}"
    home.mkdir()
    make_repo(work)
    argv = [str(ENGINE)]
    for override in provider_overrides(url):
        argv += ["-c", override]
    argv += ["exec", "--skip-git-repo-check", "say hello"]
    env = {**bench_env(home), "PYTHONPROFILEIMPORTTIME": "1"}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        argv, cwd=work, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"exec failed: {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done.stderr, cpu


def entries(log: str) -> list[tuple[int, int, str]]:
    """(self µs, cumulative µs, indented name) per ``import time:`` line."""
    rows = []
    for line in log.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative_us, name = line.removeprefix("import time:").split("|", 2)
        rows.append((int(self_us), int(cumulative_us), name))
    return rows


def summary(runs: list[tuple[str, float]], baseline: set[str]) -> str:
    """Print the import totals and CPU times of ``runs``; the best run's log."""
    totals = [_import_total_ms(log, baseline) for log, _ in runs]
    cpus = [cpu for _, cpu in runs]
    best = min(range(len(runs)), key=totals.__getitem__)
    median = statistics.median(totals)
    print(f"imports, exec path: best {totals[best]:.1f} ms, median {median:.1f} ms")
    print(f"  runs: {', '.join(f'{t:.1f}' for t in totals)} ms")
    # Each module's least self time over the runs, summed: steadier than any one run's total
    # on a loaded machine (a run's total counts every moment its process was descheduled).
    least: dict[str, int] = {}
    for log, _ in runs:
        for self_us, _, name in entries(log):
            if name.strip() not in baseline:
                least[name.strip()] = min(least.get(name.strip(), self_us), self_us)
    print(
        f"  {len(least)} modules; sum of each one's least self time: "
        f"{sum(least.values()) / 1000:.1f} ms"
    )
    print(
        f"  CPU (user+sys): best {min(cpus):.3f} s, median {statistics.median(cpus):.3f} s; "
        f"runs {', '.join(f'{c:.3f}' for c in cpus)} s"
    )
    return runs[best][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--modules", type=Path, help="write the best run's module names here")
    parser.add_argument("--baseline-src", type=Path, help="another tree's src/ to compare with")
    args = parser.parse_args()
    for src in [ROOT / "src", *([args.baseline_src] if args.baseline_src else [])]:
        subprocess.run([str(PYTHON), "-m", "compileall", "-q", str(src)], check=True)
    baseline = interpreter_baseline()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        emulator, url = start_emulator(ENGINE, tmp)
        try:
            runs, baseline_runs = [], []
            for i in range(args.runs):
                if args.baseline_src:
                    baseline_runs.append(run_exec(url, tmp, f"b{i}", args.baseline_src))
                runs.append(run_exec(url, tmp, str(i)))
        finally:
            stop(emulator)
    if baseline_runs:
        print(f"baseline {args.baseline_src}:")
        summary(baseline_runs, baseline)
        print("this tree:")
    log = summary(runs, baseline)
    rows = entries(log)
    names = [name.strip() for _, _, name in rows]
    packages: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    for self_us, _, name in rows:
        top = name.strip().split(".")[0]
        if name.strip() in baseline:
            continue
        packages[top] += self_us
        count[top] += 1
    print(f"\n{sum(count.values())} modules; self time by top-level package (ms, modules):")
    for top, self_us in sorted(packages.items(), key=lambda kv: -kv[1]):
        print(f"  {self_us / 1000:7.1f}  {count[top]:4d}  {top}")
    print(f"\ntop {args.top} cumulative (ms, self ms, module):")
    ranked = sorted(rows, key=lambda row: -row[1])[: args.top]
    for self_us, cumulative_us, name in ranked:
        print(f"  {cumulative_us / 1000:7.1f}  {self_us / 1000:6.1f}  {name.rstrip()}")
    if args.modules:
        args.modules.write_text("\n".join(sorted(set(names))) + "\n")


if __name__ == "__main__":
    main()
