"""When the daemon publishes (refeed.freshness): batched, yet never later than the bound."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from refeed.freshness import DEBOUNCE, MAX_SECONDS, Pending, publish_due

gaps = st.lists(st.floats(min_value=0.0, max_value=10.0), min_size=1, max_size=200)


def pending_at(*moments: float, entries: int = 1) -> Pending:
    """Changes at ``moments``, each storing ``entries`` entries."""
    pending = Pending()
    for moment in moments:
        pending.add(moment, entries)
    return pending


def test_nothing_pending_means_no_publish() -> None:
    assert publish_due(Pending(), max_delay=30.0) is None


def test_a_lone_change_is_published_after_the_debounce() -> None:
    assert publish_due(pending_at(100.0), max_delay=30.0) == 100.0 + DEBOUNCE


def test_a_burst_is_published_once_it_settles() -> None:
    assert publish_due(pending_at(100.0, 101.0, 102.5), max_delay=30.0) == 102.5 + DEBOUNCE


def test_changes_that_never_settle_are_published_at_the_bound() -> None:
    """One poll storing something every second, forever: the debounce alone would never
    fire (the bug the soak found); the bound does."""
    moments = [100.0 + second for second in range(60)]
    assert publish_due(pending_at(*moments), max_delay=30.0) == 130.0


def test_a_slow_publish_starts_early_enough_to_end_within_the_bound() -> None:
    pending = pending_at(*[100.0 + second for second in range(60)])
    assert publish_due(pending, max_delay=30.0, took=4.0) == 126.0
    # no more than half the bound is reserved: a publish that slow cannot keep it anyway
    assert publish_due(pending, max_delay=30.0, took=25.0) == 115.0


@given(gaps, st.floats(min_value=1.0, max_value=600.0), st.floats(min_value=0.0, max_value=60.0))
def test_no_change_waits_past_the_bound(gaps: list[float], bound: float, took: float) -> None:
    """However the changes come, the publish starts after the first and early enough that
    a publish taking ``took`` (up to half the bound) ends within the bound."""
    moments, now = [], 1000.0
    for gap in gaps:
        now += gap
        moments.append(now)
    due = publish_due(pending_at(*moments), max_delay=bound, took=took)
    assert due is not None
    assert moments[0] < due <= moments[0] + bound - min(took, bound / 2)
    assert due <= moments[-1] + DEBOUNCE


def test_taking_changes_leaves_none_and_putting_them_back_restores_them() -> None:
    pending = pending_at(100.2, 100.7, 103.0)
    taken = pending.take()
    assert pending.first is None
    assert publish_due(pending, max_delay=30.0) is None
    pending.add(110.0, 2)
    pending.put_back(taken)  # the publish failed
    assert pending.first == 100.2
    assert pending.last == 110.0
    assert pending.entries == 5
    assert dict(pending.stored) == {100: 2, 103: 1, 110: 2}


def test_lags_are_counted_per_entry_from_the_second_each_was_stored() -> None:
    pending = pending_at(100.0, 100.5, entries=3)
    pending.add(104.9, 0)  # a change that stored nothing (a reload) has no entries to lag
    assert list(pending.lags(published=112.0)) == [(12.0, 6)]
    assert pending.entries == 6
    assert pending.age(now=112.0) == 12.0
    assert Pending().age(now=112.0) == 0.0


def test_pending_changes_stay_bounded_when_nothing_is_published_for_hours() -> None:
    pending = Pending()
    for second in range(3 * MAX_SECONDS):
        pending.add(float(second), 1)
    assert len(pending.stored) == MAX_SECONDS
    assert pending.entries == 3 * MAX_SECONDS
    assert pending.first == 0.0  # the oldest change still says how long it has waited
