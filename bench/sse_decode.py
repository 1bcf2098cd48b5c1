"""Benchmark codex_engine's SSEDecoder against openai-python's on a recorded-like Responses stream.

Reproduce: ``.venv/bin/python bench/sse_decode.py [--events N] [--repeats R]`` from the repo root.
Prints best and median events/s per decoder and chunk size, and the ratio ours/theirs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from codex_engine.protocol.sse import SSEDecoder, encode_event

OpenAISSEDecoder: Any
try:
    from openai._streaming import SSEDecoder as OpenAISSEDecoder
except ImportError:  # openai is only in the optional "bench" extra
    OpenAISSEDecoder = None

CHUNK_SIZES = (4 * 1024, 64 * 1024)
_WORDS = (
    "The ",
    "function ",
    "returns ",
    "a ",
    "list ",
    "of ",
    "parsed ",
    "events",
    ", ",
    "so ",
    "we ",
    "can ",
    "stream ",
    "them ",
    "to ",
    "the ",
    "caller",
    ".\n",
    "`SSEDecoder` ",
    "héllo ",
    "日本 ",
)


def build_stream(n_events: int) -> bytes:
    """A Responses API stream: created/added framing, ``n_events - 6`` deltas, done/completed."""
    resp = {"id": "resp_68a1b2c3d4e5f6", "object": "response", "model": "gpt-5-codex"}
    item_id = "msg_68a1b2c3d4e5f60718293a4b5c6d7e8f"
    seq = 0
    parts: list[bytes] = []

    def emit(kind: str, payload: dict[str, object]) -> None:
        nonlocal seq
        body = {"type": kind, "sequence_number": seq, **payload}
        parts.append(encode_event(json.dumps(body, separators=(",", ":")), kind))
        seq += 1

    emit("response.created", {"response": {**resp, "status": "in_progress", "output": []}})
    emit("response.in_progress", {"response": {**resp, "status": "in_progress", "output": []}})
    item = {"id": item_id, "type": "message", "status": "in_progress", "role": "assistant"}
    emit("response.output_item.added", {"output_index": 0, "item": {**item, "content": []}})
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
    emit("response.content_part.added", {"item_id": item_id, "output_index": 0, "part": part})
    text: list[str] = []
    for i in range(n_events - 6):
        word = _WORDS[i % len(_WORDS)]
        text.append(word)
        emit(
            "response.output_text.delta",
            {
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "delta": word,
                "logprobs": [],
            },
        )
    done_item = {
        **item,
        "status": "completed",
        "content": [{**part, "text": "".join(text)}],
    }
    emit("response.output_item.done", {"output_index": 0, "item": done_item})
    usage = {"input_tokens": 1234, "output_tokens": n_events, "total_tokens": 1234 + n_events}
    completed = {**resp, "status": "completed", "output": [done_item], "usage": usage}
    emit("response.completed", {"response": completed})
    return b"".join(parts)


def chunked(stream: bytes, size: int) -> list[bytes]:
    return [stream[i : i + size] for i in range(0, len(stream), size)]


def run_ours(chunks: list[bytes]) -> int:
    decoder = SSEDecoder()
    n = 0
    for chunk in chunks:
        n += len(decoder.feed(chunk))
    return n + len(decoder.flush())


def run_theirs(chunks: list[bytes]) -> int:
    assert OpenAISSEDecoder is not None
    it: Iterator[bytes] = iter(chunks)
    return sum(1 for _ in OpenAISSEDecoder().iter_bytes(it))


def _pairs_ours(chunks: list[bytes]) -> list[tuple[str | None, str]]:
    decoder = SSEDecoder()
    events = [e for chunk in chunks for e in decoder.feed(chunk)] + decoder.flush()
    return [(e.event, e.data) for e in events]


def _pairs_theirs(chunks: list[bytes]) -> list[tuple[str | None, str]]:
    return [(e.event, e.data) for e in OpenAISSEDecoder().iter_bytes(iter(chunks))]


def measure(fn: Callable[[list[bytes]], int], chunks: list[bytes], repeats: int) -> list[float]:
    """Seconds per run; the decoders' own results are checked by the caller."""
    times: list[float] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(chunks)
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    stream = build_stream(args.events)
    print(f"stream: {args.events} events, {len(stream) / 1024:.0f} KiB, LF endings")
    if OpenAISSEDecoder is None:
        print("openai is not importable: skipping the comparison (pip install openai)")

    for size in CHUNK_SIZES:
        chunks = chunked(stream, size)
        ours_n = run_ours(chunks)
        assert ours_n == args.events, f"ours decoded {ours_n} events, expected {args.events}"
        ours = measure(run_ours, chunks, args.repeats)
        ours_best = args.events / min(ours)
        ours_med = args.events / statistics.median(ours)
        label = f"{size // 1024:>3} KiB chunks"
        print(f"{label}  ours:   best {ours_best:>12,.0f} ev/s   median {ours_med:>12,.0f} ev/s")
        if OpenAISSEDecoder is None:
            continue
        theirs_n = run_theirs(chunks)
        assert theirs_n == ours_n, f"event count differs: ours {ours_n}, openai {theirs_n}"
        if size == CHUNK_SIZES[0]:
            assert _pairs_ours(chunks) == _pairs_theirs(chunks), "decoded events differ"
        theirs = measure(run_theirs, chunks, args.repeats)
        theirs_best = args.events / min(theirs)
        theirs_med = args.events / statistics.median(theirs)
        print(
            f"{label}  openai: best {theirs_best:>12,.0f} ev/s   median {theirs_med:>12,.0f} ev/s"
        )
        print(
            f"{label}  ratio ours/openai: best {ours_best / theirs_best:.2f}x   "
            f"median {ours_med / theirs_med:.2f}x"
        )


if __name__ == "__main__":
    main()
