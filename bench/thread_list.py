"""Benchmark ``thread/list`` over a CODEX_HOME of many recorded sessions: the first call (a fresh
rollout index) against later calls (the index warm), through the library functions the handler
uses (``history.list_page`` over ``core.rollout.RolloutIndex``, then each thread to wire JSON).

Reproduce (from the repo root; the machine sets PYTHONDONTWRITEBYTECODE=1, so compile first)::

    .venv/bin/python -m compileall -q src
    .venv/bin/python bench/thread_list.py                    # 1,000 and 10,000 sessions
    .venv/bin/python bench/thread_list.py --sessions 1000 --repeats 20 --keep /tmp/home

Each session is a real-sized rollout: session_meta with ~8 KiB of base instructions, then three
turns (turn_context, user message, reasoning, a shell call and its output, the answer). Cases:

- ``default``: ``thread/list {}`` (25 newest, interactive sources): reads 25 files when cold.
- ``updated``: the same sorted by ``updated_at``.
- ``search-miss``: ``searchTerm`` that matches nothing, so every file's summary is needed.
- ``one-changed``: ``search-miss`` after a name was appended to one file (1 re-read).

"first" is one call on a fresh index (what every call cost before the index existed: the old
code read every file it looked at on every call); "later" is the median and p90 of
``--repeats`` calls on the warm index. Files were just written, so they sit in the OS page
cache; a cold disk would make "first" slower still. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from codex_engine.app_server.history import list_page, to_wire
from codex_engine.core.rollout import NAME_EVENT, RolloutIndex, SessionMeta, append_record
from codex_engine.core.rollout.paths import rollout_path
from codex_engine.core.rollout.records import encode_line
from codex_engine.protocol.app_server_types import ThreadListParams
from codex_engine.protocol.items import (
    ContentPart,
    FunctionCall,
    FunctionCallOutput,
    Message,
    Reasoning,
    item_to_json,
    user_message,
)

START = datetime(2024, 1, 1, 9, 0, 0).astimezone()
INSTRUCTIONS = ("You are a coding agent. Follow the repository's conventions. " * 140)[:8192]


def session_bytes(number: int, thread_id: str) -> bytes:
    meta = SessionMeta(
        id=thread_id,
        cwd=f"/home/dev/project-{number % 7}",
        originator="codex_vscode",
        cli_version="0.1.0",
        source="appServer" if number % 4 else "exec",
        model_provider="openai",
        base_instructions=INSTRUCTIONS,
        git={"commit_hash": f"{number:040x}", "branch": "main"},
    )
    lines = [encode_line("session_meta", meta.to_payload())]
    for turn in range(3):
        lines.append(encode_line("turn_context", {"turn_id": f"t{turn}", "model": "gpt-5.1-codex"}))
        items: list[Any] = [
            user_message(f"session {number} question {turn}: why does the build fail?"),
            Reasoning(summary=[{"type": "summary_text", "text": "Looking at the logs."}]),
            FunctionCall(
                name="shell", call_id=f"c{turn}", arguments='{"command": ["bash", "-lc", "ls"]}'
            ),
            FunctionCallOutput(call_id=f"c{turn}", output="README.md\nsrc\ntests\n" * 20),
            Message(
                role="assistant",
                content=[ContentPart(type="output_text", text="The build fails because ... " * 8)],
            ),
        ]
        lines.extend(encode_line("response_item", item_to_json(item)) for item in items)
        lines.append(encode_line("event_msg", {"type": "turn_complete", "turn_id": f"t{turn}"}))
    return b"".join(lines)


def make_home(home: Path, sessions: int) -> list[Path]:
    paths = []
    for number in range(sessions):
        thread_id = f"018f0000-0000-7000-8000-{number:012d}"
        path = rollout_path(home, thread_id, START + timedelta(hours=number))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(session_bytes(number, thread_id))
        paths.append(path)
    return paths


def list_call(index: RolloutIndex, params: ThreadListParams, by_update: bool) -> int:
    """What the handler does, minus the pipe: one page, projected to wire JSON."""
    page = list_page(index, params, by_update=by_update)
    wire = [to_wire(stored, include_turns=False).to_wire() for stored in page.items]
    return len(wire)


def timed(index: RolloutIndex, params: ThreadListParams, by_update: bool) -> float:
    """Milliseconds for one :func:`list_call`."""
    started = time.perf_counter()
    list_call(index, params, by_update)
    return (time.perf_counter() - started) * 1000


def run(sessions: int, repeats: int, keep: Path | None) -> list[dict[str, Any]]:
    home = keep or Path(tempfile.mkdtemp(prefix=f"thread-list-{sessions}-"))
    started = time.perf_counter()
    paths = make_home(home, sessions)
    size = sum(p.stat().st_size for p in paths)
    print(
        f"\n{sessions:,} sessions, {size / 2**20:.0f} MiB, written in "
        f"{time.perf_counter() - started:.1f} s ({home})"
    )
    cases: list[tuple[str, ThreadListParams, bool]] = [
        ("default", ThreadListParams(), False),
        ("updated", ThreadListParams(sort_key="updated_at"), True),
        ("search-miss", ThreadListParams(search_term="no such words"), False),
    ]
    rows = []
    try:
        for name, params, by_update in cases:
            index = RolloutIndex(home)
            first = timed(index, params, by_update)
            read_first = index.files_read
            later = [timed(index, params, by_update) for _ in range(repeats)]
            rows.append(
                row(sessions, name, first, read_first, later, index.files_read - read_first)
            )
        # One file changed under a warm index: only it is read again.
        index = RolloutIndex(home)
        params = ThreadListParams(search_term="no such words")
        list_call(index, params, False)
        later = []
        reread = 0
        for turn in range(repeats):
            before = index.files_read
            append_record(paths[turn], "event_msg", {"type": NAME_EVENT, "thread_name": "x"})
            later.append(timed(index, params, False))
            reread += index.files_read - before
        rows.append(row(sessions, "one-changed", None, None, later, reread))
    finally:
        if keep is None:
            shutil.rmtree(home)
    return rows


def row(
    sessions: int,
    case: str,
    first: float | None,
    read_first: int | None,
    later: list[float],
    read_later: int,
) -> dict[str, Any]:
    later.sort()
    return {
        "sessions": sessions,
        "case": case,
        "first_ms": first,
        "files_read_first": read_first,
        "later_median_ms": statistics.median(later),
        "later_p90_ms": later[int(0.9 * (len(later) - 1))],
        "files_read_per_later_call": read_later / len(later),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="write the CODEX_HOME here and keep it")
    args = parser.parse_args()
    rows = []
    for sessions in args.sessions:
        keep = args.keep / str(sessions) if args.keep else None
        rows.extend(run(sessions, args.repeats, keep))
    print(
        "\n| sessions | case | first (ms) | files read | later median (ms) | later p90 (ms) "
        "| files read / later call |\n|---:|---|---:|---:|---:|---:|---:|"
    )
    for r in rows:
        first = "" if r["first_ms"] is None else f"{r['first_ms']:.1f}"
        read = "" if r["files_read_first"] is None else f"{r['files_read_first']:,}"
        print(
            f"| {r['sessions']:,} | {r['case']} | {first} | {read} | {r['later_median_ms']:.1f} "
            f"| {r['later_p90_ms']:.1f} | {r['files_read_per_later_call']:g} |"
        )


if __name__ == "__main__":
    main()
