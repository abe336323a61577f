"""Polling times as pure decisions: interval, backoff, server hints, bounds, jitter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from refeed.cadence import (
    Cadence,
    activity_interval,
    cache_lifetime,
    feed_hint,
    next_due,
    retry_after,
)
from refeed.errors import HTTPStatusError

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CADENCE = Cadence(interval=timedelta(minutes=15), min_interval=timedelta(minutes=5),
                  max_interval=timedelta(hours=6), max_backoff=timedelta(hours=24))


def delay(failures: int, hint: timedelta | None = None, key: str = "up-uk") -> timedelta:
    """How long after NOW the next poll is."""
    return next_due(NOW, CADENCE, failures=failures, hint=hint, jitter_key=key) - NOW


def around(expected: timedelta) -> tuple[timedelta, timedelta]:
    """The jitter band (+-10 %) around ``expected``."""
    return expected * 0.9, expected * 1.1


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, timedelta(minutes=15)), (1, timedelta(minutes=15)), (2, timedelta(minutes=30)),
     (3, timedelta(hours=1)), (7, timedelta(hours=16)), (8, timedelta(hours=24)),
     (40, timedelta(hours=24))],
)
def test_failures_back_off_exponentially_up_to_the_cap(
    failures: int, expected: timedelta
) -> None:
    low, high = around(expected)
    assert low <= delay(failures) <= high


def test_hints_only_push_later_and_stay_within_bounds() -> None:
    low, high = around(timedelta(hours=2))
    assert low <= delay(0, hint=timedelta(hours=2)) <= high
    assert around(timedelta(minutes=15))[0] <= delay(0, hint=timedelta(seconds=10))
    low, high = around(timedelta(hours=6))  # max_interval caps a success
    assert low <= delay(0, hint=timedelta(days=30)) <= high


def test_jitter_is_fixed_per_source_and_spreads_sources() -> None:
    assert delay(0, key="a") == delay(0, key="a")
    assert len({delay(0, key=f"source-{n}") for n in range(20)}) > 10


@pytest.mark.parametrize(
    ("value", "expected"),
    [("120", timedelta(minutes=2)), ("Wed, 25 Nov 2026 13:00:00 GMT", timedelta(hours=1)),
     ("Wed, 25 Nov 2026 11:00:00 GMT", None), ("soon", None), (None, None)],
)
def test_retry_after(value: str | None, expected: timedelta | None) -> None:
    assert retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"Cache-Control": "public, max-age=3600"}, timedelta(hours=1)),
     ({"cache-control": "s-maxage=60"}, timedelta(minutes=1)),
     ({"Cache-Control": "no-cache, max-age=3600"}, None),
     ({"Expires": "Wed, 25 Nov 2026 12:30:00 GMT"}, timedelta(minutes=30)),
     ({}, None)],
)
def test_cache_lifetime(headers: dict[str, str], expected: timedelta | None) -> None:
    assert cache_lifetime(headers, NOW) == expected


def test_status_errors_carry_the_servers_hints() -> None:
    error = HTTPStatusError(429, "Too Many Requests", "https://x.example/",
                            {"retry-after": "90"})
    assert retry_after(error.hints["retry-after"], NOW) == timedelta(seconds=90)


@pytest.mark.parametrize(
    ("feed", "expected"),
    [({"ttl": "60"}, timedelta(hours=1)),
     ({"sy_updateperiod": "daily", "sy_updatefrequency": "4"}, timedelta(hours=6)),
     ({"sy_updateperiod": "hourly"}, timedelta(hours=1)),
     ({"ttl": "30", "sy_updateperiod": "daily"}, timedelta(days=1)),
     ({"ttl": "soon", "sy_updateperiod": "fortnightly"}, None), ({}, None)],
)
def test_feed_hints(feed: dict[str, str], expected: timedelta | None) -> None:
    assert feed_hint(feed) == expected


def test_activity_interval_is_a_quarter_of_the_median_gap() -> None:
    weekly = [NOW - timedelta(weeks=n) for n in range(6)]
    assert activity_interval(weekly) == timedelta(weeks=1) / 4
    assert activity_interval(weekly[:2]) is None  # one gap is no pace
    hourly_with_a_pause = [NOW - timedelta(hours=n) for n in range(8)] + [
        NOW - timedelta(days=20)]
    assert activity_interval(hourly_with_a_pause) == timedelta(minutes=15)
    low, high = around(timedelta(hours=6))
    assert low <= delay(0, hint=activity_interval(weekly)) <= high  # max_interval wins
