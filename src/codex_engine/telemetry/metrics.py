"""The runtime's metrics: instruments named as the reference names them (SPEC §8), aggregated in
process and exported over OTLP; :meth:`Metrics.disabled` is the no-op used when nothing exports.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import math
import threading
import time
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from codex_engine._version import __version__
from codex_engine.errors import ConfigError
from codex_engine.telemetry.settings import (
    OtelSettings,
    OtlpGrpcExporter,
    OtlpHttpExporter,
)
from codex_engine.telemetry.summary import RuntimeSummary

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics.export import MetricExporter, MetricsData
    from opentelemetry.sdk.resources import Resource

    from codex_engine.protocol.events import TokenUsage

__all__ = [
    "INSTRUMENTS",
    "SERVICE_NAME",
    "InstrumentSpec",
    "Metrics",
    "TurnMetrics",
    "build_exporter",
]

log = logging.getLogger(__name__)

SERVICE_NAME = "codex-engine"

# Buckets of the OTel SDK's default histogram, which suit millisecond timings.
_MS_BOUNDS = (0.0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000)
_TOKEN_BOUNDS = (0.0, 100, 500, 1000, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000)


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    """One metric: its wire name, kind, unit and the attribute keys of its series."""

    name: str
    kind: Literal["counter", "histogram"]
    unit: str
    description: str
    tags: tuple[str, ...] = ()
    bounds: tuple[float, ...] = _MS_BOUNDS


def _counter(name: str, unit: str, description: str, *tags: str) -> InstrumentSpec:
    return InstrumentSpec(name, "counter", unit, description, tags)


def _hist(
    name: str, description: str, *tags: str, unit: str = "ms", bounds: tuple[float, ...] = ()
) -> InstrumentSpec:
    return InstrumentSpec(name, "histogram", unit, description, tags, bounds or _MS_BOUNDS)


API_REQUEST = _counter(
    "codex.api_request",
    "{request}",
    "HTTP requests to the model API",
    "status",
    "transport",
    "success",
)
API_REQUEST_MS = _hist(
    "codex.api_request.duration_ms",
    "Time until the API answered with headers",
    "status",
    "transport",
    "success",
)
SSE_EVENT = _counter("codex.sse_event", "{event}", "SSE events received", "kind", "success")
SSE_EVENT_MS = _hist("codex.sse_event.duration_ms", "Wait for each SSE event", "kind", "success")
WS_REQUEST = _counter(
    "codex.websocket.request",
    "{request}",
    "response.create messages sent",
    "success",
    "connection_reused",
)
WS_REQUEST_MS = _hist(
    "codex.websocket.request.duration_ms",
    "Time to send a response.create",
    "success",
    "connection_reused",
)
WS_EVENT = _counter(
    "codex.websocket.event", "{event}", "WebSocket messages received", "kind", "success"
)
WS_EVENT_MS = _hist(
    "codex.websocket.event.duration_ms", "Wait for each WebSocket message", "kind", "success"
)
FALLBACK = _counter(
    "codex.transport.fallback_to_http",
    "{fallback}",
    "Sessions that fell back to HTTP",
    "from_wire_api",
)
TURN_E2E_MS = _hist("codex.turn.e2e_duration_ms", "Turn duration, submission to completion")
TURN_TTFT_MS = _hist("codex.turn.ttft.duration_ms", "Turn start to the first model output")
TURN_TOKENS = _hist(
    "codex.turn.token_usage",
    "Tokens used by one turn",
    "token_type",
    unit="{token}",
    bounds=_TOKEN_BOUNDS,
)
TOOL_CALL = _counter("codex.tool.call", "{call}", "Tool calls run", "tool", "success")
TOOL_CALL_MS = _hist("codex.tool.call.duration_ms", "Tool call duration", "tool", "success")
PREWARM_MS = _hist(
    "codex.startup_prewarm.duration_ms", "Startup WebSocket preconnect duration", "success"
)
PREWARM_AGE_MS = _hist(
    "codex.startup_prewarm.age_at_first_turn_ms",
    "Age of the startup preconnect when the first turn used it",
)

#: Every instrument, by name.
INSTRUMENTS: dict[str, InstrumentSpec] = {
    spec.name: spec
    for spec in (
        API_REQUEST,
        API_REQUEST_MS,
        SSE_EVENT,
        SSE_EVENT_MS,
        WS_REQUEST,
        WS_REQUEST_MS,
        WS_EVENT,
        WS_EVENT_MS,
        FALLBACK,
        TURN_E2E_MS,
        TURN_TTFT_MS,
        TURN_TOKENS,
        TOOL_CALL,
        TOOL_CALL_MS,
        PREWARM_MS,
        PREWARM_AGE_MS,
    )
}

_TRUE, _FALSE = "true", "false"


class _Hist:
    """One histogram series: count, sum, min, max and explicit-bucket counts."""

    __slots__ = ("buckets", "count", "max", "min", "sum")

    def __init__(self, n_buckets: int) -> None:
        self.count = 0
        self.sum = 0.0
        self.min = math.inf
        self.max = -math.inf
        self.buckets = [0] * n_buckets


class Metrics:
    """The runtime's metrics, owned by the runtime (never the process-global MeterProvider).

    Recording is cheap on purpose: the OpenTelemetry SDK's instruments cost ~6 µs a call, too
    much for every streamed event, so values are aggregated here (cumulative counters and
    explicit-bucket histograms) and turned into OTel ``MetricsData`` only when exported, on a
    background thread every ``export_interval_s`` and on :meth:`force_flush` / :meth:`shutdown`.
    Call :meth:`shutdown` (or :meth:`aclose`) before the process exits, or the last values are
    lost. Exporting never raises: failures are logged.
    """

    def __init__(
        self,
        exporters: Sequence[MetricExporter] = (),
        *,
        environment: str = "dev",
        originator: str = "codex_engine",
        model: str | None = None,
        version: str = __version__,
        export_interval_s: float = 60.0,
        export_timeout_s: float = 5.0,
        record: bool = True,
    ) -> None:
        self._exporters = list(exporters)
        self._on = record
        self._timeout_ms = export_timeout_s * 1000
        self._lock = threading.Lock()
        self._export_lock = threading.Lock()
        self._start_ns = time.time_ns()
        # The OTel SDK (~0.1 s to import) is loaded on the first export, not at startup.
        self._resource_attributes = {
            "service.name": SERVICE_NAME,
            "service.version": version,
            "deployment.environment.name": environment,
        }
        self._resource: Resource | None = None
        common: dict[str, str] = {"originator": originator, "app.version": version}
        if model:
            common["model"] = model
        self.common_attributes: Mapping[str, str] = common
        self._counters: dict[str, dict[tuple[str, ...], float]] = {}
        self._hists: dict[str, dict[tuple[str, ...], _Hist]] = {}
        for spec in INSTRUMENTS.values():
            if spec.kind == "counter":
                self._counters[spec.name] = {}
            else:
                self._hists[spec.name] = {}
        # Hot-path lookups bound once, so a streamed event costs two dict lookups.
        self._sse_c = self._counters[SSE_EVENT.name]
        self._sse_h = self._hists[SSE_EVENT_MS.name]
        self._ws_c = self._counters[WS_EVENT.name]
        self._ws_h = self._hists[WS_EVENT_MS.name]
        self._closed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self._exporters and record and math.isfinite(export_interval_s):
            self._thread = threading.Thread(
                target=self._run_periodic,
                args=(export_interval_s,),
                name="codex-engine-metrics",
                daemon=True,
            )
            self._thread.start()

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def disabled(cls) -> Metrics:
        """Records nothing and exports nothing; each call returns after one flag check."""
        return cls((), record=False)

    @classmethod
    def from_settings(
        cls,
        settings: OtelSettings,
        *,
        originator: str = "codex_engine",
        model: str | None = None,
        analytics_enabled: bool = True,
        extra_exporters: Sequence[MetricExporter] = (),
        export_interval_s: float = 60.0,
        export_timeout_s: float = 5.0,
    ) -> Metrics:
        """Metrics as ``[otel]`` asks for.

        ``analytics_enabled=False`` (the user opted out of analytics) only drops the built-in
        analytics destination (``metrics_exporter = "statsig"``, the default, which
        codex-engine has no endpoint for anyway). An OTLP exporter written in
        ``[otel].metrics_exporter`` is the user's own and is always honoured. With no exporter
        at all this returns :meth:`disabled`.
        """
        exporters = list(extra_exporters)
        user = settings.user_metrics_exporter
        if user is not None:
            exporters.append(build_exporter(user, timeout_s=export_timeout_s))
        del analytics_enabled  # only ever gated "statsig", which has no sink here
        if not exporters:
            return cls.disabled()
        return cls(
            exporters,
            environment=settings.environment,
            originator=originator,
            model=model,
            export_interval_s=export_interval_s,
            export_timeout_s=export_timeout_s,
        )

    @property
    def enabled(self) -> bool:
        """Whether values are recorded at all."""
        return self._on

    def for_turn(self) -> TurnMetrics:
        """A recorder for one turn that also fills that turn's :class:`RuntimeSummary`."""
        return TurnMetrics(self)

    # -- recording --------------------------------------------------------------------------

    def _add(self, name: str, key: tuple[str, ...], value: float = 1) -> None:
        series = self._counters[name]
        with self._lock:
            series[key] = series.get(key, 0) + value

    def _observe(self, spec: InstrumentSpec, key: tuple[str, ...], value: float) -> None:
        series = self._hists[spec.name]
        with self._lock:
            hist = series.get(key)
            if hist is None:
                hist = series[key] = _Hist(len(spec.bounds) + 1)
            _observe(hist, spec.bounds, value)

    def api_request(
        self, status: int | None, transport: str, duration_ms: float, *, error: bool = False
    ) -> None:
        """One HTTP attempt at the model API; ``status`` None when no answer came."""
        if not self._on:
            return
        success = _TRUE if status is not None and 200 <= status < 300 and not error else _FALSE
        key = ("none" if status is None else str(status), transport, success)
        self._add(API_REQUEST.name, key)
        self._observe(API_REQUEST_MS, key, duration_ms)

    def stream_event(
        self, kind: str, transport: str, duration_ms: float, *, success: bool = True
    ) -> None:
        """One received stream event (SSE over HTTP, a message over WebSocket)."""
        if not self._on:
            return
        key = (kind, _TRUE if success else _FALSE)
        if transport == "websocket":
            counters, hists, bounds = self._ws_c, self._ws_h, WS_EVENT_MS.bounds
        else:
            counters, hists, bounds = self._sse_c, self._sse_h, SSE_EVENT_MS.bounds
        with self._lock:
            counters[key] = counters.get(key, 0) + 1
            hist = hists.get(key)
            if hist is None:
                hist = hists[key] = _Hist(len(bounds) + 1)
            hist.count += 1
            hist.sum += duration_ms
            if duration_ms < hist.min:
                hist.min = duration_ms
            if duration_ms > hist.max:
                hist.max = duration_ms
            hist.buckets[bisect_left(bounds, duration_ms)] += 1

    def websocket_request(
        self, duration_ms: float, *, success: bool = True, connection_reused: bool = False
    ) -> None:
        """One ``response.create`` sent on a WebSocket."""
        if not self._on:
            return
        key = (_TRUE if success else _FALSE, _TRUE if connection_reused else _FALSE)
        self._add(WS_REQUEST.name, key)
        self._observe(WS_REQUEST_MS, key, duration_ms)

    def fallback_to_http(self) -> None:
        """The session gave up on WebSockets and uses HTTP from now on."""
        if self._on:
            self._add(FALLBACK.name, ("responses_websocket",))

    def turn_completed(
        self, e2e_ms: float, ttft_ms: float | None, usage: TokenUsage | None
    ) -> None:
        """A turn ended: its duration, time to first output and token usage."""
        if not self._on:
            return
        self._observe(TURN_E2E_MS, (), e2e_ms)
        if ttft_ms is not None:
            self._observe(TURN_TTFT_MS, (), ttft_ms)
        if usage is not None:
            for token_type, value in (
                ("input", usage.input_tokens),
                ("cached_input", usage.cached_input_tokens),
                ("output", usage.output_tokens),
                ("reasoning_output", usage.reasoning_output_tokens),
            ):
                self._observe(TURN_TOKENS, (token_type,), value)

    def tool_call(self, tool: str, success: bool, duration_ms: float) -> None:
        if not self._on:
            return
        key = (tool, _TRUE if success else _FALSE)
        self._add(TOOL_CALL.name, key)
        self._observe(TOOL_CALL_MS, key, duration_ms)

    def prewarm(self, duration_ms: float, *, success: bool = True) -> None:
        """The startup preconnect finished (or failed) after ``duration_ms``."""
        if self._on:
            self._observe(PREWARM_MS, (_TRUE if success else _FALSE,), duration_ms)

    def prewarm_age_at_first_turn(self, age_ms: float) -> None:
        """How long the warmed connection had been open when the first turn took it."""
        if self._on:
            self._observe(PREWARM_AGE_MS, (), age_ms)

    # -- export -------------------------------------------------------------------------------

    def collect(self) -> MetricsData:
        """Everything recorded so far as cumulative OTel data (what an export sends)."""
        from opentelemetry.sdk.metrics.export import (
            AggregationTemporality,
            Histogram,
            HistogramDataPoint,
            Metric,
            MetricsData,
            NumberDataPoint,
            ResourceMetrics,
            ScopeMetrics,
            Sum,
        )
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.util.instrumentation import InstrumentationScope

        if self._resource is None:
            self._resource = Resource.create(self._resource_attributes)
        now = time.time_ns()
        common = dict(self.common_attributes)
        metrics: list[Metric] = []
        with self._lock:
            for spec in INSTRUMENTS.values():
                if spec.kind == "counter":
                    counters = self._counters[spec.name]
                    if not counters:
                        continue
                    numbers = [
                        NumberDataPoint(
                            attributes={**common, **dict(zip(spec.tags, key, strict=True))},
                            start_time_unix_nano=self._start_ns,
                            time_unix_nano=now,
                            value=value,
                        )
                        for key, value in counters.items()
                    ]
                    data: Sum | Histogram = Sum(
                        numbers, AggregationTemporality.CUMULATIVE, is_monotonic=True
                    )
                else:
                    hists = self._hists[spec.name]
                    if not hists:
                        continue
                    points = [
                        HistogramDataPoint(
                            attributes={**common, **dict(zip(spec.tags, key, strict=True))},
                            start_time_unix_nano=self._start_ns,
                            time_unix_nano=now,
                            count=hist.count,
                            sum=hist.sum,
                            bucket_counts=list(hist.buckets),
                            explicit_bounds=list(spec.bounds),
                            min=hist.min,
                            max=hist.max,
                        )
                        for key, hist in hists.items()
                    ]
                    data = Histogram(points, AggregationTemporality.CUMULATIVE)
                metrics.append(Metric(spec.name, spec.description, spec.unit, data))
        scope = ScopeMetrics(
            scope=InstrumentationScope("codex_engine", __version__), metrics=metrics, schema_url=""
        )
        return MetricsData(
            [ResourceMetrics(resource=self._resource, scope_metrics=[scope], schema_url="")]
        )

    def _export(self) -> bool:
        if not self._exporters:
            return True
        from opentelemetry.sdk.metrics.export import MetricExportResult

        data = self.collect()
        if not data.resource_metrics[0].scope_metrics[0].metrics:
            return True
        ok = True
        with self._export_lock:
            for exporter in self._exporters:
                try:
                    result = exporter.export(data, timeout_millis=self._timeout_ms)
                except Exception as exc:  # an exporter bug must not take the agent down
                    log.warning("metrics export failed: %s", exc)
                    ok = False
                    continue
                if result is not MetricExportResult.SUCCESS:
                    log.debug("metrics exporter %s reported failure", type(exporter).__name__)
                    ok = False
        return ok

    def _run_periodic(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            self._export()

    def force_flush(self) -> bool:
        """Export now, synchronously; ``True`` when every exporter accepted the data."""
        if self._closed or not self._on:
            return True
        return self._export()

    def shutdown(self) -> bool:
        """Stop the export thread, export what is left and close the exporters. Idempotent."""
        if self._closed:
            return True
        self._closed = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self._timeout_ms / 1000)
        ok = self._export() if self._on else True
        for exporter in self._exporters:
            try:
                exporter.shutdown(timeout_millis=self._timeout_ms)
            except Exception as exc:
                log.debug("metrics exporter shutdown failed: %s", exc)
        return ok

    async def aflush(self) -> bool:
        """:meth:`force_flush` off the event loop (exporting does blocking network I/O)."""
        if self._closed or not self._exporters:
            return True
        return await asyncio.to_thread(self.force_flush)

    async def aclose(self) -> bool:
        """:meth:`shutdown` off the event loop."""
        if self._closed or not self._exporters:
            self._closed = True
            return True
        return await asyncio.to_thread(self.shutdown)


def _observe(hist: _Hist, bounds: tuple[float, ...], value: float) -> None:
    hist.count += 1
    hist.sum += value
    if value < hist.min:
        hist.min = value
    if value > hist.max:
        hist.max = value
    hist.buckets[bisect_left(bounds, value)] += 1


class TurnMetrics:
    """One turn's recorder: forwards to :class:`Metrics` and adds to :attr:`summary`.

    Made by :meth:`Metrics.for_turn` (also on a disabled ``Metrics``: the summary still fills
    in, it is what the CLI prints after a turn).
    """

    __slots__ = ("metrics", "summary")

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.summary = RuntimeSummary()

    def api_request(
        self, status: int | None, transport: str, duration_ms: float, *, error: bool = False
    ) -> None:
        self.summary.api_calls.add(duration_ms)
        self.metrics.api_request(status, transport, duration_ms, error=error)

    def stream_event(
        self, kind: str, transport: str, duration_ms: float, *, success: bool = True
    ) -> None:
        summary = self.summary
        (summary.websocket_events if transport == "websocket" else summary.stream_events).add(
            duration_ms
        )
        self.metrics.stream_event(kind, transport, duration_ms, success=success)

    def websocket_request(
        self, duration_ms: float, *, success: bool = True, connection_reused: bool = False
    ) -> None:
        self.summary.websocket_calls.add(duration_ms)
        self.metrics.websocket_request(
            duration_ms, success=success, connection_reused=connection_reused
        )

    def websocket_handshake(self, duration_ms: float, *, adopted_preconnect: bool) -> None:
        """A handshake this turn waited for; ``adopted_preconnect`` when it was the warmed one."""
        self.summary.handshakes.add(duration_ms)
        if adopted_preconnect:
            self.summary.preconnect_adopted = True

    def request_body(
        self, original_bytes: int, sent_bytes: int, *, compression_s: float | None = None
    ) -> None:
        """A request body as built and as sent; ``compression_s`` set when it was compressed."""
        summary = self.summary
        summary.body_bytes += original_bytes
        summary.sent_bytes += sent_bytes
        if compression_s is not None:
            summary.compressed_requests += 1
            summary.compression_ms += compression_s * 1000

    def first_token(self, ms_since_turn_start: float) -> None:
        """The first model output of the turn arrived; later calls are ignored."""
        if self.summary.time_to_first_token_ms is None:
            self.summary.time_to_first_token_ms = ms_since_turn_start

    def tool_call(self, tool: str, success: bool, duration_ms: float) -> None:
        self.summary.tool_calls.add(duration_ms)
        self.metrics.tool_call(tool, success, duration_ms)

    def fallback_to_http(self) -> None:
        self.metrics.fallback_to_http()

    def completed(self, e2e_ms: float, usage: TokenUsage | None) -> None:
        """The turn ended; time to first token comes from :meth:`first_token`."""
        self.metrics.turn_completed(e2e_ms, self.summary.time_to_first_token_ms, usage)


# -- exporters ----------------------------------------------------------------------------


def build_exporter(
    setting: OtlpHttpExporter | OtlpGrpcExporter, *, timeout_s: float = 5.0
) -> MetricExporter:
    """The OTLP exporter for a configured ``metrics_exporter``.

    OTLP/gRPC needs the optional ``opentelemetry-exporter-otlp-proto-grpc`` package; without it
    this raises a ConfigError saying what to install.
    """
    _require_otel_extra()
    if isinstance(setting, OtlpHttpExporter):
        tls = setting.tls
        ca = str(tls.ca_certificate) if tls and tls.ca_certificate else None
        cert = str(tls.client_certificate) if tls and tls.client_certificate else None
        key = str(tls.client_private_key) if tls and tls.client_private_key else None
        if setting.protocol == "json":
            from codex_engine.telemetry.otlp_json import OtlpJsonMetricExporter

            return OtlpJsonMetricExporter(
                setting.endpoint,
                headers=setting.headers,
                timeout_s=timeout_s,
                ca_certificate=ca,
                client_certificate=cert,
                client_private_key=key,
            )
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        return OTLPMetricExporter(
            endpoint=setting.endpoint,
            headers=dict(setting.headers),
            timeout=timeout_s,
            certificate_file=ca,
            client_certificate_file=cert,
            client_key_file=key,
        )
    try:
        module = importlib.import_module("opentelemetry.exporter.otlp.proto.grpc.metric_exporter")
        grpc = importlib.import_module("grpc")
    except ImportError:
        raise ConfigError(
            "`otel.metrics_exporter` is otlp-grpc but the gRPC exporter is not installed; "
            "pip install opentelemetry-exporter-otlp-proto-grpc, or use otlp-http"
        ) from None
    credentials: Any = None
    tls = setting.tls
    if tls is not None:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=_read(tls.ca_certificate),
            private_key=_read(tls.client_private_key),
            certificate_chain=_read(tls.client_certificate),
        )
    exporter: MetricExporter = module.OTLPMetricExporter(
        endpoint=setting.endpoint,
        insecure=setting.endpoint.startswith("http://") and credentials is None,
        credentials=credentials,
        headers=dict(setting.headers),
        timeout=timeout_s,
    )
    return exporter


def _require_otel_extra() -> None:
    """The OpenTelemetry SDK is an extra (it brings protobuf and another HTTP stack), needed
    only when ``[otel]`` names an exporter; without it, one line saying what to install."""
    try:
        importlib.import_module("opentelemetry.sdk.metrics.export")
        importlib.import_module("opentelemetry.exporter.otlp.proto.common.metrics_encoder")
    except ImportError:
        raise ConfigError(
            "`[otel]` configures a metrics exporter but the OpenTelemetry extra is not "
            "installed; pip install 'codex-engine[otel]', or remove "
            "`otel.metrics_exporter` from config.toml"
        ) from None


def _read(path: Any) -> bytes | None:
    if path is None:
        return None
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path} named in `otel.metrics_exporter.otlp-grpc.tls`: "
            f"{exc.strerror or exc}; check the path"
        ) from None
