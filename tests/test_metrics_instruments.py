"""Every instrument's name, unit and attributes, read back from an in-memory snapshot; the
disabled path; and the per-turn recorder that fills the runtime summary."""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any

import pytest
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData

from codex_engine.protocol.events import TokenUsage
from codex_engine.protocol.server_timing import WIRE_FIELDS, ServerTiming
from codex_engine.telemetry.metrics import INSTRUMENTS, SERVICE_NAME, Metrics
from codex_engine.telemetry.settings import parse_otel_settings
from codex_engine.telemetry.testing import InMemoryMetricExporter, MetricsSnapshot

WIRE = tuple(WIRE_FIELDS.values())


@pytest.fixture
def exporter() -> InMemoryMetricExporter:
    return InMemoryMetricExporter()


@pytest.fixture
def metrics(exporter: InMemoryMetricExporter) -> Iterator[Metrics]:
    m = Metrics(
        [exporter],
        environment="test",
        originator="codex_engine_test",
        model="gpt-5.1-codex",
        export_interval_s=math.inf,
    )
    yield m
    m.shutdown()


def _snapshot(metrics: Metrics) -> MetricsSnapshot:
    return MetricsSnapshot(metrics.collect())


def test_api_requests_are_counted_and_timed_by_status_transport_and_success(
    metrics: Metrics,
) -> None:
    metrics.api_request(200, "http", 120.0)
    metrics.api_request(200, "http", 80.0)
    metrics.api_request(503, "http", 10.0)
    metrics.api_request(None, "http", 5.0)
    metrics.api_request(200, "http", 7.0, error=True)
    snap = _snapshot(metrics)
    assert snap.unit("codex.api_request") == "{request}"
    assert snap.unit("codex.api_request.duration_ms") == "ms"
    assert snap.value("codex.api_request", status="200", transport="http", success="true") == 2
    assert snap.value("codex.api_request", status="503", success="false") == 1
    assert snap.value("codex.api_request", status="none", success="false") == 1
    assert snap.value("codex.api_request", status="200", success="false") == 1
    assert snap.count("codex.api_request.duration_ms", status="200", success="true") == 2
    assert snap.total("codex.api_request.duration_ms", status="200", success="true") == 200.0


def test_stream_events_go_to_the_sse_or_websocket_instruments_by_transport(
    metrics: Metrics,
) -> None:
    metrics.stream_event("response.output_text.delta", "http", 1.0)
    metrics.stream_event("response.output_text.delta", "http", 3.0)
    metrics.stream_event("response.failed", "http", 2.0, success=False)
    metrics.stream_event("response.completed", "websocket", 4.0)
    snap = _snapshot(metrics)
    assert snap.unit("codex.sse_event") == "{event}"
    assert snap.unit("codex.sse_event.duration_ms") == "ms"
    assert snap.unit("codex.websocket.event") == "{event}"
    assert snap.unit("codex.websocket.event.duration_ms") == "ms"
    assert snap.value("codex.sse_event", kind="response.output_text.delta", success="true") == 2
    assert snap.value("codex.sse_event", kind="response.failed", success="false") == 1
    assert snap.total("codex.sse_event.duration_ms", kind="response.output_text.delta") == 4.0
    assert snap.value("codex.websocket.event", kind="response.completed", success="true") == 1
    assert snap.value("codex.sse_event", kind="response.completed") == 0


def test_websocket_requests_and_fallback(metrics: Metrics) -> None:
    metrics.websocket_request(3.0)
    metrics.websocket_request(2.0, success=False, connection_reused=True)
    metrics.fallback_to_http()
    snap = _snapshot(metrics)
    assert snap.unit("codex.websocket.request") == "{request}"
    assert snap.value("codex.websocket.request", success="true", connection_reused="false") == 1
    assert snap.value("codex.websocket.request", success="false", connection_reused="true") == 1
    assert snap.count("codex.websocket.request.duration_ms") == 2
    assert snap.value("codex.transport.fallback_to_http", from_wire_api="responses_websocket") == 1


def test_turn_duration_first_token_and_token_usage_by_type(metrics: Metrics) -> None:
    usage = TokenUsage(
        input_tokens=1200, cached_input_tokens=800, output_tokens=90, reasoning_output_tokens=40
    )
    metrics.turn_completed(2500.0, 310.0, usage)
    metrics.turn_completed(900.0, None, None)
    snap = _snapshot(metrics)
    assert snap.unit("codex.turn.e2e_duration_ms") == "ms"
    assert snap.count("codex.turn.e2e_duration_ms") == 2
    assert snap.count("codex.turn.ttft.duration_ms") == 1
    assert snap.total("codex.turn.ttft.duration_ms") == 310.0
    assert snap.unit("codex.turn.token_usage") == "{token}"
    totals = {
        t: snap.total("codex.turn.token_usage", token_type=t)
        for t in ("input", "cached_input", "output", "reasoning_output")
    }
    assert totals == {"input": 1200, "cached_input": 800, "output": 90, "reasoning_output": 40}


def test_tool_calls_and_startup_prewarm(metrics: Metrics) -> None:
    metrics.tool_call("shell", True, 35.0)
    metrics.tool_call("shell", False, 5.0)
    metrics.prewarm(140.0)
    metrics.prewarm_age_at_first_turn(900.0)
    snap = _snapshot(metrics)
    assert snap.unit("codex.tool.call") == "{call}"
    assert snap.value("codex.tool.call", tool="shell", success="true") == 1
    assert snap.value("codex.tool.call", tool="shell", success="false") == 1
    assert snap.total("codex.tool.call.duration_ms", tool="shell") == 40.0
    assert snap.total("codex.startup_prewarm.duration_ms", success="true") == 140.0
    assert snap.unit("codex.startup_prewarm.age_at_first_turn_ms") == "ms"
    assert snap.total("codex.startup_prewarm.age_at_first_turn_ms") == 900.0


def test_every_instrument_is_exported_with_its_declared_unit_and_common_attributes(
    metrics: Metrics,
) -> None:
    metrics.api_request(200, "http", 1.0)
    metrics.stream_event("k", "http", 1.0)
    metrics.stream_event("k", "websocket", 1.0)
    metrics.websocket_request(1.0)
    metrics.fallback_to_http()
    metrics.turn_completed(1.0, 1.0, TokenUsage())
    metrics.tool_call("shell", True, 1.0)
    metrics.prewarm(1.0)
    metrics.prewarm_age_at_first_turn(1.0)
    metrics.server_timing(ServerTiming.from_payload({"timing_metrics": dict.fromkeys(WIRE, 1)}))
    snap = _snapshot(metrics)
    assert snap.names() == set(INSTRUMENTS)
    for series in snap.series:
        spec = INSTRUMENTS[series.name]
        assert series.unit == spec.unit
        assert set(series.attributes) == {"originator", "model", "app.version", *spec.tags}
        assert series.attributes["originator"] == "codex_engine_test"
        assert series.attributes["model"] == "gpt-5.1-codex"
    assert snap.resource["service.name"] == SERVICE_NAME
    assert snap.resource["deployment.environment.name"] == "test"
    assert "service.version" in snap.resource


def test_histogram_buckets_follow_upper_inclusive_bounds(metrics: Metrics) -> None:
    for value in (0.0, 5.0, 5.5, 20000.0):
        metrics.stream_event("k", "http", value)
    (series,) = _snapshot(metrics).find("codex.sse_event.duration_ms")
    bounds = list(series.explicit_bounds)
    counts = list(series.bucket_counts)
    assert len(counts) == len(bounds) + 1
    assert counts[bounds.index(0.0)] == 1
    assert counts[bounds.index(5)] == 1
    assert counts[bounds.index(10)] == 1
    assert counts[-1] == 1


def test_counters_are_cumulative_across_exports(
    metrics: Metrics, exporter: InMemoryMetricExporter
) -> None:
    metrics.tool_call("shell", True, 1.0)
    assert metrics.force_flush()
    metrics.tool_call("shell", True, 1.0)
    assert metrics.force_flush()
    assert len(exporter.exports) == 2
    assert exporter.latest().value("codex.tool.call") == 2


def test_nothing_recorded_means_nothing_exported(
    metrics: Metrics, exporter: InMemoryMetricExporter
) -> None:
    assert metrics.force_flush()
    assert exporter.exports == []


def test_shutdown_exports_what_is_left_closes_exporters_and_is_idempotent(
    exporter: InMemoryMetricExporter,
) -> None:
    metrics = Metrics([exporter], export_interval_s=3600)
    metrics.tool_call("shell", True, 1.0)
    assert metrics.shutdown()
    assert exporter.shut_down
    assert exporter.latest().value("codex.tool.call") == 1
    assert metrics.shutdown()
    assert len(exporter.exports) == 1


class _BrokenExporter(MetricExporter):
    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        raise RuntimeError("collector exploded")

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        raise RuntimeError("and again")


def test_a_failing_exporter_is_reported_not_raised() -> None:
    metrics = Metrics([_BrokenExporter()], export_interval_s=math.inf)
    metrics.tool_call("shell", True, 1.0)
    assert metrics.force_flush() is False
    assert metrics.shutdown() is False


def _calls_made_by(fn: Any, *args: Any) -> int:
    calls = 0

    def profiler(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(profiler)
    try:
        fn(*args)
    finally:
        sys.setprofile(None)
    return calls


def test_disabled_metrics_record_nothing_and_do_no_work_per_event() -> None:
    metrics = Metrics.disabled()
    assert not metrics.enabled
    metrics.api_request(200, "http", 1.0)
    metrics.stream_event("k", "http", 1.0)
    metrics.turn_completed(1.0, 1.0, TokenUsage(input_tokens=3))
    metrics.tool_call("shell", True, 1.0)
    assert MetricsSnapshot(metrics.collect()).series == []

    def noop(kind: str, transport: str, duration_ms: float) -> None:
        pass

    # A disabled call makes no further calls (no lock, no lookup): it costs what a no-op does.
    baseline = _calls_made_by(noop, "k", "http", 1.0)
    assert _calls_made_by(metrics.stream_event, "k", "http", 1.0) == baseline
    enabled = Metrics([InMemoryMetricExporter()], export_interval_s=math.inf)
    assert _calls_made_by(enabled.stream_event, "k", "http", 1.0) > baseline
    assert metrics.force_flush() and metrics.shutdown()


def test_from_settings_without_an_exporter_is_disabled() -> None:
    assert not Metrics.from_settings(parse_otel_settings({})).enabled
    none = parse_otel_settings({"metrics_exporter": "none"})
    assert not Metrics.from_settings(none).enabled


def test_turning_analytics_off_keeps_the_users_own_exporter() -> None:
    settings = parse_otel_settings(
        {"metrics_exporter": {"otlp-http": {"endpoint": "http://127.0.0.1:9/v1/metrics"}}}
    )
    metrics = Metrics.from_settings(
        settings, analytics_enabled=False, export_interval_s=math.inf, export_timeout_s=0.5
    )
    try:
        assert metrics.enabled
    finally:
        # Nothing recorded, so shutting down sends nothing to the unreachable address.
        assert metrics.shutdown()


def test_turn_recorder_fills_the_summary_even_when_metrics_are_disabled() -> None:
    turn = Metrics.disabled().for_turn()
    turn.websocket_handshake(120.0, adopted_preconnect=True)
    turn.api_request(200, "http", 300.0)
    turn.request_body(40_000, 9_000, compression_s=0.0012)
    turn.request_body(1_000, 1_000)
    turn.first_token(310.0)
    turn.first_token(999.0)
    for _ in range(3):
        turn.stream_event("response.output_text.delta", "http", 2.0)
    turn.stream_event("response.completed", "websocket", 1.0)
    turn.websocket_request(4.0)
    turn.tool_call("shell", True, 35.0)
    turn.fallback_to_http()
    turn.completed(2000.0, None)
    summary = turn.summary
    assert summary.api_calls.count == 1 and summary.api_calls.duration_ms == 300.0
    assert summary.stream_events.count == 3 and summary.stream_events.duration_ms == 6.0
    assert summary.websocket_events.count == 1
    assert summary.websocket_calls.count == 1
    assert summary.tool_calls.count == 1
    assert summary.handshakes.duration_ms == 120.0 and summary.preconnect_adopted
    assert (summary.body_bytes, summary.sent_bytes, summary.compressed_requests) == (
        41_000,
        10_000,
        1,
    )
    assert summary.time_to_first_token_ms == 310.0


def test_turn_recorder_forwards_to_enabled_metrics(metrics: Metrics) -> None:
    turn = metrics.for_turn()
    turn.api_request(200, "http", 10.0)
    turn.stream_event("response.created", "http", 1.0)
    turn.first_token(42.0)
    turn.completed(100.0, TokenUsage(output_tokens=7))
    snap = _snapshot(metrics)
    assert snap.value("codex.api_request") == 1
    assert snap.value("codex.sse_event", kind="response.created") == 1
    assert snap.total("codex.turn.ttft.duration_ms") == 42.0
    assert snap.total("codex.turn.token_usage", token_type="output") == 7
