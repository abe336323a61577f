"""Issue 8: the whole third-party corpus (``../shared/corpus``) polled in one run.

Every data file of the corpus — feedparser's test feeds, the W3C validator's cases and the
real-world snapshots — is served by one real HTTP server on 127.0.0.1 and configured as
one source; a single ``refeed poll`` through the real CLI fetches them all. Then:

* the poll exits 0 and prints no traceback (zero crashes);
* ``refeed status --json`` has one object per source, each with a recorded state: ``ok``,
  or ``failing`` with an error message; no error is anything but refeed's own fetch/parse
  errors (a ``TypeError`` caught around a worker is a crash, not a verdict);
* every file that is a well-formed feed with entries — decided without refeed: feedparser
  reads it without ``bozo``, with a version and at least one entry, or it is a JSON Feed
  1/1.1 with at least one item — ends ``ok`` with at least one stored entry, and with
  exactly as many as it has distinct entries under refeed's documented keys (guid, else
  link, else title + date + body; ``tests.test_corpus.entry_identities``). Copies of
  another source's entries count: they are stored with ``duplicate_of`` set. refeed drops
  no entry for lacking an id, link or title (normalize keys it by a content hash), so the
  only documented exception is safety: documents declaring ``<!ENTITY`` are refused
  (README "What a poll does", step 2); they are listed in :data:`ENTITY_FILES` and must
  fail with that reason;
* ``refeed publish`` exits 0 and every output feed parses: Atom and RSS with feedparser
  (no ``bozo``) and lxml, JSON Feed with ``json.loads``.

Each file is served with a Content-Type from its extension, replaced by the file's own
``Header:`` lines for the three headers refeed passes on to the parser (Content-Type,
Content-Language, Content-Location); the two gzip streams of ``real/`` go out with
``Content-Encoding: gzip``, as a web server would send them.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import sqlite3
import subprocess
import sys
import warnings
from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import feedparser
import pytest
from lxml import etree
from slugify import slugify

from tests.corpus import CORPUS, annotation, entry_identities
from tests.factories import write_config
from tests.feedserver import FeedServer

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(), reason="feed corpus ../shared/corpus is absent"
)

CONTENT_TYPES = {
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".rdf": "application/rdf+xml",
    ".json": "application/feed+json",
    ".html": "text/html; charset=utf-8",
    ".opml": "text/x-opml",
}
# the response headers refeed hands to its parser (refeed.fetch.PASSED_HEADERS)
HONOURED_HEADERS = ("content-type", "content-language", "content-location")
# Documents that declare XML entities: refused for safety (README "What a poll does", 2).
ENTITY_FILES = frozenset({
    "feedparser-tests/wellformed/rdf/doctype_contains_entity_decl.xml",
    "feedparser-tests/wellformed/rss/entity_in_doctype.xml",
    "feedvalidator/testcases/rss/should/system_entity.xml",
    "feedvalidator/testcases/rss/should/system_entity_http.xml",
})
ENTITY_REFUSAL = "<!ENTITY"
JSON_FEED_VERSION = re.compile(r"^https?://jsonfeed\.org/version/1(\.1)?$")
# errors that are verdicts on a source; anything else (TypeError, KeyError…) is a crash
VERDICT_ERRORS = frozenset({"ParseError", "FetchError", "HTTPStatusError"})
STATES = frozenset({"ok", "failing"})
SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
FEED_SUFFIXES = (".atom", ".rss", ".json")
EXPECTED_OUTPUTS = frozenset({
    f"{path}.{fmt}" for path in ("all", "lang/en", "lang/uk", "lang/ru", "tag/putin",
                                 "tag/ukraine", "tag/ukraine/en", "podcasts")
    for fmt in ("atom", "rss", "json")
})


@dataclass(frozen=True)
class CorpusFile:
    """One corpus data file as one source: where it is served and how."""

    rel: str  # the path under the corpus folder
    source_id: str
    body: bytes  # the document (gzip streams decompressed; they travel gzip-encoded)
    gzipped: bool
    content_type: str
    headers: Mapping[str, str]  # further honoured headers (Content-Language, -Location)


def corpus_paths() -> list[str]:
    """Every data file of the corpus as a sorted relative POSIX path (licences and
    READMEs excluded)."""
    return sorted(
        path.relative_to(CORPUS).as_posix()
        for path in CORPUS.rglob("*")
        if path.is_file() and not path.name.startswith(("LICENSE", "README"))
    )


def source_id_for(index: int, rel: str) -> str:
    """A unique, valid source id (``[a-z0-9-]``, at most 64 characters) that still says
    which file it is: the index, then the path slugified."""
    return f"{index:04d}-{slugify(rel)}"[:64].rstrip("-")


def served(index: int, rel: str) -> CorpusFile:
    """How corpus file ``rel`` is served: Content-Type by extension, then the file's own
    ``Header:`` lines for the headers refeed reads."""
    raw = (CORPUS / rel).read_bytes()
    gzipped = raw.startswith(b"\x1f\x8b")
    body = gzip.decompress(raw) if gzipped else raw
    content_type = CONTENT_TYPES.get(PurePosixPath(rel).suffix.lower(), "application/xml")
    extra: dict[str, str] = {}
    for name, value in annotation(rel).headers:
        if name.lower() == "content-type":
            content_type = value
        elif name.lower() in HONOURED_HEADERS:
            extra[name] = value
    return CorpusFile(rel, source_id_for(index, rel), body, gzipped, content_type, extra)


def oracle_headers(corpus_file: CorpusFile, url: str) -> dict[str, str]:
    """The response headers the way feedparser sees them for this file (lower-case names,
    Content-Location resolved by refeed to the fetched URL when absent)."""
    headers = {"content-type": corpus_file.content_type, "content-location": url}
    headers |= {name.lower(): value for name, value in corpus_file.headers.items()}
    return headers


def json_feed_items(body: bytes) -> list[dict[str, Any]] | None:
    """The items of a JSON Feed 1 / 1.1 document; ``None`` when ``body`` is no JSON Feed."""
    text = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{"):
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        return None
    if not JSON_FEED_VERSION.match(document.get("version") or ""):
        return None
    return [item for item in document["items"] if isinstance(item, dict)]


def well_formed_entries(body: bytes, headers: Mapping[str, str]) -> int:
    """The independent oracle: how many distinct entries (refeed's documented keys: the
    guid, else the link, else title + date + body) a well-formed feed holds — 0 unless
    feedparser reads ``body`` (served with ``headers``) without ``bozo`` and with a
    version, or it is a JSON Feed 1 / 1.1 (feedparser 6 cannot read JSON Feed)."""
    if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"[")):
        items = json_feed_items(body) or []
        return len(entry_identities([
            {"id": item.get("id"), "link": item.get("url") or item.get("external_url"),
             "title": item.get("title"), "published": item.get("date_published"),
             "updated": item.get("date_modified"),
             "summary": item.get("content_html") or item.get("content_text")}
            for item in items
        ]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # feedparser's own deprecation noise
        result = feedparser.parse(io.BytesIO(body), response_headers=dict(headers))
    if result.get("bozo") or not result.get("version"):
        return 0
    return len(entry_identities(result.get("entries", [])))


def declares_entities(body: bytes) -> bool:
    """True when ``<!ENTITY`` appears in ``body`` in any ASCII-compatible or UTF-16/32
    encoding (NUL bytes dropped)."""
    return b"<!ENTITY" in body.replace(b"\x00", b"")


@pytest.fixture(scope="module")
def corpus() -> list[CorpusFile]:
    """Every corpus data file with the way it is served."""
    return [served(index, rel) for index, rel in enumerate(corpus_paths())]


@pytest.fixture(scope="module")
def corpus_server(corpus: list[CorpusFile]) -> Iterator[FeedServer]:
    """One real 127.0.0.1 server answering every corpus file at its relative path."""
    server = FeedServer().start()
    for item in corpus:
        server.serve(item.rel, item.body, content_type=item.content_type,
                     headers=dict(item.headers), gzip=item.gzipped)
    yield server
    server.stop()


def refeed(config: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run the real CLI (``python -m refeed -c CONFIG …``) and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "refeed", "-c", str(config), *arguments],
        capture_output=True, text=True, timeout=600, check=False, cwd=config.parent,
    )


def stored_entries(database: Path) -> dict[str, int]:
    """Stored entries per source, copies (``duplicate_of`` set) included."""
    with closing(sqlite3.connect(database)) as connection:
        rows = connection.execute(
            "SELECT source_id, count(*) FROM entries GROUP BY source_id"
        ).fetchall()
    return {str(source_id): int(count) for source_id, count in rows}


def make_config(directory: Path, corpus: list[CorpusFile], server: FeedServer) -> Path:
    """A config with one source per corpus file, generous per-host limits (every source
    is on one host), tags, site languages and every output kind."""
    return write_config(directory, {
        "site": {"title": "corpus", "base_url": "http://127.0.0.1/feeds/",
                 "languages": ["uk", "ru", "en"]},
        "database": "refeed.db",
        "output_dir": "feeds",
        "polling": {"concurrency": 100, "per_host": 100, "timeout": "120s"},
        "tags": {
            "putin": ["Putin", "Путін", "Путин"],
            "ukraine": {"aliases": ["Ukraine", "Україна", "Украина"],
                        "match": ["(?i)\\bukrain", "(?i)украин", "(?i)україн"]},
        },
        "publish": {"feeds": [{"id": "podcasts", "title": "Podcasts", "match": "(?i)episode"}]},
        "sources": [{"id": item.source_id, "url": server.url(item.rel)} for item in corpus],
    })


def feed_problems(path: Path) -> list[str]:
    """Why a published feed file does not parse (empty when it does)."""
    data = path.read_bytes()
    if path.suffix == ".json":
        try:
            document = json.loads(data)
        except ValueError as error:
            return [f"invalid JSON: {error}"]
        if not isinstance(document, dict) or not isinstance(document.get("items"), list):
            return ["JSON Feed without an items list"]
        return []
    problems: list[str] = []
    try:
        etree.fromstring(data, SAFE_XML)
    except etree.XMLSyntaxError as error:
        problems.append(f"not well-formed XML: {error}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = feedparser.parse(io.BytesIO(data))
    if result.get("bozo"):
        problems.append(f"feedparser bozo: {result.get('bozo_exception')!r}")
    return problems


def describe(item: CorpusFile, status: Mapping[str, Any], count: int) -> str:
    """One line naming a corpus file and what refeed recorded for it."""
    return (f"{item.rel} [{item.source_id}]: state={status.get('state')} "
            f"entries={count} error={status.get('error')!r}")


def cli_problems(result: subprocess.CompletedProcess[str]) -> list[str]:
    """Why a CLI run counts as a crash: a non-zero exit or a traceback (empty if neither)."""
    if result.returncode == 0 and "Traceback" not in result.stderr:
        return []
    return [f"exit {result.returncode}: ...{result.stderr[-3000:]}"]


UNRECORDED = "sources without a recorded state"
CRASHED = "sources that crashed refeed (an error that is no fetch/parse verdict)"
LOST = "well-formed feeds not ok or without stored entries"
MISCOUNTED = "well-formed feeds with entries lost or invented"
ENTITY_ACCEPTED = "entity-declaring documents not refused"


def is_recorded(state: Mapping[str, Any]) -> bool:
    """True when a source's status says it was polled and ended ``ok``, or ``failing``
    with an error message."""
    if state["last_fetch"] is None:
        return False
    if state["state"] == "ok":
        return bool(state["ok"]) and not state["error"]
    return state["state"] == "failing" and not state["ok"] and bool(state["error"])


def source_problems(
    corpus: list[CorpusFile], server: FeedServer, report: Mapping[str, Mapping[str, Any]],
    counts: Mapping[str, int],
) -> dict[str, list[str]]:
    """Every way the recorded outcome of a source breaks issue 8, by kind of problem."""
    problems: dict[str, list[str]] = {}
    for item in corpus:
        state = report.get(item.source_id)
        if state is None:
            problems.setdefault(UNRECORDED, []).append(f"{item.rel}: not in refeed status")
            continue
        count = counts.get(item.source_id, 0)
        line = describe(item, state, count)
        if not is_recorded(state):
            problems.setdefault(UNRECORDED, []).append(line)
        if state["error"] and state["error"].partition(":")[0] not in VERDICT_ERRORS:
            problems.setdefault(CRASHED, []).append(line)
        if item.rel in ENTITY_FILES:  # refused for safety, by design
            if state["state"] != "failing" or ENTITY_REFUSAL not in (state["error"] or ""):
                problems.setdefault(ENTITY_ACCEPTED, []).append(line)
            continue
        expected = well_formed_entries(item.body, oracle_headers(item, server.url(item.rel)))
        if expected and (state["state"] != "ok" or count < 1):
            problems.setdefault(LOST, []).append(line)
        elif expected and count != expected:
            problems.setdefault(MISCOUNTED, []).append(f"{line} expected={expected}")
    return problems


@pytest.mark.slow
@pytest.mark.timeout(300)  # ~45 s on an idle 2-core machine; the default 120 s is tight under load
def test_whole_corpus_polls_in_one_run(
    tmp_path: Path, corpus: list[CorpusFile], corpus_server: FeedServer
) -> None:
    """One poll of the whole corpus, then status, stored entries and a publish; every
    problem found is reported together (one failure must not hide the others)."""
    config = make_config(tmp_path, corpus, corpus_server)
    problems: dict[str, list[str]] = {}

    poll = refeed(config, "poll")
    problems["refeed poll crashed"] = cli_problems(poll)
    if poll.returncode == 0:
        assert poll.stdout.count("\n") >= len(corpus)  # one line per source, then totals

    status = refeed(config, "status", "--json")
    assert status.returncode == 0, status.stderr[-4000:]
    report = {item["id"]: item for item in json.loads(status.stdout)}
    assert sorted(report) == sorted(item.source_id for item in corpus)
    problems |= source_problems(corpus, corpus_server, report, stored_entries(
        tmp_path / "refeed.db"))
    problems["sources not answered 200 by the corpus server"] = [
        f"{source_id}: {state['http_status']}" for source_id, state in report.items()
        if state["http_status"] != 200
    ]
    problems["the entity-declaring files changed: update ENTITY_FILES"] = sorted(
        {item.rel for item in corpus if declares_entities(item.body)} ^ ENTITY_FILES
    )

    publish = refeed(config, "publish")
    problems["refeed publish crashed"] = cli_problems(publish)
    outputs = sorted(path for path in (tmp_path / "feeds").rglob("*")
                     if path.suffix in FEED_SUFFIXES and not path.name.startswith("."))
    published = {path.relative_to(tmp_path / "feeds").as_posix() for path in outputs}
    problems["outputs missing"] = sorted(EXPECTED_OUTPUTS - published)
    problems["published feeds that do not parse"] = [
        f"{path.relative_to(tmp_path)}: {problem}"
        for path in outputs for problem in feed_problems(path)
    ]

    found = {kind: lines for kind, lines in problems.items() if lines}
    if found:
        pytest.fail("\n\n".join(f"{kind} ({len(lines)}):\n" + "\n".join(lines[:50])
                              for kind, lines in found.items()), pytrace=False)
