"""End to end: metrics configured with an otlp-http exporter reach a real OTLP/HTTP receiver on
loopback, which decodes them with the OTLP protobuf (or JSON) schema."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from codex_engine.protocol.events import TokenUsage
from codex_engine.telemetry.metrics import Metrics
from codex_engine.telemetry.settings import parse_otel_settings


@dataclass
class Receiver:
    base_url: str
    status: int = 200
    requests: list[ExportMetricsServiceRequest] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver(base_url="")

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        state.headers.append(dict(request.headers))
        message = ExportMetricsServiceRequest()
        if request.content_type == "application/json":
            json_format.Parse(body.decode(), message)
        else:
            message.ParseFromString(body)
        state.requests.append(message)
        if state.status != 200:
            return web.Response(status=state.status, text="rejected")
        return web.Response(
            body=ExportMetricsServiceResponse().SerializeToString(),
            content_type="application/x-protobuf",
        )

    app = web.Application()
    app.router.add_post("/v1/metrics", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.base_url = f"http://{host}:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()


def _attrs(pairs: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for kv in pairs:
        assert isinstance(kv, KeyValue)
        which = kv.value.WhichOneof("value")
        assert which is not None
        result[kv.key] = getattr(kv.value, which)
    return result


def _metrics(received: ExportMetricsServiceRequest) -> dict[str, Any]:
    (resource_metrics,) = received.resource_metrics
    found: dict[str, Any] = {}
    for scope in resource_metrics.scope_metrics:
        assert scope.scope.name == "codex_engine"
        for metric in scope.metrics:
            found[metric.name] = metric
    return found


def _configured(receiver: Receiver, **table: Any) -> Metrics:
    settings = parse_otel_settings(
        {
            "environment": "ci",
            "metrics_exporter": {"otlp-http": {"endpoint": receiver.base_url, **table}},
        }
    )
    return Metrics.from_settings(
        settings,
        originator="codex_engine",
        model="gpt-5.1-codex",
        export_interval_s=math.inf,
        export_timeout_s=5.0,
    )


def _record_a_turn(metrics: Metrics) -> None:
    turn = metrics.for_turn()
    turn.api_request(200, "http", 120.0)
    for _ in range(3):
        turn.stream_event("response.output_text.delta", "http", 2.0)
    turn.tool_call("shell", True, 35.0)
    turn.first_token(300.0)
    turn.completed(1500.0, TokenUsage(input_tokens=1000, output_tokens=50))


async def test_shutdown_flushes_recorded_metrics_to_an_otlp_http_receiver(
    receiver: Receiver,
) -> None:
    metrics = _configured(receiver, headers={"x-collector-key": "secret"})
    _record_a_turn(metrics)
    assert await metrics.aclose()

    assert len(receiver.requests) == 1
    assert receiver.headers[0]["Content-Type"] == "application/x-protobuf"
    assert receiver.headers[0]["x-collector-key"] == "secret"
    (resource_metrics,) = receiver.requests[0].resource_metrics
    resource = _attrs(resource_metrics.resource.attributes)
    assert resource["service.name"] == "codex-engine"
    assert resource["deployment.environment.name"] == "ci"

    found = _metrics(receiver.requests[0])
    assert {
        "codex.api_request",
        "codex.api_request.duration_ms",
        "codex.sse_event",
        "codex.sse_event.duration_ms",
        "codex.tool.call",
        "codex.tool.call.duration_ms",
        "codex.turn.e2e_duration_ms",
        "codex.turn.ttft.duration_ms",
        "codex.turn.token_usage",
    } == set(found)

    api = found["codex.api_request"]
    assert api.unit == "{request}"
    assert api.sum.is_monotonic
    (point,) = api.sum.data_points
    assert point.as_int == 1
    attrs = _attrs(point.attributes)
    assert attrs["status"] == "200"
    assert attrs["transport"] == "http"
    assert attrs["success"] == "true"
    assert attrs["model"] == "gpt-5.1-codex"
    assert attrs["originator"] == "codex_engine"

    sse = found["codex.sse_event.duration_ms"]
    assert sse.unit == "ms"
    (hist,) = sse.histogram.data_points
    assert (hist.count, hist.sum) == (3, 6.0)
    assert _attrs(hist.attributes)["kind"] == "response.output_text.delta"

    tokens = {
        _attrs(p.attributes)["token_type"]: p.sum
        for p in found["codex.turn.token_usage"].histogram.data_points
    }
    assert found["codex.turn.token_usage"].unit == "{token}"
    assert tokens == {"input": 1000, "cached_input": 0, "output": 50, "reasoning_output": 0}


async def test_json_protocol_sends_otlp_json(receiver: Receiver) -> None:
    metrics = _configured(receiver, protocol="json")
    metrics.fallback_to_http()
    assert await metrics.aflush()
    await metrics.aclose()
    assert receiver.headers[0]["Content-Type"] == "application/json"
    found = _metrics(receiver.requests[-1])
    fallback = found["codex.transport.fallback_to_http"]
    (point,) = fallback.sum.data_points
    assert _attrs(point.attributes)["from_wire_api"] == "responses_websocket"


async def test_a_collector_that_refuses_the_export_does_not_fail_shutdown(
    receiver: Receiver,
) -> None:
    receiver.status = 400
    metrics = _configured(receiver)
    metrics.tool_call("shell", False, 3.0)
    assert await metrics.aclose() is False
    assert len(receiver.requests) == 1


async def test_exec_exports_its_metrics_before_it_exits(receiver: Receiver, tmp_path: Any) -> None:
    import asyncio
    import sys

    from codex_engine.emulator import ResponsesEmulator
    from tests.conftest import TEST_MODEL, cli_env

    repo = tmp_path / "repo"
    repo.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    async with ResponsesEmulator() as emulator:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "codex_engine", "exec", "--skip-git-repo-check",
            "-s", "danger-full-access",
            "-c", f"model={TEST_MODEL}", "-c", "model_provider=emulator",
            "-c", f"model_providers.emulator.base_url={emulator.base_url}",
            "-c", f'otel.metrics_exporter={{otlp-http={{endpoint="{receiver.base_url}"}}}}',
            "run `echo metered`",
            cwd=repo, env=cli_env(home), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert receiver.requests, "exec exited without exporting"
    names: set[str] = set()
    for received in receiver.requests:
        names |= set(_metrics(received))
    assert {
        "codex.api_request",
        "codex.api_request.duration_ms",
        "codex.sse_event",
        "codex.turn.e2e_duration_ms",
        "codex.turn.token_usage",
        "codex.tool.call",
    } <= names


_WITHOUT_OTEL = (
    "import sys\n"
    "sys.modules['opentelemetry'] = None  # as if the `otel` extra were not installed\n"
    "from codex_engine.cli.main import main\n"
    "sys.argv[0] = 'codex-engine'\n"
    "main()\n"
)


async def test_otel_configured_without_the_extra_is_one_line_and_exit_2(tmp_path: Any) -> None:
    import asyncio
    import sys

    from tests.conftest import TEST_MODEL, cli_env

    home = tmp_path / "home"
    home.mkdir()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _WITHOUT_OTEL, "exec", "--skip-git-repo-check",
        "-c", f"model={TEST_MODEL}", "-c", "model_provider=emulator",
        "-c", 'otel.metrics_exporter={otlp-http={endpoint="http://127.0.0.1:9/v1/metrics"}}',
        "hello",
        cwd=tmp_path, env=cli_env(home), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    lines = err.decode().strip().splitlines()
    assert process.returncode == 2, err.decode()
    assert out == b""
    assert len(lines) == 1, lines
    assert "codex-engine[otel]" in lines[0]
    assert "Traceback" not in err.decode()


async def test_exec_without_the_otel_extra_runs_when_otel_is_not_configured(
    tmp_path: Any,
) -> None:
    import asyncio
    import sys

    from codex_engine.emulator import ResponsesEmulator
    from tests.conftest import TEST_MODEL, cli_env

    home = tmp_path / "home"
    home.mkdir()
    async with ResponsesEmulator() as emulator:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _WITHOUT_OTEL, "exec", "--skip-git-repo-check",
            "-c", f"model={TEST_MODEL}", "-c", "model_provider=emulator",
            "-c", f"model_providers.emulator.base_url={emulator.base_url}",
            "say hi",
            cwd=tmp_path, env=cli_env(home), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert out.strip()
