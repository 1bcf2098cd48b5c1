"""Cost of recording metrics per streamed event, enabled vs disabled, against the OTel SDK.

Reproduce: ``.venv/bin/python bench/metrics_overhead.py [--events N] [--repeats R]`` from the
repo root. Prints the best and median nanoseconds per event of each recording path, and the
cost of one export snapshot (``collect``) with a realistic number of series.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from codex_engine.telemetry.metrics import Metrics
from codex_engine.telemetry.testing import InMemoryMetricExporter

KINDS = (
    "response.created",
    "response.output_item.added",
    "response.output_text.delta",
    "response.output_text.delta",
    "response.output_text.delta",
    "response.output_item.done",
    "response.completed",
)


def _per_event_ns(
    record: Callable[[str, str, float], None], events: int, repeats: int
) -> list[float]:
    kinds = [KINDS[i % len(KINDS)] for i in range(events)]
    results = []
    for _ in range(repeats):
        started = time.perf_counter_ns()
        for kind in kinds:
            record(kind, "http", 0.8)
        results.append((time.perf_counter_ns() - started) / events)
    return results


def _otel_sdk_recorder() -> Callable[[str, str, float], None]:
    # What recording straight into SDK instruments would cost: the design this module avoids.
    provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    meter = provider.get_meter("bench")
    counter = meter.create_counter("codex.sse_event", unit="{event}")
    histogram = meter.create_histogram("codex.sse_event.duration_ms", unit="ms")

    def record(kind: str, transport: str, duration_ms: float) -> None:
        attributes = {"kind": kind, "success": "true"}
        counter.add(1, attributes)
        histogram.record(duration_ms, attributes)

    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    enabled = Metrics([InMemoryMetricExporter()], export_interval_s=math.inf)
    disabled = Metrics.disabled()
    paths: dict[str, Callable[[str, str, float], None]] = {
        "Metrics.stream_event, disabled": disabled.stream_event,
        "Metrics.stream_event, enabled": enabled.stream_event,
        "TurnMetrics.stream_event, disabled": disabled.for_turn().stream_event,
        "TurnMetrics.stream_event, enabled": enabled.for_turn().stream_event,
        "OTel SDK counter+histogram (reference)": _otel_sdk_recorder(),
    }
    events = args.events
    for label, record in paths.items():
        n = events // 10 if label.startswith("OTel") else events
        runs = _per_event_ns(record, n, args.repeats)
        print(
            f"{label:42} best {min(runs):8.1f} ns/event  median {statistics.median(runs):8.1f}"
            " ns/event"
        )

    # An export snapshot after a busy session: every instrument with a few series.
    for i in range(50):
        enabled.api_request(200 if i % 7 else 503, "http", 100.0 + i)
        enabled.tool_call("shell", i % 5 != 0, 20.0 + i)
        enabled.stream_event(KINDS[i % len(KINDS)], "websocket", 1.0)
    times = []
    for _ in range(args.repeats * 10):
        started = time.perf_counter_ns()
        enabled.collect()
        times.append((time.perf_counter_ns() - started) / 1000)
    print(f"{'collect() snapshot for one export':42} median {statistics.median(times):8.1f} µs")
    enabled.shutdown()


if __name__ == "__main__":
    main()
