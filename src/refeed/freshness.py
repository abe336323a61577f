"""PURE: when the daemon publishes next, and how long stored entries waited for it.

Every poll that stores something makes the outputs stale. A publish waits
:data:`DEBOUNCE` after the latest such poll, so that a burst of polls is published
once — but the oldest change it has not published must be in the outputs within
``max_delay``: under continuous polling a debounce alone would push it back forever.

Times are seconds of a monotonic clock (``time.monotonic()``), never wall-clock time, so
a clock step cannot postpone or hurry a publish.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

DEBOUNCE = 2.0  # seconds without a new change before a publish, unless max_delay comes first
MAX_SECONDS = 3600  # seconds of storing times kept apart; later ones count under the last


@dataclass
class Pending:
    """The changes not published yet: how many entries were stored in each second
    (changes that store no entry, such as a reload, count 0), and the first and last
    moment of a change."""

    stored: dict[int, int] = field(default_factory=dict)  # whole second → entries
    first: float | None = None
    last: float | None = None

    def add(self, at: float, entries: int = 0) -> None:
        """Record a change at ``at`` that stored ``entries`` entries."""
        second = int(at)
        if second not in self.stored and len(self.stored) >= MAX_SECONDS:
            second = max(self.stored)  # bounded: hours without a publish count too early
        self.stored[second] = self.stored.get(second, 0) + entries
        self.first = _earliest(self.first, at)
        self.last = _latest(self.last, at)

    def take(self) -> Pending:
        """Hand the changes over to a publish and start empty."""
        taken = Pending(self.stored, self.first, self.last)
        self.stored, self.first, self.last = {}, None, None
        return taken

    def put_back(self, taken: Pending) -> None:
        """Return changes a publish could not publish (it failed)."""
        for second, entries in taken.stored.items():
            self.stored[second] = self.stored.get(second, 0) + entries
        self.first = _earliest(self.first, taken.first)
        self.last = _latest(self.last, taken.last)

    @property
    def entries(self) -> int:
        """Entries stored by these changes."""
        return sum(self.stored.values())

    def lags(self, published: float) -> Iterator[tuple[float, int]]:
        """``(seconds waited, entries)`` when they are published at ``published``."""
        for second, entries in self.stored.items():
            if entries:
                yield max(0.0, published - second), entries

    def age(self, now: float) -> float:
        """How long the oldest of these changes has waited (0 without any)."""
        return 0.0 if self.first is None else max(0.0, now - self.first)


def _earliest(one: float | None, other: float | None) -> float | None:
    return min((moment for moment in (one, other) if moment is not None), default=None)


def _latest(one: float | None, other: float | None) -> float | None:
    return max((moment for moment in (one, other) if moment is not None), default=None)


def publish_due(pending: Pending, max_delay: float, took: float = 0.0,
                debounce: float = DEBOUNCE) -> float | None:
    """When to start publishing ``pending`` (``None``: nothing to publish): ``debounce``
    after the last change, and early enough that the first is in the outputs within
    ``max_delay`` if the publish takes as long as the last one ``took`` (up to half the
    bound: a publish slower than that cannot keep it anyway)."""
    if pending.first is None or pending.last is None:
        return None
    return min(pending.last + debounce, pending.first + max_delay - min(took, max_delay / 2))
