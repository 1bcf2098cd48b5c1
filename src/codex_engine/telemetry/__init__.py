"""Telemetry: `[otel]` settings, the runtime's metrics (OTLP export) and per-turn summaries.

Submodules are imported directly; the OTel SDK loads only when metrics are exported.
"""
