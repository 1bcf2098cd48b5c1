"""Responses stream events decoded per second, SSE bytes to ``ResponseEvent`` as the HTTP transport
does it: this tree, and another tree's ``src/`` run by run beside it.

Reproduce (from the repo root)::

    .venv/bin/python bench/stream_events.py                      # this tree only
    .venv/bin/python bench/stream_events.py --baseline-src /tmp/before/src --rounds 7

Two synthetic streams of ``--events`` events: ``text`` (``sse_decode.py``'s: output_text deltas
between the created/added/done/completed framing) and ``tool`` (a function call's
``function_call_arguments.delta`` events, which the engine skips, then its ``output_item.done``).
Two measures per stream: ``decode`` (each event's ``data`` to its event and success tag, the
transport's ``_decode``) and ``sse+decode`` (4 KiB chunks through the SSE decoder, then decode).
Each round runs one fresh interpreter per tree (best of ``--repeats`` inside); printed: best and
median over the rounds, in events per second, and the ratio this tree / baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
MEASURES = ("text decode", "text sse+decode", "tool decode", "tool sse+decode")


def _tool_stream(n_events: int) -> bytes:
    from codex_engine.protocol.sse import encode_event

    parts: list[bytes] = []
    resp = {"id": "resp_1", "object": "response", "model": "gpt-5-codex"}
    call = {"id": "fc_1", "type": "function_call", "call_id": "call_1", "name": "shell"}

    def emit(kind: str, payload: dict[str, Any]) -> None:
        body = {"type": kind, "sequence_number": len(parts), **payload}
        parts.append(encode_event(json.dumps(body, separators=(",", ":")), kind))

    emit("response.created", {"response": {**resp, "status": "in_progress", "output": []}})
    emit("response.output_item.added", {"output_index": 0, "item": {**call, "arguments": ""}})
    pieces = ['{"command":', '["bash",', '"-lc",', '"ls -la', " src", '"]}']
    for i in range(n_events - 4):
        piece = pieces[i % len(pieces)]
        emit(
            "response.function_call_arguments.delta",
            {"item_id": "fc_1", "output_index": 0, "delta": piece, "obfuscation": "x1y2"},
        )
    done = {**call, "arguments": '{"command":["ls"]}', "status": "completed"}
    emit("response.output_item.done", {"output_index": 0, "item": done})
    usage = {"input_tokens": 1234, "output_tokens": n_events, "total_tokens": 1234 + n_events}
    emit("response.completed", {"response": {**resp, "output": [done], "usage": usage}})
    return b"".join(parts)


def _decoder() -> Callable[[str], tuple[Any, bool]]:
    """The transport's ``_decode``: the hot path where this tree has it, else (an older tree)
    ``json.loads`` then the general parser, as the transport then did."""
    from codex_engine.protocol import events
    from codex_engine.protocol.event_tags import event_succeeded, payload_kind

    fast = getattr(events, "decode_stream_message", None)
    if fast is not None:

        def decode(data: str) -> tuple[Any, bool]:
            if data.strip() == "[DONE]":
                return None, True
            kind, event = fast(data)
            return event, event_succeeded(kind, event)

        return decode

    def decode_old(data: str) -> tuple[Any, bool]:
        if data.strip() == "[DONE]":
            return None, True
        payload = json.loads(data)
        event = events.parse_stream_payload(payload)
        return event, event_succeeded(payload_kind(payload), event)

    return decode_old


def worker(n_events: int, repeats: int) -> dict[str, float]:
    """Best events/s of each measure, in this interpreter (of the ``codex_engine`` on
    ``PYTHONPATH``, imported before ``sse_decode`` puts this tree's ``src`` on the path)."""
    import codex_engine
    from codex_engine.protocol.sse import SSEDecoder

    expected = Path(os.environ["PYTHONPATH"]).resolve()
    assert Path(codex_engine.__file__).resolve().is_relative_to(expected), codex_engine.__file__
    sys.path.insert(0, str(ROOT / "bench"))
    from sse_decode import build_stream, chunked

    decode = _decoder()
    result: dict[str, float] = {}
    for name, stream in (("text", build_stream(n_events)), ("tool", _tool_stream(n_events))):
        chunks = chunked(stream, 4096)
        sse = SSEDecoder()
        datas = [event.data for chunk in chunks for event in sse.feed(chunk)]
        assert len(datas) == n_events, (name, len(datas))
        assert sum(decode(data)[0] is not None for data in datas) > 2

        def decode_only(datas: list[str] = datas) -> None:
            for data in datas:
                decode(data)

        def sse_and_decode(chunks: list[bytes] = chunks) -> None:
            sse = SSEDecoder()
            for chunk in chunks:
                for event in sse.feed(chunk):
                    decode(event.data)

        for measure, run in (("decode", decode_only), ("sse+decode", sse_and_decode)):
            best = float("inf")
            for _ in range(repeats):
                started = time.perf_counter()
                run()
                best = min(best, time.perf_counter() - started)
            result[f"{name} {measure}"] = n_events / best
    return result


def _run_worker(src: Path, n_events: int, repeats: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    argv = [str(PYTHON), __file__, "--worker", "--events", str(n_events)]
    argv += ["--repeats", str(repeats)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    parsed: dict[str, float] = json.loads(done.stdout)
    return parsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7, help="timed passes per interpreter")
    parser.add_argument("--rounds", type=int, default=5, help="interpreters per tree")
    parser.add_argument("--baseline-src", type=Path, help="another tree's src/ to compare")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.events, args.repeats)))
        return

    trees = {"this tree": ROOT / "src"}
    if args.baseline_src is not None:
        trees = {"baseline": args.baseline_src.resolve(), **trees}
    for src in trees.values():
        subprocess.run([str(PYTHON), "-m", "compileall", "-q", str(src)], check=True)
    runs: dict[str, list[dict[str, float]]] = {label: [] for label in trees}
    for _ in range(args.rounds):
        for label, src in trees.items():
            runs[label].append(_run_worker(src, args.events, args.repeats))

    print(f"{args.events} events per stream, best of {args.repeats} per interpreter, ", end="")
    print(f"{args.rounds} interpreters per tree (events/s)")
    header = f"{'measure':<18}" + "".join(f"{label + ' best':>18}{'median':>12}" for label in runs)
    print(header + ("   ratio (median)" if len(runs) == 2 else ""))
    for measure in MEASURES:
        line = f"{measure:<18}"
        medians = []
        for label in runs:
            values = [run[measure] for run in runs[label]]
            medians.append(statistics.median(values))
            line += f"{max(values):>18,.0f}{medians[-1]:>12,.0f}"
        if len(medians) == 2:
            line += f"   {medians[1] / medians[0]:.2f}x"
        print(line)


if __name__ == "__main__":
    main()
