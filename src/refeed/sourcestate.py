"""What a poll changes in its source's stored state — pure decisions, no I/O. Storage
writes the columns these return (see :meth:`refeed.storage.Store.record_poll`).

- A failed poll counts one more failure in a row; any success (200 or 304) resets it.
- The next poll is due after the source's interval (within its bounds, backed off after
  failures), or later when the server's cache lifetime, the feed's own hint or its pace
  asks for more; a failure honours ``Retry-After`` (see :mod:`refeed.cadence`).
- Validators (ETag, Last-Modified) are replaced only by a full answer that was stored
  whole: a 304 keeps the old ones (it sends none, or the same), a failure keeps them
  (the entries behind them were never stored).
- A permanent redirect is followed only once seen in ``grace`` polls in a row: one
  misconfigured answer must not move a source for good.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from refeed.cadence import Cadence, cache_lifetime, feed_hint, next_due, retry_after
from refeed.model import ErrorInfo, FetchResult, PollState, ProcessedFeed
from refeed.storage.codecs import iso

SourceColumns = dict[str, Any]  # a source row's columns, by name, as stored


def fetch_url(moved_to: str | None, moved_polls: int, grace: int) -> str | None:
    """Where to fetch a source instead of its configured URL: the permanent redirect's
    target once it was seen ``grace`` polls in a row (``None``: the configured URL)."""
    return moved_to if moved_to and moved_polls >= grace else None


def poll_error(fetched: FetchResult, processed: ProcessedFeed | None) -> ErrorInfo | None:
    """Why the poll failed — fetching or parsing — or ``None``."""
    return fetched.error or (processed.error if processed else None)


def failures_after(state: PollState, error: ErrorInfo | None) -> int:
    """How many polls in a row have failed, with this one."""
    return state.failures + 1 if error is not None else 0


def due_after(
    now: datetime,
    cadence: Cadence,
    fetched: FetchResult,
    processed: ProcessedFeed | None,
    state: PollState,
    pace: timedelta | None,
    jitter_key: str,
) -> datetime:
    """When the source is due again after the poll that ended ``now``; ``pace`` is its
    publication pace (see :func:`refeed.cadence.activity_interval`)."""
    error = poll_error(fetched, processed)
    if error is not None:
        hint = retry_after(fetched.hints.get("retry-after"), now)
    else:  # the longest of: the server's cache lifetime, the feed's own hint, its pace
        hints = [cache_lifetime(fetched.hints, now),
                 feed_hint(processed.feed if processed else state.feed_hints), pace]
        hint = max((value for value in hints if value is not None), default=None)
    return next_due(now, cadence, failures=failures_after(state, error), hint=hint,
                    jitter_key=jitter_key)


def moved_state(fetched: FetchResult, state: PollState) -> SourceColumns:
    """The permanent-redirect columns after ``fetched``: a redirect seen again counts one
    more poll, a new target starts at one, an answer from the source's own URL forgets
    it; an answer from the new address, or none at all, teaches nothing."""
    if fetched.moved_to is not None:
        same = fetched.moved_to == state.moved_to
        return {"moved_to": fetched.moved_to,
                "moved_polls": state.moved_polls + 1 if same else 1}
    if fetched.url != state.url or fetched.error is not None:
        return {}
    return {"moved_to": None, "moved_polls": 0}


def polled_source(
    fetched: FetchResult,
    processed: ProcessedFeed | None,
    state: PollState,
    *,
    now: datetime,
    next_due: datetime,
    pace: timedelta | None = None,
) -> SourceColumns:
    """The source row's columns that change with one poll, which started from ``state``;
    ``pace``, when given, replaces the stored publication pace."""
    error = poll_error(fetched, processed)
    polled = iso(now)
    values: SourceColumns = {
        "last_fetch": polled,
        "ok": error is None,
        "http_status": fetched.http_status,
        "error_kind": error.kind if error else None,
        "error": error.message if error else None,
        "warning": processed.warning if processed and not error else None,
        "final_url": fetched.final_url,
        "bytes": fetched.nbytes,
        "elapsed": round(fetched.elapsed, 3),
        "next_due": iso(next_due),
    }
    values |= moved_state(fetched, state)
    if pace is not None:
        values["pace"] = pace.total_seconds()
    parsed = processed is not None and processed.body_digest is not None
    if processed is not None and parsed:  # the same bytes next time end the same way
        failed = json.dumps(asdict(processed.error)) if processed.error else None
        values |= {"body_digest": processed.body_digest, "body_error": failed}
    values["failures"] = failures_after(state, error)
    if error is not None:
        return values
    values["last_success"] = polled
    if processed is not None and parsed:
        values |= {"item_digests": json.dumps(processed.digests),
                   "feed_hints": json.dumps(dict(processed.feed))}
    if not fetched.not_modified:
        values |= {"etag": fetched.validators.etag,
                   "last_modified": fetched.validators.last_modified}
    return values


def reset_on_new_url() -> SourceColumns:
    """The columns a source's URL change resets: what was learnt at the old address."""
    return {"etag": None, "last_modified": None, "moved_to": None, "moved_polls": 0,
            "body_digest": None, "item_digests": "[]"}
