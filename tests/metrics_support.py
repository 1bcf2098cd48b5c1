"""Helpers of the client metrics tests: an in-memory metrics pipeline (the ``exporter`` and
``metrics`` fixtures) and a client against the emulator that records into it."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

import pytest

from codex_engine.client.credentials import StaticCredentials
from codex_engine.client.model_client import ModelClient
from codex_engine.config.providers import ModelProviderInfo
from codex_engine.emulator import ResponsesEmulator
from codex_engine.protocol.items import user_message
from codex_engine.protocol.request import Prompt, RequestContext
from codex_engine.telemetry.metrics import Metrics
from codex_engine.telemetry.testing import InMemoryMetricExporter, MetricsSnapshot

__all__ = [
    "BEARER",
    "CTX",
    "PROMPT",
    "exported",
    "exporter_fixture",
    "metered_client",
    "metrics_fixture",
]

BEARER = "sk-metrics-test"
PROMPT = Prompt(input=[user_message("hello")], base_instructions="Be brief.")
CTX = RequestContext(model="gpt-5.1-codex", thread_id="thread-m")


# Named fixtures, so a test module imports them without its parameters shadowing the import.
@pytest.fixture(name="exporter")
def exporter_fixture() -> InMemoryMetricExporter:
    return InMemoryMetricExporter()


@pytest.fixture(name="metrics")
async def metrics_fixture(exporter: InMemoryMetricExporter) -> AsyncIterator[Metrics]:
    m = Metrics([exporter], export_interval_s=math.inf)
    yield m
    m.shutdown()


def metered_client(
    emulator: ResponsesEmulator,
    metrics: Metrics,
    *,
    websockets: bool,
    preconnect: bool = False,
    timing: bool = False,
    **provider_fields: Any,
) -> ModelClient:
    """A client of the emulator recording into ``metrics`` (provider fields as given)."""
    return ModelClient(
        provider=ModelProviderInfo(
            name="test",
            base_url=emulator.base_url,
            supports_websockets=websockets,
            **provider_fields,
        ),
        credentials=StaticCredentials(BEARER),
        thread_id=CTX.thread_id,
        enable_websockets=websockets,
        enable_preconnect=preconnect,
        include_timing_metrics=timing,
        metrics=metrics,
        env={},
    )


def exported(metrics: Metrics, exporter: InMemoryMetricExporter) -> MetricsSnapshot:
    assert metrics.force_flush()
    return exporter.latest()
