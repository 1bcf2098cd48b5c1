"""OTLP/HTTP with JSON bodies (`protocol = "json"`), which the SDK's HTTP exporter lacks."""

from __future__ import annotations

import importlib
import logging
import ssl
from collections.abc import Mapping
from typing import Any

import httpx
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData

__all__ = ["OtlpJsonMetricExporter"]

log = logging.getLogger(__name__)


class OtlpJsonMetricExporter(MetricExporter):
    """Posts metrics as OTLP/JSON.

    Uses the SDK's protobuf encoding and protobuf's JSON mapping with enum numbers, which is
    the OTLP/JSON encoding for metrics (they carry no trace or span ids).
    """

    def __init__(
        self,
        endpoint: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout_s: float = 5.0,
        ca_certificate: str | None = None,
        client_certificate: str | None = None,
        client_private_key: str | None = None,
    ) -> None:
        super().__init__()
        self._endpoint = endpoint
        verify: Any = True
        if ca_certificate:
            verify = ssl.create_default_context(cafile=ca_certificate)
            if client_certificate:
                verify.load_cert_chain(client_certificate, client_private_key)
        self._client = httpx.Client(
            timeout=timeout_s,
            verify=verify,
            headers={**(headers or {}), "Content-Type": "application/json"},
        )

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        # protobuf ships no type stubs; the module is only needed here.
        json_format: Any = importlib.import_module("google.protobuf.json_format")
        message = encode_metrics(metrics_data)
        body: str = json_format.MessageToJson(message, use_integers_for_enums=True, indent=None)
        try:
            response = self._client.post(self._endpoint, content=body.encode())
        except httpx.HTTPError as exc:
            log.warning("metrics export to %s failed: %s", self._endpoint, exc)
            return MetricExportResult.FAILURE
        if response.is_success:
            return MetricExportResult.SUCCESS
        log.warning("metrics export to %s answered HTTP %d", self._endpoint, response.status_code)
        return MetricExportResult.FAILURE

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._client.close()
