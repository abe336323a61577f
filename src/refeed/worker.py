"""What a pool worker runs: parse | normalize of one downloaded document.

A worker imports this module to run :func:`process_document`, so it imports only what
parsing and normalizing need — not the HTTP client, the renderer or the database, which
cost every worker ~30 MiB and a slower start when the function lived in ``pipeline``.

The pool's forkserver imports this module before it forks any worker, and builds the
language detectors named in ``$REFEED_WORKER_LANGUAGES`` (set by the pool's maker): the
workers forked from it then share the ~100 MiB of lingua models instead of each loading
its own copy.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping
from datetime import datetime

from refeed.config import SourceConfig
from refeed.errors import ParseError
from refeed.language import LanguagePolicy, preload
from refeed.model import ErrorInfo, ProcessedFeed, Taxonomy
from refeed.normalize import normalize_feed
from refeed.parse import parse_document

FEED_HINTS = ("ttl", "sy_updateperiod", "sy_updatefrequency")
SHARED_LANGUAGES = "REFEED_WORKER_LANGUAGES"


def share_detectors(policy: LanguagePolicy) -> None:
    """Name ``policy`` as the one whose detectors a forkserver started from now on loads
    once for all its workers."""
    named = {"languages": policy.languages if policy.detect else [],
             "low_accuracy": policy.low_accuracy, "others": policy.others}
    os.environ[SHARED_LANGUAGES] = json.dumps(named)


def _load_shared_detectors() -> None:
    named = json.loads(os.environ.get(SHARED_LANGUAGES) or "{}")
    if named.get("languages"):
        preload(LanguagePolicy(languages=tuple(named["languages"]),
                               low_accuracy=bool(named["low_accuracy"]),
                               others=tuple(named["others"])))


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


_load_shared_detectors()
