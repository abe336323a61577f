"""What tests build their cases from: entries, settings, configs on disk, polls, and an
in-memory reference of what a publish lists and renders (the store's incremental
publish must agree with it). Shared by test modules instead of importing each other."""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from types import ModuleType
from typing import Any

from ruamel.yaml import YAML

from refeed.config import Settings, load_settings
from refeed.dedup import text_likeness
from refeed.model import Entry, PollResult, Validators
from refeed.pipeline import poll_all
from refeed.plan import listed, listing_of, render_directory, render_listings, source_infos
from refeed.render import EPOCH, FeedInfo, assemble, entry_fragments
from refeed.select import (
    Listed,
    Output,
    TagRegistry,
    define_outputs,
    matches,
    place,
    usage_of,
)
from refeed.storage import Store
from refeed.text import tag_fold

DATA = Path(__file__).parent / "data"
NOON = datetime(2026, 10, 4, 12, 0, tzinfo=UTC)
STORY = ("Russian drones attack Kyiv overnight: debris falls on a house in Dniprovskyi "
         "district, no casualties reported by the city military administration")
TAGS = {
    "putin": ["Putin", "Путін", "Путин"],
    "zelenskyy": ["Zelenskyy", "Зеленський", "Зеленский"],
    "negotiations": {
        "aliases": ["negotiations", "переговори", "переговоры"],
        "match": ["(?i)\\bnegotiat", "(?i)переговор"],
    },
}
ALL = Output("all", "", "all")


# --- entries -----------------------------------------------------------------------

def make_entry(**changes: object) -> Entry:
    """An English entry of source ``a``; ``changes`` override fields."""
    entry = Entry(
        source_id="a", key="guid-1", guid="guid-1", link="https://x.example/story",
        canonical_url="https://x.example/story", title="Talks resume", summary="<p>s</p>",
        content="", authors=("Ann",), published=NOON, updated=NOON, dated=True,
        tags=("negotiations",), language="en", enclosures=(), content_hash="h1",
    )
    return replace(entry, **changes)  # type: ignore[arg-type]


def likeness_of(text: str) -> dict[str, object]:
    """The near-duplicate fields of an entry or stored row for ``text``."""
    likeness = text_likeness(text)
    return {"signature": likeness.signature, "shingles": likeness.shingles,
            "numbers": likeness.numbers}


# --- settings and configs --------------------------------------------------------------

def site_settings(**sections: Any) -> Settings:
    """Validated settings (in memory) with sources ``a`` and ``b``; ``sections`` replace
    top-level keys."""
    document: dict[str, Any] = {
        "site": {"title": "Site", "base_url": "http://feeds.example/", "languages": ["en", "uk"]},
        "sources": [
            {"id": "a", "url": "https://a.example/feed"},
            {"id": "b", "url": "https://b.example/feed"},
        ],
    }
    return Settings.model_validate(document | sections)


def config_settings(tmp_path: Path, sources: list[dict[str, Any]], **extra: Any) -> Settings:
    """Write a config.yaml in ``tmp_path`` with ``sources`` (the trilingual site and its
    tags, plus sections in ``extra``) and load it."""
    config = {"site": {"languages": ["uk", "ru", "en"]}, "sources": sources, "tags": TAGS}
    return load_settings(write_config(tmp_path, config | extra))


def write_config(directory: Path, config: dict[str, Any]) -> Path:
    """Write ``config`` as ``config.yaml`` in ``directory`` and return its path."""
    path = directory / "config.yaml"
    with path.open("w", encoding="utf-8") as handle:
        YAML().dump(config, handle)
    return path


def read_data(name: str) -> bytes:
    """The bytes of a fixture file in tests/data."""
    return (DATA / name).read_bytes()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# --- the store ------------------------------------------------------------------------

def poll(settings: Settings, pool: Executor, *ids: str) -> dict[str, PollResult]:
    """Run one poll (of ``ids``, or every source) and return the results by source id."""
    store = Store.open(settings.database)
    try:
        results = asyncio.run(poll_all(settings, store, ids or None, executor=pool))
    finally:
        store.close()
    return {result.source_id: result for result in results}


def stored_timeline(store: Store) -> list[Entry]:
    """Every original entry of ``store``, in timeline order."""
    return [entry for _, entry in store.candidates(ALL)]


def candidates(store: Store, output: Output) -> Iterator[Entry]:
    """The originals ``store`` reads for ``output``, in timeline order, without ids."""
    return (entry for _, entry in store.candidates(output))


def stored_tag_usage(store: Store) -> dict[str, int]:
    """How many originals of ``store`` carry each tag, under its most used spelling."""
    return usage_of(store.tag_spelling_counts())


def validators(store: Store, source_id: str) -> Validators:
    """The ETag and Last-Modified the next request for ``source_id`` sends."""
    return store.poll_state(source_id, 0).validators


# --- the reference publish: outputs selected and rendered from entries in memory -------

def timeline_order(entries: Iterable[Entry]) -> list[Entry]:
    """Newest published first; ties by source and key, so the order is stable."""
    return sorted(entries, key=place)


def select_entries(output: Output, entries: Iterable[Entry]) -> list[Entry]:
    """The entries ``output`` lists, from ``entries`` in any order: matching its
    filters, in timeline order, at most ``output.limit``."""
    return first_entries(output, timeline_order(entries))


def first_entries(output: Output, ordered: Iterable[Entry]) -> list[Entry]:
    """The first ``output.limit`` entries of ``ordered`` (in timeline order) that match
    ``output``; stops reading there."""
    return list(islice((entry for entry in ordered if matches(output, entry)), output.limit))


def tag_usage(entries: Sequence[Entry]) -> dict[str, int]:
    """How many entries carry each tag, under its most used spelling (ties: the
    smallest), counted in memory: what the store's counts must equal."""
    spellings: dict[str, Counter[str]] = {}
    for entry in entries:
        for tag in entry.tags:
            spellings.setdefault(tag_fold(tag), Counter())[tag] += 1
    return usage_of(spellings)


Selection = list[tuple[Output, list[Entry]]]


def select_site(
    settings: Settings, entries: Sequence[Entry], registry: TagRegistry | None = None
) -> Selection:
    """Every output with the entries (of ``entries``, originals) it lists."""
    outputs = define_outputs(settings, tag_usage(entries), registry)
    return [(output, select_entries(output, entries)) for output in outputs]


def build_site(
    settings: Settings, entries: Sequence[Entry], registry: TagRegistry | None = None
) -> dict[str, bytes]:
    """Every output file (relative path → bytes) for ``entries``: each output in each
    configured format, plus ``index.html`` and ``outputs.opml``. ``registry`` holds the
    tag slugs published before (see :func:`refeed.select.tag_registry`)."""
    numbers: dict[tuple[str, str], int] = {}  # each distinct entry gets an id
    by_id: dict[int, Entry] = {}
    listings: dict[Output, list[Listed]] = {}
    for output, selected in select_site(settings, entries, registry):
        listings[output] = []
        for entry in selected:
            entry_id = numbers.setdefault((entry.source_id, entry.key), len(numbers))
            by_id[entry_id] = entry
            listings[output].append(listed(entry_id, entry))
    files = render_listings(settings, source_infos(settings), listings, by_id, {})
    directory = [listing_of(output, listing) for output, listing in listings.items()]
    return files | render_directory(settings, directory)


def feed_updated(entries: Sequence[Entry]) -> datetime:
    """The newest ``updated`` of ``entries``; the epoch for an empty feed."""
    return max((entry.updated for entry in entries), default=EPOCH)


def render_feed(fmt: str, info: FeedInfo, entries: Sequence[Entry]) -> bytes:
    """``entries`` as one output document in ``fmt`` (atom, rss or json)."""
    fragments = entry_fragments(fmt, info, dict(enumerate(entries)))
    return assemble(fmt, info, feed_updated(entries), list(fragments.values()))



# --- benches ---------------------------------------------------------------------------

def load_bench(path: Path) -> ModuleType:
    """A bench script as a module: the tests that hold its numbers to floors score
    with the same code that prints them."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
