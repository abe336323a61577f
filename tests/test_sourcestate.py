"""What a poll changes in its source's state: the pure rules of :mod:`refeed.sourcestate`
with plain values (the store only writes what they return)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from refeed.cadence import Cadence
from refeed.model import ErrorInfo, FetchResult, PollState, ProcessedFeed, Validators
from refeed.sourcestate import (
    due_after,
    failures_after,
    fetch_url,
    moved_state,
    polled_source,
    reset_on_new_url,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
URL = "https://a.example/feed"
NEW = "https://b.example/feed"
OLD_VALIDATORS = Validators('"v1"', "Mon, 07 Dec 2026 10:00:00 GMT")
STATE = PollState(validators=OLD_VALIDATORS, failures=2, url=URL, feed_hints={})
FAILED = ErrorInfo("FetchError", "HTTP 500")
CADENCE = Cadence(interval=timedelta(minutes=30), min_interval=timedelta(minutes=1),
                  max_interval=timedelta(hours=24), max_backoff=timedelta(hours=24))


def fetched(**changes: object) -> FetchResult:
    """A 200 answer from the source's own URL with new validators."""
    values: dict[str, object] = {"source_id": "a", "url": URL, "http_status": 200,
                                 "body": b"<rss/>", "validators": Validators('"v2"', None)}
    return FetchResult(**(values | changes))  # type: ignore[arg-type]


def columns(answer: FetchResult, processed: ProcessedFeed | None = None,
            state: PollState = STATE) -> dict[str, object]:
    return polled_source(answer, processed, state, now=NOW, next_due=NOW + timedelta(hours=1))


def test_a_failure_counts_one_more_and_a_success_resets() -> None:
    assert columns(fetched(error=FAILED, body=None))["failures"] == 3
    assert columns(fetched())["failures"] == 0
    assert columns(fetched(http_status=304, not_modified=True, body=None))["failures"] == 0
    assert columns(fetched(), ProcessedFeed(error=ErrorInfo("ParseError", "bad")))["failures"] == 3
    assert failures_after(STATE, None) == 0
    assert failures_after(STATE, FAILED) == 3


def test_only_a_full_answer_stored_whole_replaces_the_validators() -> None:
    assert columns(fetched())["etag"] == '"v2"'
    assert columns(fetched())["last_modified"] is None
    not_modified = columns(fetched(http_status=304, not_modified=True, body=None))
    failed = columns(fetched(error=FAILED, body=None))
    unparsable = columns(fetched(), ProcessedFeed(error=ErrorInfo("ParseError", "bad")))
    for kept in (not_modified, failed, unparsable):
        assert "etag" not in kept
        assert "last_modified" not in kept


def test_success_and_failure_are_recorded_with_their_reason() -> None:
    ok = columns(fetched(), ProcessedFeed(warning="bozo"))
    assert (ok["ok"], ok["last_success"], ok["error"], ok["warning"]) == (
        True, "2026-12-07T12:00:00Z", None, "bozo")
    failed = columns(fetched(error=FAILED, body=None))
    assert (failed["ok"], failed["error_kind"], failed["error"]) == (False, "FetchError",
                                                                     "HTTP 500")
    assert "last_success" not in failed
    assert failed["next_due"] == "2026-12-07T13:00:00Z"


def test_a_document_that_failed_to_parse_is_remembered_with_why() -> None:
    broken = ProcessedFeed(error=ErrorInfo("ParseError", "bad"), body_digest="d1")
    values = columns(fetched(), broken)
    assert values["body_digest"] == "d1"
    assert json.loads(str(values["body_error"])) == {"kind": "ParseError", "message": "bad"}
    assert "item_digests" not in values  # the last good document's items stay known
    parsed = columns(fetched(), ProcessedFeed(body_digest="d2", digests=("x", "y"),
                                              feed={"ttl": "60"}))
    assert (parsed["body_digest"], parsed["body_error"]) == ("d2", None)
    assert json.loads(str(parsed["item_digests"])) == ["x", "y"]
    assert json.loads(str(parsed["feed_hints"])) == {"ttl": "60"}
    assert "body_digest" not in columns(fetched(), ProcessedFeed())  # parsing was skipped


@pytest.mark.parametrize(
    ("answer", "state", "expected"),
    [
        (fetched(moved_to=NEW), STATE, {"moved_to": NEW, "moved_polls": 1}),
        (fetched(moved_to=NEW), PollState(url=URL, moved_to=NEW, moved_polls=2),
         {"moved_to": NEW, "moved_polls": 3}),
        (fetched(moved_to="https://c.example/"), PollState(url=URL, moved_to=NEW, moved_polls=2),
         {"moved_to": "https://c.example/", "moved_polls": 1}),
        (fetched(), PollState(url=URL, moved_to=NEW, moved_polls=2),
         {"moved_to": None, "moved_polls": 0}),  # the old address answers again itself
        (fetched(url=NEW), PollState(url=URL, moved_to=NEW, moved_polls=3), {}),
        (fetched(error=FAILED, body=None), PollState(url=URL, moved_to=NEW, moved_polls=2), {}),
    ],
)
def test_permanent_redirects_are_counted_in_a_row(
    answer: FetchResult, state: PollState, expected: dict[str, object]
) -> None:
    assert moved_state(answer, state) == expected


def test_a_redirect_is_followed_only_after_its_grace() -> None:
    assert fetch_url(NEW, 2, grace=3) is None
    assert fetch_url(NEW, 3, grace=3) == NEW
    assert fetch_url(None, 9, grace=3) is None


def test_a_new_url_forgets_what_the_old_one_taught() -> None:
    assert reset_on_new_url() == {"etag": None, "last_modified": None, "moved_to": None,
                                  "moved_polls": 0, "body_digest": None, "item_digests": "[]"}


def due(answer: FetchResult, processed: ProcessedFeed | None = None,
        pace: timedelta | None = None, state: PollState = STATE) -> timedelta:
    return due_after(NOW, CADENCE, answer, processed, state, pace, jitter_key="a") - NOW


def test_the_next_poll_follows_the_interval_or_a_longer_hint() -> None:
    plain = due(fetched(), ProcessedFeed())
    assert timedelta(minutes=27) <= plain <= timedelta(minutes=33)
    assert due(fetched(), ProcessedFeed(), pace=timedelta(hours=3)) >= timedelta(hours=2.7)
    assert due(fetched(hints={"cache-control": "max-age=7200"}),
               ProcessedFeed()) >= timedelta(hours=1.8)
    assert due(fetched(), ProcessedFeed(feed={"ttl": "240"})) >= timedelta(hours=3.6)
    # a 304 reads the feed's hint from what the last parse stored
    remembered = PollState(feed_hints={"ttl": "240"})
    assert due(fetched(http_status=304, not_modified=True, body=None),
               state=remembered) >= timedelta(hours=3.6)


def test_a_failure_backs_off_and_honours_retry_after() -> None:
    backed_off = due(fetched(error=FAILED, body=None))  # the third failure in a row: 4x
    assert timedelta(hours=1.8) <= backed_off <= timedelta(hours=2.2)
    told = due(fetched(error=FAILED, body=None, hints={"retry-after": "36000"}))
    assert told >= timedelta(hours=9)
    # a pace is no reason to wait after a failure
    assert due(fetched(error=FAILED, body=None), pace=timedelta(hours=9)) == backed_off
