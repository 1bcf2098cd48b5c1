"""Feature ``runtime_metrics``: WebSocket handshakes ask for the server's timing, and the
``responsesapi.websocket_timing`` events it then sends reach the runtime summary and the
``codex.responses_api_*`` histograms (SPEC §8). Through the emulator over real sockets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codex_engine.client.model_client import ModelClient
from codex_engine.config.loader import load_config
from codex_engine.core.events import TurnCompleted
from codex_engine.core.launch import open_session
from codex_engine.emulator import Reply, ResponsesEmulator
from codex_engine.protocol.events import Completed
from codex_engine.protocol.items import user_message
from codex_engine.protocol.request import Prompt
from codex_engine.protocol.server_timing import ServerTiming
from codex_engine.telemetry.metrics import Metrics
from codex_engine.telemetry.summary import RuntimeSummary
from codex_engine.telemetry.testing import InMemoryMetricExporter
from tests.conftest import TEST_MODEL, run_cli
from tests.metrics_support import (  # noqa: F401 (fixtures)
    CTX,
    PROMPT,
    exporter_fixture,
    metered_client,
    metrics_fixture,
)

HEADER = "x-responsesapi-include-timing-metrics"
# The emulator's default timing values (emulator/script.py DEFAULT_TIMING_METRICS), by the
# histogram and the summary field each one lands in.
EXPECTED = {
    "codex.responses_api_overhead.duration_ms": ("responses_api_overhead_ms", 12),
    "codex.responses_api_inference_time.duration_ms": ("responses_api_inference_time_ms", 240),
    "codex.responses_api_engine_iapi_ttft.duration_ms": ("responses_api_engine_iapi_ttft_ms", 95),
    "codex.responses_api_engine_service_ttft.duration_ms": (
        "responses_api_engine_service_ttft_ms",
        80,
    ),
    "codex.responses_api_engine_iapi_tbt.duration_ms": ("responses_api_engine_iapi_tbt_ms", 14),
    "codex.responses_api_engine_service_tbt.duration_ms": (
        "responses_api_engine_service_tbt_ms",
        11,
    ),
}


def client_for(
    emulator: ResponsesEmulator,
    metrics: Metrics,
    *,
    timing: bool,
    websockets: bool = True,
    preconnect: bool = False,
) -> ModelClient:
    return metered_client(
        emulator, metrics, websockets=websockets, preconnect=preconnect, timing=timing
    )


async def test_timing_events_fill_the_summary_and_the_server_histograms(
    emulator: ResponsesEmulator, metrics: Metrics, exporter: InMemoryMetricExporter
) -> None:
    emulator.enqueue(Reply.text("one"), Reply.text("two"))
    async with client_for(emulator, metrics, timing=True) as client:
        session = client.new_session()
        for prompt in (
            PROMPT,
            Prompt(input=[*PROMPT.input, user_message("more")], base_instructions="Be brief."),
        ):
            events = [e async for e in session.stream(prompt, CTX)]
            assert isinstance(events[-1], Completed)
    (handshake,) = emulator.requests_of("ws_handshake")
    assert handshake.headers[HEADER] == "true"
    summary = session.metrics.summary
    data = summary.to_json()
    assert metrics.force_flush()
    snap = exporter.latest()
    for metric, (field, value) in EXPECTED.items():
        assert getattr(summary, field) == 2 * value, field
        assert data[field] == 2 * value, field
        assert snap.count(metric) == 2, metric
        assert snap.total(metric) == 2 * value, metric
    timing = "responsesapi.websocket_timing"
    assert snap.value("codex.websocket.event", kind=timing, success="true") == 2
    assert "server inference 480 ms, overhead 24 ms" in summary.render()


async def test_without_the_feature_nothing_is_asked_and_nothing_recorded(
    emulator: ResponsesEmulator, metrics: Metrics, exporter: InMemoryMetricExporter
) -> None:
    async with client_for(emulator, metrics, timing=False) as client:
        session = client.new_session()
        [e async for e in session.stream(PROMPT, CTX)]
    (handshake,) = emulator.requests_of("ws_handshake")
    assert HEADER not in handshake.headers
    (message,) = emulator.requests_of("ws_message")
    assert message.events_sent > 0
    summary = session.metrics.summary
    assert all(getattr(summary, field) == 0 for field, _ in EXPECTED.values())
    assert metrics.force_flush()
    assert not set(EXPECTED) & exporter.latest().names()


async def test_the_startup_preconnect_asks_for_timing_too(
    emulator: ResponsesEmulator, metrics: Metrics
) -> None:
    async with client_for(emulator, metrics, timing=True, preconnect=True) as client:
        assert client.preconnect()
        handshake = await emulator.wait_for_request("ws_handshake")
        session = client.new_session()
        [e async for e in session.stream(PROMPT, CTX)]
    assert handshake.headers[HEADER] == "true"
    # The turn adopted the warmed socket, and the server timed the response on it.
    assert len(emulator.requests_of("ws_handshake")) == 1
    assert session.metrics.summary.responses_api_inference_time_ms == 240


async def test_http_requests_never_carry_the_header(
    emulator: ResponsesEmulator, metrics: Metrics
) -> None:
    # As in the reference, the header belongs to WebSocket handshakes; SSE has no timing event.
    async with client_for(emulator, metrics, timing=True, websockets=False) as client:
        session = client.new_session()
        [e async for e in session.stream(PROMPT, CTX)]
    (request,) = emulator.requests_of("http")
    assert HEADER not in request.headers
    assert session.metrics.summary.responses_api_inference_time_ms == 0


async def test_unusable_timing_values_are_skipped(
    emulator: ResponsesEmulator, metrics: Metrics, exporter: InMemoryMetricExporter
) -> None:
    emulator.enqueue(
        Reply.text(
            "x",
            timing_metrics={
                "engine_service_total_ms": 99.6,
                "responses_duration_excl_engine_and_client_tool_time_ms": -3,
                "engine_iapi_ttft_total_ms": "12",
                "engine_service_ttft_total_ms": True,
            },
        )
    )
    async with client_for(emulator, metrics, timing=True) as client:
        session = client.new_session()
        [e async for e in session.stream(PROMPT, CTX)]
    summary = session.metrics.summary
    assert summary.responses_api_inference_time_ms == 100  # whole milliseconds
    assert summary.responses_api_overhead_ms == 0
    assert summary.responses_api_engine_iapi_ttft_ms == 0
    assert summary.responses_api_engine_service_ttft_ms == 0
    assert metrics.force_flush()
    snap = exporter.latest()
    assert snap.total("codex.responses_api_inference_time.duration_ms") == 100
    assert snap.count("codex.responses_api_overhead.duration_ms") == 0


def test_server_timing_parsing() -> None:
    assert ServerTiming.from_payload({}) == ServerTiming()
    assert ServerTiming.from_payload({"timing_metrics": [1, 2]}) == ServerTiming()
    parsed = ServerTiming.from_payload(
        {"timing_metrics": {"engine_service_total_ms": 7, "engine_iapi_ttft_total_ms": 1e400}}
    )
    assert parsed.values() == {"inference_ms": 7.0}


def test_summaries_merge_and_render_server_timing() -> None:
    turn = RuntimeSummary()
    turn.add_server_timing(ServerTiming(inference_ms=200.0, overhead_ms=10.0))
    total = RuntimeSummary()
    total.merge(turn)
    total.merge(turn)
    assert total.responses_api_inference_time_ms == 400
    assert total.responses_api_overhead_ms == 20
    assert not total.is_empty()
    assert total.render() == "server inference 400 ms, overhead 20 ms"
    assert "server" not in RuntimeSummary().render()


async def test_sessions_the_launcher_opens_ask_when_the_feature_is_on(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path
) -> None:
    # The app-server's and the library's path: the launcher builds the client from the config.
    config = load_config(
        overrides=[
            (["model"], TEST_MODEL),
            (["model_provider"], "emulator"),
            (["model_providers", "emulator", "base_url"], emulator.base_url),
            (["features", "responses_websockets"], True),
            (["features", "runtime_metrics"], True),
            (["features", "websocket_preconnect"], False),
            (["approval_policy"], "never"),
        ],
        cwd=tmp_path,
    )
    async with open_session(config) as session:
        events = [event async for event in session.run_turn("hello")]
    (handshake,) = emulator.requests_of("ws_handshake")
    assert handshake.headers[HEADER] == "true"
    (completed,) = [e for e in events if isinstance(e, TurnCompleted)]
    assert completed.summary.runtime.responses_api_inference_time_ms == 240


def _ws_flags(emulator: ResponsesEmulator) -> list[str]:
    return [
        "-c", f"model={TEST_MODEL}", "-c", "model_provider=emulator",
        "-c", f"model_providers.emulator.base_url={emulator.base_url}",
        "-c", "model_providers.emulator.supports_websockets=true",
        "--enable", "responses_websockets",
    ]  # fmt: skip


@pytest.mark.parametrize("enabled", [True, False])
async def test_exec_with_runtime_metrics_reports_the_server_timing(
    emulator: ResponsesEmulator, codex_home: Path, tmp_path: Path, enabled: bool
) -> None:
    feature = ["--enable", "runtime_metrics"] if enabled else []
    run = await run_cli(
        "exec", "--json", "--skip-git-repo-check", *_ws_flags(emulator), *feature, "say hi",
        home=codex_home, cwd=tmp_path,
    )  # fmt: skip
    assert run.code == 0, run.stderr
    events: list[dict[str, Any]] = [json.loads(line) for line in run.stdout.splitlines()]
    assert events[-1]["type"] == "turn.completed"
    runtime = events[-1]["runtime"]
    handshakes = emulator.requests_of("ws_handshake")
    assert handshakes, "exec did not use the WebSocket"
    # Every handshake (exec's early warm-up included) asks for timing exactly when enabled.
    assert all((h.headers.get(HEADER) == "true") == enabled for h in handshakes)
    expected = {field: value if enabled else 0 for field, value in EXPECTED.values()}
    assert {field: runtime[field] for field in expected} == expected
