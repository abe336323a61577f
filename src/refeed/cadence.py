"""PURE: when a source is polled next.

The configured interval is the base. Hints from the server only ever push the next poll
later — ``Cache-Control: max-age`` / ``Expires`` on a success, ``Retry-After`` on a 429 or
503 — and every result stays within ``[min_interval, max_interval]``. Failures back off
exponentially (interval, 2x, 4x… up to ``max_backoff``) and one success resets them: a
source is never abandoned, only tried less often. A small jitter, fixed per source and
attempt, keeps sources that share an interval from polling in lockstep.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from itertools import pairwise

JITTER = 0.1  # +-10 % of the delay


@dataclass(frozen=True)
class Cadence:
    """The bounds a source's polling moves within."""

    interval: timedelta
    min_interval: timedelta = timedelta(minutes=1)
    max_interval: timedelta = timedelta(hours=24)
    max_backoff: timedelta = timedelta(hours=24)


def next_due(
    now: datetime,
    cadence: Cadence,
    *,
    failures: int,
    hint: timedelta | None = None,
    jitter_key: str = "",
) -> datetime:
    """The next poll time after a poll that left ``failures`` consecutive failures, with
    the server's ``hint`` (Retry-After, max-age) if it gave one."""
    if failures > 0:
        factor: int = 2 ** min(failures - 1, 30)
        delay = min(cadence.interval * factor, cadence.max_backoff)
    else:
        delay = cadence.interval
    if hint is not None:
        delay = max(delay, hint)
    ceiling = cadence.max_backoff if failures > 0 else cadence.max_interval
    delay = min(max(delay, cadence.min_interval), max(ceiling, cadence.min_interval))
    return now + delay * (1 + _jitter(f"{jitter_key}:{failures}"))


def _jitter(key: str) -> float:
    """A deterministic value in [-JITTER, +JITTER] for ``key``."""
    digest = hashlib.blake2b(key.encode(), digest_size=4).digest()
    return (int.from_bytes(digest, "big") / 0xFFFFFFFF * 2 - 1) * JITTER


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A ``Retry-After`` header (seconds, or an HTTP date) as a delay from ``now``."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    return _until(value, now)


def cache_lifetime(headers: Mapping[str, str], now: datetime) -> timedelta | None:
    """How long the response may be cached: ``Cache-Control: max-age`` (``no-cache`` and
    ``no-store`` mean no hint), else ``Expires``."""
    lowered = {name.lower(): value for name, value in headers.items()}
    control = lowered.get("cache-control", "").lower()
    for directive in (part.strip() for part in control.split(",")):
        if directive in ("no-cache", "no-store"):
            return None
        name, _, number = directive.partition("=")
        if name.strip() in ("max-age", "s-maxage") and number.strip().isdigit():
            return timedelta(seconds=int(number.strip()))
    return _until(lowered.get("expires"), now)


def _until(date: str | None, now: datetime) -> timedelta | None:
    if not date:
        return None
    try:
        moment = parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delay = moment - now
    return delay if delay > timedelta(0) else None


SY_PERIODS = {
    "hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1),
    "monthly": timedelta(days=30), "yearly": timedelta(days=365),
}
ACTIVITY_SAMPLE = 10
ACTIVITY_SHARE = 4  # poll about four times per typical gap between two entries


def feed_hint(feed: Mapping[str, object]) -> timedelta | None:
    """How often the feed says it changes: RSS ``<ttl>`` (minutes), or
    ``sy:updatePeriod`` / ``sy:updateFrequency``; the longer of the two."""
    hints = []
    ttl = str(feed.get("ttl") or "").strip()
    if ttl.isdigit() and int(ttl) > 0:
        hints.append(timedelta(minutes=int(ttl)))
    period = SY_PERIODS.get(str(feed.get("sy_updateperiod") or "").strip().lower())
    frequency = str(feed.get("sy_updatefrequency") or "1").strip()
    if period is not None and frequency.isdigit() and int(frequency) > 0:
        hints.append(period / int(frequency))
    return max(hints, default=None)


def activity_interval(published: list[datetime]) -> timedelta | None:
    """An interval suited to how often a source publishes, from its entries' dates: a
    quarter of the median gap between its latest entries (``None`` with too few)."""
    latest = sorted(published, reverse=True)[:ACTIVITY_SAMPLE]
    gaps = sorted(newer - older for newer, older in pairwise(latest))
    if len(gaps) < 2:
        return None
    return gaps[len(gaps) // 2] / ACTIVITY_SHARE
