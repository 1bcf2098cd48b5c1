"""Recording the runtime's metrics: :class:`Metrics` aggregates in process and exports on a
background thread. The instruments are in ``telemetry/instruments.py``, OTLP data and exporters
in ``telemetry/export.py``, the per-turn recorder in ``telemetry/turn_metrics.py``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from codex_engine._version import __version__
from codex_engine.telemetry.export import build_exporter, metrics_data
from codex_engine.telemetry.instruments import (
    API_REQUEST,
    API_REQUEST_MS,
    FALLBACK,
    INSTRUMENTS,
    PREWARM_AGE_MS,
    PREWARM_MS,
    SERVER_TIMING,
    SERVICE_NAME,
    SSE_EVENT,
    SSE_EVENT_MS,
    TOOL_CALL,
    TOOL_CALL_MS,
    TURN_E2E_MS,
    TURN_TOKENS,
    TURN_TTFT_MS,
    WS_EVENT,
    WS_EVENT_MS,
    WS_REQUEST,
    WS_REQUEST_MS,
    HistogramSeries,
    InstrumentSpec,
)
from codex_engine.telemetry.settings import OtelSettings
from codex_engine.telemetry.turn_metrics import TurnMetrics

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics.export import MetricExporter, MetricsData
    from opentelemetry.sdk.resources import Resource

    from codex_engine.protocol.events import TokenUsage
    from codex_engine.protocol.server_timing import ServerTiming

# INSTRUMENTS, SERVICE_NAME, InstrumentSpec, build_exporter and TurnMetrics stay importable
# from here.
__all__ = [
    "INSTRUMENTS",
    "SERVICE_NAME",
    "InstrumentSpec",
    "Metrics",
    "TurnMetrics",
    "build_exporter",
]

log = logging.getLogger(__name__)

_TRUE, _FALSE = "true", "false"


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
        self._hists: dict[str, dict[tuple[str, ...], HistogramSeries]] = {}
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
        """A recorder for one turn that also fills that turn's runtime summary."""
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
                hist = series[key] = HistogramSeries(len(spec.bounds) + 1)
            hist.observe(spec.bounds, value)

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
                hist = hists[key] = HistogramSeries(len(bounds) + 1)
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

    def server_timing(self, timing: ServerTiming) -> None:
        """The server's timing of one response: each value it sent to its histogram."""
        if self._on:
            for name, value in timing.values().items():
                self._observe(SERVER_TIMING[name], (), value)

    # -- export -------------------------------------------------------------------------------

    def collect(self) -> MetricsData:
        """Everything recorded so far as cumulative OTel data (what an export sends)."""
        if self._resource is None:
            from opentelemetry.sdk.resources import Resource

            self._resource = Resource.create(self._resource_attributes)
        with self._lock:
            return metrics_data(
                self._resource,
                self.common_attributes,
                self._counters,
                self._hists,
                start_ns=self._start_ns,
                now_ns=time.time_ns(),
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
