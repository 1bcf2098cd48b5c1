"""Turning aggregated values into OpenTelemetry ``MetricsData``, and the OTLP exporters
``[otel].metrics_exporter`` names. The OTel SDK (the ``otel`` extra) is imported on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from codex_engine._version import __version__
from codex_engine.errors import ConfigError
from codex_engine.telemetry.instruments import INSTRUMENTS, HistogramSeries
from codex_engine.telemetry.settings import OtlpGrpcExporter, OtlpHttpExporter

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics.export import MetricExporter, MetricsData
    from opentelemetry.sdk.resources import Resource

__all__ = ["build_exporter", "metrics_data", "require_otel_extra"]

Series = Mapping[tuple[str, ...], float]
HistSeries = Mapping[tuple[str, ...], HistogramSeries]


def metrics_data(
    resource: Resource,
    common: Mapping[str, str],
    counters: Mapping[str, Series],
    hists: Mapping[str, HistSeries],
    *,
    start_ns: int,
    now_ns: int,
) -> MetricsData:
    """Cumulative OTel data for every instrument with at least one series; each series' tag
    values (in the instrument's tag order) become its attributes, after ``common``."""
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
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope

    metrics: list[Metric] = []
    for spec in INSTRUMENTS.values():
        if spec.kind == "counter":
            series = counters.get(spec.name)
            if not series:
                continue
            numbers = [
                NumberDataPoint(
                    attributes={**common, **dict(zip(spec.tags, key, strict=True))},
                    start_time_unix_nano=start_ns,
                    time_unix_nano=now_ns,
                    value=value,
                )
                for key, value in series.items()
            ]
            data: Sum | Histogram = Sum(
                numbers, AggregationTemporality.CUMULATIVE, is_monotonic=True
            )
        else:
            hist_series = hists.get(spec.name)
            if not hist_series:
                continue
            points = [
                HistogramDataPoint(
                    attributes={**common, **dict(zip(spec.tags, key, strict=True))},
                    start_time_unix_nano=start_ns,
                    time_unix_nano=now_ns,
                    count=hist.count,
                    sum=hist.sum,
                    bucket_counts=list(hist.buckets),
                    explicit_bounds=list(spec.bounds),
                    min=hist.min,
                    max=hist.max,
                )
                for key, hist in hist_series.items()
            ]
            data = Histogram(points, AggregationTemporality.CUMULATIVE)
        metrics.append(Metric(spec.name, spec.description, spec.unit, data))
    scope = ScopeMetrics(
        scope=InstrumentationScope("codex_engine", __version__), metrics=metrics, schema_url=""
    )
    return MetricsData([ResourceMetrics(resource=resource, scope_metrics=[scope], schema_url="")])


def build_exporter(
    setting: OtlpHttpExporter | OtlpGrpcExporter, *, timeout_s: float = 5.0
) -> MetricExporter:
    """The OTLP exporter for a configured ``metrics_exporter``.

    OTLP/gRPC needs the optional ``opentelemetry-exporter-otlp-proto-grpc`` package; without it
    this raises a ConfigError saying what to install.
    """
    require_otel_extra()
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


def require_otel_extra() -> None:
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
