"""Imported by the parse pool's forkserver, and by nothing else (see
:func:`refeed.pipeline.make_worker_pool`): before it forks any worker, it imports the
worker's modules, loads the language models of the policy named in
``$REFEED_WORKER_LANGUAGES`` and runs one small document through the worker's code, so
the workers share the ~100 MiB of lingua models, and whatever that code loads on first
use (numpy for MinHash, feedparser's and langcodes' tables, compiled regexes), instead of
each loading its own copy. Importing it anywhere else would load models for nothing.
"""

from __future__ import annotations

import gc
import json
import os
from datetime import UTC, datetime

from refeed.config import SourceConfig
from refeed.language import NO_DETECTION, LanguagePolicy, preload
from refeed.model import Taxonomy
from refeed.worker import SHARED_LANGUAGES, process_document

_WARM_UP_TEXT = (
    "The delegations met again on Tuesday to discuss the next round of negotiations, "
    "the exchange of prisoners and the reopening of the ports for grain shipments."
)
# one RSS item with HTML, a relative link, a date and a category: every path a
# document takes through parse | normalize
_WARM_UP_FEED = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>warm-up</title><link>http://localhost/</link>
<language>en</language><item><title>Negotiations resume</title><link>/news/1</link>
<guid>http://localhost/news/1</guid><pubDate>Tue, 03 Mar 2026 10:00:00 GMT</pubDate>
<category>negotiations</category><description>&lt;p&gt;{_WARM_UP_TEXT}
&lt;a href="/news/2"&gt;more&lt;/a&gt;&lt;/p&gt;</description></item></channel></rss>
""".encode()


def _shared_policy() -> LanguagePolicy:
    named = json.loads(os.environ.get(SHARED_LANGUAGES) or "{}")
    if not named.get("languages"):
        return NO_DETECTION
    return LanguagePolicy(languages=tuple(named["languages"]),
                          low_accuracy=bool(named["low_accuracy"]),
                          others=tuple(named["others"]))


def _warm_up(policy: LanguagePolicy) -> None:
    """Run one document through the worker's code, so what it loads on first use is
    loaded here, once, in memory the workers share (~11 MiB less in each worker)."""
    source = SourceConfig(id="warm-up", url="http://localhost/feed.xml")
    process_document(_WARM_UP_FEED, {"content-type": "application/rss+xml"}, source.url,
                     source, (Taxonomy(), policy), len(_WARM_UP_FEED), datetime.now(UTC))


_POLICY = _shared_policy()
if _POLICY.detect:
    preload(_POLICY)
_warm_up(_POLICY)
# What is loaded by now lives as long as the workers: out of the collector's sight, so a
# worker's full collection never writes to (and so copies) the pages it shares with us
gc.collect()
gc.freeze()
