"""The per-turn runtime summary: JSON shape, the one-line rendering, merging."""

from __future__ import annotations

import json

from codex_engine.core.events import TurnSummary
from codex_engine.telemetry.summary import RuntimeSummary, Tally


def _busy_turn() -> RuntimeSummary:
    summary = RuntimeSummary()
    summary.api_calls.add(300.4)
    summary.stream_events.add(2.2)
    summary.stream_events.add(3.1)
    summary.tool_calls.add(35.0)
    summary.handshakes.add(120.0)
    summary.preconnect_adopted = True
    summary.body_bytes, summary.sent_bytes, summary.compressed_requests = 41_000, 9_800, 1
    summary.compression_ms = 0.41
    summary.time_to_first_token_ms = 310.2
    return summary


def test_json_has_count_and_whole_milliseconds_per_kind() -> None:
    data = _busy_turn().to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["api_calls"] == {"count": 1, "duration_ms": 300}
    assert data["stream_events"] == {"count": 2, "duration_ms": 5}
    assert data["websocket_calls"] == {"count": 0, "duration_ms": 0}
    assert data["handshake_ms"] == 120
    assert data["preconnect_adopted"] is True
    assert data["request_bytes"]["before_compression"] == 41_000
    assert data["request_bytes"]["after_compression"] == 9_800
    assert data["time_to_first_token_ms"] == 310


def test_rendering_is_one_line_and_leaves_out_what_did_not_happen() -> None:
    line = _busy_turn().render()
    assert "\n" not in line
    assert "1 api call 300 ms" in line
    assert "2 stream events 5 ms" in line
    assert "preconnect adopted" in line
    assert "41.0 kB → 9.8 kB zstd" in line
    assert "first token 310 ms" in line
    assert "websocket" not in line
    assert str(RuntimeSummary()) == "nothing recorded"


def test_merge_adds_and_keeps_the_first_time_to_first_token() -> None:
    total = RuntimeSummary()
    assert total.is_empty()
    total.merge(_busy_turn())
    total.merge(_busy_turn())
    assert not total.is_empty()
    assert total.api_calls == Tally(2, 600.8)
    assert total.body_bytes == 82_000
    assert total.time_to_first_token_ms == 310.2


def test_the_turn_summary_reads_its_counts_from_the_one_counter() -> None:
    runtime = _busy_turn()
    runtime.requests, runtime.retries, runtime.tool_calls_made = 2, 1, 3
    runtime.time_to_first_event_ms = 250.0
    summary = TurnSummary(duration_s=1.5, runtime=runtime)
    counts = (summary.requests, summary.retries, summary.tool_calls, summary.stream_events)
    assert counts == (2, 1, 3, 2)
    assert summary.time_to_first_token_s == 0.25
    total = RuntimeSummary()
    total.merge(runtime)
    total.merge(runtime)
    assert (total.requests, total.retries, total.tool_calls_made) == (4, 2, 6)
    assert total.time_to_first_event_ms == 250.0
    # The JSON shape (`turn.completed`'s `runtime`, `runtimeSummary`): what it always was,
    # plus the server's own timing fields (feature `runtime_metrics`).
    assert set(runtime.to_json()) == {
        "responses_api_overhead_ms",
        "responses_api_inference_time_ms",
        "responses_api_engine_iapi_ttft_ms",
        "responses_api_engine_service_ttft_ms",
        "responses_api_engine_iapi_tbt_ms",
        "responses_api_engine_service_tbt_ms",
        "tool_calls",
        "api_calls",
        "stream_events",
        "websocket_calls",
        "websocket_events",
        "handshake_ms",
        "preconnect_adopted",
        "request_bytes",
        "time_to_first_token_ms",
    }
