"""Prometheus metrics of the daemon (prometheus-client), served at ``/metrics``.

A registry per daemon — not the library's global one — so several daemons (or tests) in
one process never collide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from refeed.model import PollResult
from refeed.publish import PublishReport


@dataclass
class Metrics:
    """The daemon's counters, gauges and histograms."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        registry = self.registry
        self.polls = Counter("refeed_polls", "Polls by outcome", ["outcome"], registry=registry)
        self.poll_seconds = Histogram(
            "refeed_poll_seconds", "Time to fetch, parse and store one source",
            registry=registry, buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.entries = Counter("refeed_entries", "Entries stored, by what they were",
                               ["kind"], registry=registry)
        self.failing = Gauge("refeed_sources_failing", "Sources whose last poll failed",
                             registry=registry)
        self.publish_seconds = Histogram("refeed_publish_seconds", "Time to publish outputs",
                                         registry=registry)
        self.outputs = Gauge("refeed_output_files", "Files in the output folder",
                             registry=registry)
        self.publish_lag = Histogram(
            "refeed_publish_lag_seconds",
            "Time from an entry's storing to the end of the publish that includes it",
            registry=registry,
            buckets=(1, 2, 3, 5, 7.5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 60, 75, 90, 120, 180,
                     300, 600, 1800),
        )
        self.unpublished = Gauge(
            "refeed_publish_pending_seconds",
            "Age of the oldest change not published yet (0: the outputs are current)",
            registry=registry,
        )

    def record_poll(self, result: PollResult, failing: int) -> None:
        """Count one source's poll."""
        self.polls.labels(result.status).inc()
        self.poll_seconds.observe(result.elapsed)
        counts = result.counts
        for kind, number in (("new", counts.new), ("updated", counts.updated),
                             ("duplicate", counts.duplicates)):
            if number:
                self.entries.labels(kind).inc(number)
        self.failing.set(failing)

    def record_publish(self, report: PublishReport, seconds: float,
                       lags: Iterable[tuple[float, int]]) -> None:
        """Count one publish, and how long its ``(lag, entries)`` had waited for it."""
        self.publish_seconds.observe(seconds)
        self.outputs.set(len(report.written) + report.unchanged)
        for lag, entries in lags:
            for _ in range(entries):
                self.publish_lag.observe(lag)

    def watch_unpublished(self, age: Callable[[], float]) -> None:
        """Read the age of the oldest unpublished change from ``age`` at each scrape."""
        self.unpublished.set_function(age)
