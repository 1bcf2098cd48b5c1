"""The `[otel]` config table as typed settings (SPEC §8), validated into one-line ConfigErrors.

Unknown keys at the top of `[otel]` are ignored (other Codex versions add some); inside an
exporter table they are errors, so a misspelt `endpoint` does not silently drop the exporter.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit, urlunsplit

import msgspec

from codex_engine.errors import ConfigError
from codex_engine.protocol.secret_repr import SecretRepr

__all__ = [
    "DEFAULT_ENVIRONMENT",
    "ExporterSetting",
    "OtelSettings",
    "OtlpGrpcExporter",
    "OtlpHttpExporter",
    "OtlpTls",
    "parse_otel_settings",
]

DEFAULT_ENVIRONMENT = "dev"
_METRICS_PATH = "/v1/metrics"


class OtlpTls(msgspec.Struct, frozen=True):
    """Custom trust and client certificate for an OTLP endpoint (absolute paths)."""

    ca_certificate: Path | None = None
    client_certificate: Path | None = None
    client_private_key: Path | None = None


class OtlpHttpExporter(SecretRepr, msgspec.Struct, frozen=True):
    """`{otlp-http = {endpoint, headers, protocol, tls}}`. `endpoint` is the full signal URL.
    ``headers`` usually carry the collector's credentials: they stay out of ``repr``."""

    secret_fields: ClassVar[frozenset[str]] = frozenset({"headers"})

    endpoint: str
    headers: Mapping[str, str] = msgspec.field(default_factory=dict)
    protocol: Literal["binary", "json"] = "binary"
    tls: OtlpTls | None = None


class OtlpGrpcExporter(SecretRepr, msgspec.Struct, frozen=True):
    """`{otlp-grpc = {endpoint, headers, tls}}`; ``headers`` stay out of ``repr``."""

    secret_fields: ClassVar[frozenset[str]] = frozenset({"headers"})

    endpoint: str
    headers: Mapping[str, str] = msgspec.field(default_factory=dict)
    tls: OtlpTls | None = None


#: "none" exports nothing; "statsig" is the reference's built-in analytics sink, which
#: codex-engine does not have, so it also exports nothing (accepted so existing files load).
ExporterSetting = Literal["none", "statsig"] | OtlpHttpExporter | OtlpGrpcExporter


class OtelSettings(msgspec.Struct, frozen=True):
    """Validated `[otel]`. Only `metrics_exporter` drives codex-engine today; the log and trace
    exporters are parsed (so mistakes are reported) but not used yet."""

    environment: str = DEFAULT_ENVIRONMENT
    log_user_prompt: bool = False
    exporter: ExporterSetting = "none"
    trace_exporter: ExporterSetting = "none"
    metrics_exporter: ExporterSetting = "statsig"

    @property
    def user_metrics_exporter(self) -> OtlpHttpExporter | OtlpGrpcExporter | None:
        """The OTLP metrics exporter the user configured, if any."""
        exporter = self.metrics_exporter
        return exporter if isinstance(exporter, OtlpHttpExporter | OtlpGrpcExporter) else None


def parse_otel_settings(
    raw: Mapping[str, Any] | None,
    *,
    codex_home: Path | None = None,
    source: str = "config.toml",
) -> OtelSettings:
    """Validate ``Config.otel``. Relative certificate paths resolve against ``codex_home``."""
    if not raw:
        return OtelSettings()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"`otel` in {source} must be a table, got {_short(raw)}; write [otel]")
    environment = raw.get("environment", DEFAULT_ENVIRONMENT)
    if not isinstance(environment, str) or not environment.strip():
        raise ConfigError(
            f"invalid `otel.environment` in {source}: expected a non-empty string, got "
            f'{_short(environment)}; write environment = "dev" (or "prod", …)'
        )
    log_user_prompt = raw.get("log_user_prompt", False)
    if not isinstance(log_user_prompt, bool):
        raise ConfigError(
            f"invalid `otel.log_user_prompt` in {source}: expected true or false, got "
            f"{_short(log_user_prompt)}"
        )
    ctx = _Ctx(source=source, codex_home=codex_home)
    return OtelSettings(
        environment=environment.strip(),
        log_user_prompt=log_user_prompt,
        exporter=_exporter(raw.get("exporter", "none"), "otel.exporter", ctx, signal=None),
        trace_exporter=_exporter(
            raw.get("trace_exporter", "none"), "otel.trace_exporter", ctx, signal=None
        ),
        metrics_exporter=_exporter(
            raw.get("metrics_exporter", "statsig"),
            "otel.metrics_exporter",
            ctx,
            signal=_METRICS_PATH,
        ),
    )


class _Ctx(msgspec.Struct, frozen=True):
    source: str
    codex_home: Path | None


_EXPECTED = (
    'expected "none", "statsig", { otlp-http = { endpoint = "…" } } or '
    '{ otlp-grpc = { endpoint = "…" } }'
)


def _exporter(value: Any, key: str, ctx: _Ctx, *, signal: str | None) -> ExporterSetting:
    where = f"`{key}` in {ctx.source}"
    if value == "none" or value == "statsig":
        return "none" if value == "none" else "statsig"
    if isinstance(value, str):
        if value in ("otlp-http", "otlp-grpc"):
            raise ConfigError(
                f'invalid {where}: "{value}" needs an endpoint; write '
                f'{key.rsplit(".", 1)[-1]} = {{ {value} = {{ endpoint = "https://…" }} }}'
            )
        raise ConfigError(f"invalid {where}: {_EXPECTED}, got {_short(value)}")
    if not isinstance(value, Mapping) or len(value) != 1:
        raise ConfigError(f"invalid {where}: {_EXPECTED}, got {_short(value)}")
    ((kind, table),) = value.items()
    if kind not in ("otlp-http", "otlp-grpc"):
        raise ConfigError(f"invalid {where}: unknown exporter {kind!r}; use otlp-http or otlp-grpc")
    key = f"{key}.{kind}"
    where = f"`{key}` in {ctx.source}"
    if not isinstance(table, Mapping):
        raise ConfigError(
            f'invalid {where}: expected a table like {{ endpoint = "https://…" }}, got '
            f"{_short(table)}"
        )
    allowed = {"endpoint", "headers", "tls"} | ({"protocol"} if kind == "otlp-http" else set())
    unknown = sorted(str(k) for k in table if k not in allowed)
    if unknown:
        raise ConfigError(
            f"invalid {where}: unknown key {unknown[0]!r}; allowed keys are "
            f"{', '.join(sorted(allowed))}"
        )
    endpoint = _endpoint(table.get("endpoint"), key, ctx, signal if kind == "otlp-http" else None)
    headers = _headers(table.get("headers", {}), key, ctx)
    tls = _tls(table.get("tls"), key, ctx)
    if kind == "otlp-grpc":
        return OtlpGrpcExporter(endpoint=endpoint, headers=headers, tls=tls)
    protocol = table.get("protocol", "binary")
    if protocol not in ("binary", "json"):
        raise ConfigError(
            f'invalid `{key}.protocol` in {ctx.source}: expected "binary" or "json", got '
            f"{_short(protocol)}"
        )
    return OtlpHttpExporter(
        endpoint=endpoint,
        headers=headers,
        protocol="binary" if protocol == "binary" else "json",
        tls=tls,
    )


def _endpoint(value: Any, key: str, ctx: _Ctx, signal: str | None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f'invalid `{key}.endpoint` in {ctx.source}: expected a URL like "https://host:4318", '
            f"got {_short(value)}"
        )
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"invalid `{key}.endpoint` in {ctx.source}: {value!r} is not an http(s) URL; write "
            'e.g. "http://localhost:4318"'
        )
    if signal is not None and parts.path in ("", "/"):
        # A bare collector address gets the standard OTLP/HTTP metrics path, so both
        # "http://collector:4318" and "http://collector:4318/v1/metrics" work.
        parts = parts._replace(path=signal)
    return urlunsplit(parts)


def _headers(value: Any, key: str, ctx: _Ctx) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ConfigError(
            f"invalid `{key}.headers` in {ctx.source}: expected a table of strings like "
            f'{{ "x-api-key" = "…" }}, got {_short(value)}'
        )
    return dict(value)


def _tls(value: Any, key: str, ctx: _Ctx) -> OtlpTls | None:
    if value is None:
        return None
    names = ("ca-certificate", "client-certificate", "client-private-key")
    if not isinstance(value, Mapping) or any(k not in names for k in value):
        raise ConfigError(
            f"invalid `{key}.tls` in {ctx.source}: expected a table with "
            f"{', '.join(names)}, got {_short(value)}"
        )
    paths: list[Path | None] = []
    for name in names:
        path = value.get(name)
        if path is None:
            paths.append(None)
            continue
        if not isinstance(path, str) or not path:
            raise ConfigError(
                f"invalid `{key}.tls.{name}` in {ctx.source}: expected a file path, got "
                f"{_short(path)}"
            )
        resolved = Path(path).expanduser()
        if not resolved.is_absolute() and ctx.codex_home is not None:
            resolved = ctx.codex_home / resolved
        paths.append(resolved)
    ca, cert, private_key = paths
    if (cert is None) != (private_key is None):
        raise ConfigError(
            f"invalid `{key}.tls` in {ctx.source}: client-certificate and client-private-key "
            "go together; set both or neither"
        )
    return OtlpTls(ca_certificate=ca, client_certificate=cert, client_private_key=private_key)


def _short(value: Any) -> str:
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."
