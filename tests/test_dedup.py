"""The pure insert / update / duplicate decision, with plain values."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from refeed.dedup import decide, entry_revision, find_original
from refeed.model import Decision, Entry, StoredEntry

NOON = datetime(2026, 10, 4, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=72)


def make_entry(**changes: object) -> Entry:
    """An English entry of source ``a``; ``changes`` override fields."""
    entry = Entry(
        source_id="a", key="guid-1", guid="guid-1", link="https://x.example/story",
        canonical_url="https://x.example/story", title="Talks resume", summary="<p>s</p>",
        content="", authors=("Ann",), published=NOON, updated=NOON, dated=True,
        tags=("negotiations",), language="en", enclosures=(), content_hash="h1",
    )
    return replace(entry, **changes)  # type: ignore[arg-type]


def stored(entry_id: int, **changes: object) -> StoredEntry:
    """A stored row of source ``b`` that matches :func:`make_entry` by URL and hash."""
    row = StoredEntry(
        id=entry_id, source_id="b", key=f"b-{entry_id}", revision="r", published=NOON,
        canonical_url="https://x.example/story", content_hash="h1", duplicate_of=None,
    )
    return replace(row, **changes)  # type: ignore[arg-type]


def test_new_entry_without_candidates() -> None:
    assert decide(make_entry(), "r", None, [], WINDOW) == Decision("new")


def test_existing_entry_same_revision_is_unchanged() -> None:
    entry = make_entry()
    existing = replace(stored(7, source_id="a", key="guid-1"), revision=entry_revision(entry))
    assert decide(entry, entry_revision(entry), existing, [], WINDOW) == Decision(
        "unchanged", existing_id=7
    )


def test_existing_entry_other_revision_is_updated() -> None:
    entry = make_entry()
    existing = stored(7, source_id="a", key="guid-1", revision="old")
    assert decide(entry, entry_revision(entry), existing, [stored(3)], WINDOW) == Decision(
        "updated", existing_id=7
    )


def test_same_canonical_url_in_another_source_is_a_duplicate_of_the_first_seen() -> None:
    candidates = [stored(9), stored(4), stored(6)]
    assert decide(make_entry(), "r", None, candidates, WINDOW) == Decision(
        "duplicate", duplicate_of=4
    )


def test_duplicate_of_a_duplicate_points_at_the_original() -> None:
    assert find_original(make_entry(), [stored(5, duplicate_of=2)], WINDOW) == 2


def test_same_source_is_never_its_own_duplicate() -> None:
    assert find_original(make_entry(), [stored(5, source_id="a")], WINDOW) is None


@pytest.mark.parametrize(
    ("gap", "expected"), [(timedelta(hours=71), 5), (timedelta(hours=73), None)]
)
def test_content_hash_matches_only_within_the_window(
    gap: timedelta, expected: int | None
) -> None:
    candidate = stored(5, canonical_url="https://other.example/x", published=NOON - gap)
    assert find_original(make_entry(), [candidate], WINDOW) == expected


def test_empty_content_hash_never_matches() -> None:
    entry = make_entry(content_hash="", canonical_url=None)
    assert find_original(entry, [stored(5, content_hash="", canonical_url=None)], WINDOW) is None


def test_revision_ignores_fallback_dates_but_not_real_ones() -> None:
    undated = make_entry(dated=False)
    later = NOON + timedelta(hours=1)
    assert entry_revision(undated) == entry_revision(
        replace(undated, published=later, updated=later)
    )
    assert entry_revision(make_entry()) != entry_revision(make_entry(updated=later))


@pytest.mark.parametrize(
    "change",
    [{"title": "Talks stall"}, {"content": "<p>more</p>"}, {"tags": ("putin",)},
     {"link": "https://x.example/other"}, {"authors": ("Bob",)}],
)
def test_revision_changes_with_content(change: dict[str, object]) -> None:
    assert entry_revision(make_entry()) != entry_revision(make_entry(**change))
