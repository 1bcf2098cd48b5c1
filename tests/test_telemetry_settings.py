"""The `[otel]` table: defaults, each exporter form, and one-line errors for bad values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codex_engine.errors import ConfigError
from codex_engine.telemetry.settings import (
    OtelSettings,
    OtlpGrpcExporter,
    OtlpHttpExporter,
    OtlpTls,
    parse_otel_settings,
)


def test_missing_table_gives_the_defaults() -> None:
    settings = parse_otel_settings({})
    assert settings == OtelSettings()
    assert settings.environment == "dev"
    assert settings.metrics_exporter == "statsig"
    assert settings.user_metrics_exporter is None


def test_otlp_http_with_a_bare_collector_address_gets_the_metrics_path() -> None:
    settings = parse_otel_settings(
        {
            "environment": "prod",
            "metrics_exporter": {
                "otlp-http": {"endpoint": "http://collector:4318", "headers": {"x-key": "k"}}
            },
        }
    )
    assert settings.environment == "prod"
    assert settings.metrics_exporter == OtlpHttpExporter(
        endpoint="http://collector:4318/v1/metrics", headers={"x-key": "k"}, protocol="binary"
    )
    assert settings.user_metrics_exporter is settings.metrics_exporter


def test_otlp_http_endpoint_with_a_path_is_kept_and_json_is_accepted() -> None:
    settings = parse_otel_settings(
        {
            "metrics_exporter": {
                "otlp-http": {"endpoint": "https://otel.example/custom/path", "protocol": "json"}
            }
        }
    )
    exporter = settings.metrics_exporter
    assert isinstance(exporter, OtlpHttpExporter)
    assert exporter.endpoint == "https://otel.example/custom/path"
    assert exporter.protocol == "json"


def test_otlp_grpc_and_tls_paths_resolve_against_codex_home(tmp_path: Path) -> None:
    settings = parse_otel_settings(
        {
            "metrics_exporter": {
                "otlp-grpc": {
                    "endpoint": "https://collector:4317",
                    "tls": {
                        "ca-certificate": "certs/ca.pem",
                        "client-certificate": "/abs/client.pem",
                        "client-private-key": "/abs/client.key",
                    },
                }
            }
        },
        codex_home=tmp_path,
    )
    assert settings.metrics_exporter == OtlpGrpcExporter(
        endpoint="https://collector:4317",
        tls=OtlpTls(
            ca_certificate=tmp_path / "certs/ca.pem",
            client_certificate=Path("/abs/client.pem"),
            client_private_key=Path("/abs/client.key"),
        ),
    )


def test_log_and_trace_exporters_are_parsed_too() -> None:
    settings = parse_otel_settings(
        {
            "log_user_prompt": True,
            "exporter": "none",
            "trace_exporter": {"otlp-http": {"endpoint": "http://c:4318/v1/traces"}},
            "metrics_exporter": "none",
            "span_attributes": {"ignored": "because newer versions have it"},
        }
    )
    assert settings.log_user_prompt is True
    assert settings.metrics_exporter == "none"
    assert isinstance(settings.trace_exporter, OtlpHttpExporter)
    assert settings.trace_exporter.endpoint == "http://c:4318/v1/traces"


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({"metrics_exporter": "prometheus"}, "otel.metrics_exporter"),
        ({"metrics_exporter": "otlp-http"}, "needs an endpoint"),
        ({"metrics_exporter": 3}, "otel.metrics_exporter"),
        ({"metrics_exporter": {"zipkin": {}}}, "unknown exporter 'zipkin'"),
        ({"metrics_exporter": {"otlp-http": {}}}, "otlp-http.endpoint"),
        ({"metrics_exporter": {"otlp-http": {"endpoint": "collector:4318"}}}, "http(s) URL"),
        ({"metrics_exporter": {"otlp-http": {"endpont": "http://c"}}}, "unknown key 'endpont'"),
        (
            {"metrics_exporter": {"otlp-grpc": {"endpoint": "http://c", "protocol": "json"}}},
            "unknown key 'protocol'",
        ),
        (
            {"metrics_exporter": {"otlp-http": {"endpoint": "http://c", "headers": {"k": 1}}}},
            "otlp-http.headers",
        ),
        (
            {"metrics_exporter": {"otlp-http": {"endpoint": "http://c", "protocol": "grpc"}}},
            "otlp-http.protocol",
        ),
        (
            {
                "metrics_exporter": {
                    "otlp-http": {"endpoint": "http://c", "tls": {"client-certificate": "c.pem"}}
                }
            },
            "set both or neither",
        ),
        ({"environment": ""}, "otel.environment"),
        ({"log_user_prompt": "yes"}, "otel.log_user_prompt"),
        ({"trace_exporter": "jaeger"}, "otel.trace_exporter"),
    ],
)
def test_bad_values_are_one_line_config_errors(raw: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_otel_settings(raw, source="/home/u/.codex/config.toml")
    message = str(info.value)
    assert needle in message
    assert "\n" not in message
    assert "/home/u/.codex/config.toml" in message
