"""What a pool worker runs: parse | normalize of one downloaded document.

A worker imports this module to run :func:`process_document`, so it imports only what
parsing and normalizing need — not the HTTP client, the renderer or the database, which
cost every worker ~30 MiB and a slower start when the function lived in ``pipeline``.

The pool's forkserver imports it (through :mod:`refeed.forkserver`) before it forks any
worker, so the workers share these modules' memory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping
from datetime import datetime

from refeed.config import SourceConfig
from refeed.errors import ParseError
from refeed.language import LanguagePolicy
from refeed.model import ErrorInfo, ProcessedFeed, Taxonomy
from refeed.normalize import normalize_feed
from refeed.parse import parse_document

FEED_HINTS = ("ttl", "sy_updateperiod", "sy_updatefrequency")
SHARED_LANGUAGES = "REFEED_WORKER_LANGUAGES"


def share_detectors(policy: LanguagePolicy) -> None:
    """Name ``policy`` as the one whose detectors a forkserver started from now on loads
    once for all its workers (see :mod:`refeed.forkserver`)."""
    named = {"languages": policy.languages if policy.detect else [],
             "low_accuracy": policy.low_accuracy, "others": policy.others}
    os.environ[SHARED_LANGUAGES] = json.dumps(named)


def process_document(
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    source: SourceConfig,
    rules: tuple[Taxonomy, LanguagePolicy],
    max_bytes: int,
    now: datetime,
    known: Collection[str] = frozenset(),
    salt: str = "",
) -> ProcessedFeed:
    """parse | normalize, in a worker process; a parse failure comes back as data. Items
    whose digest under ``salt`` is ``known`` (stored by an earlier poll) are not parsed
    again."""
    try:
        parsed = parse_document(body, headers, url, max_bytes, known, salt)
    except ParseError as error:
        return ProcessedFeed(error=ErrorInfo.from_exception(error))
    taxonomy, policy = rules
    entries = normalize_feed(parsed, source, taxonomy, now, policy)
    hints = {key: str(parsed.feed[key]) for key in FEED_HINTS if parsed.feed.get(key)}
    return ProcessedFeed(
        tuple(entries), parsed.warning, feed=hints, digests=parsed.digests,
        skipped=parsed.skipped,
    )
