"""Helpers for tests and benchmarks: an exporter that keeps exports in memory, and a flattened
view of exported metrics queried by name and attributes. Importing this loads the OTel SDK.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from opentelemetry.sdk.metrics.export import (
    Histogram,
    HistogramDataPoint,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    NumberDataPoint,
    Sum,
)

__all__ = ["InMemoryMetricExporter", "MetricsSnapshot", "SeriesValue"]


class SeriesValue(msgspec.Struct, frozen=True):
    """One exported series: a counter's value, or a histogram's count/sum/buckets."""

    name: str
    unit: str
    attributes: Mapping[str, Any]
    value: float = 0.0
    count: int = 0
    sum: float = 0.0
    bucket_counts: Sequence[int] = ()
    explicit_bounds: Sequence[float] = ()


class MetricsSnapshot:
    """Flattened view of a :class:`MetricsData`, queried by metric name and attribute subset."""

    def __init__(self, data: MetricsData | None) -> None:
        self.series: list[SeriesValue] = []
        self.resource: dict[str, Any] = {}
        for resource_metrics in data.resource_metrics if data is not None else ():
            self.resource.update(resource_metrics.resource.attributes)
            for scope in resource_metrics.scope_metrics:
                for metric in scope.metrics:
                    self._add(metric.name, metric.unit or "", metric.data)

    def _add(self, name: str, unit: str, data: object) -> None:
        if isinstance(data, Sum):
            for point in data.data_points:
                assert isinstance(point, NumberDataPoint)
                attrs = dict(point.attributes or {})
                self.series.append(SeriesValue(name, unit, attrs, value=point.value))
        elif isinstance(data, Histogram):
            for hist in data.data_points:
                assert isinstance(hist, HistogramDataPoint)
                self.series.append(
                    SeriesValue(
                        name,
                        unit,
                        dict(hist.attributes or {}),
                        count=hist.count,
                        sum=hist.sum,
                        bucket_counts=tuple(hist.bucket_counts),
                        explicit_bounds=tuple(hist.explicit_bounds),
                    )
                )

    def names(self) -> set[str]:
        return {s.name for s in self.series}

    def find(self, name: str, **attributes: Any) -> list[SeriesValue]:
        """Series of ``name`` whose attributes include every given ``key=value``."""
        return [
            s
            for s in self.series
            if s.name == name and all(s.attributes.get(k) == v for k, v in attributes.items())
        ]

    def value(self, name: str, **attributes: Any) -> float:
        """Sum of matching counter values (0 when nothing matches)."""
        return sum(s.value for s in self.find(name, **attributes))

    def count(self, name: str, **attributes: Any) -> int:
        """Total observations of matching histogram series."""
        return sum(s.count for s in self.find(name, **attributes))

    def total(self, name: str, **attributes: Any) -> float:
        """Sum of observed values of matching histogram series."""
        return sum(s.sum for s in self.find(name, **attributes))

    def unit(self, name: str) -> str | None:
        found = self.find(name)
        return found[0].unit if found else None


class InMemoryMetricExporter(MetricExporter):
    """Keeps every export in memory: plug it into ``Metrics`` in tests instead of a network."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.exports: list[MetricsData] = []
        self.shut_down = False

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        with self._lock:
            self.exports.append(metrics_data)
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.shut_down = True

    def latest(self) -> MetricsSnapshot:
        """The last export, flattened (cumulative, so it holds everything recorded so far)."""
        with self._lock:
            return MetricsSnapshot(self.exports[-1] if self.exports else None)
