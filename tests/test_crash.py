"""Crash safety (issue 8), with real ``refeed`` processes against a 127.0.0.1 feed farm.

- ``refeed poll`` and ``refeed run`` are killed with SIGKILL (the whole process group, so
  the parse workers die with them) at 20 seeded-random moments: 10 of each, drawn
  within the windows measured on an uninterrupted run of the same size: the ingest
  window (first request to first output replaced: fetch, parse, store, render; for the
  daemon also its 2s publish debounce) or the publish window (first output replaced to
  manifest replaced). One more kill lands between the daemon's commit and its publish.
  The farm grows between runs (new entries, edited titles, syndicated copies), so every
  run has something to store and publish. While a process runs, the output folder is
  read over and over as a reader (or a web server) would. After every kill the
  database (a copy of the crashed files, so that refeed recovers the originals itself)
  must pass ``PRAGMA integrity_check`` and ``foreign_key_check``, keep every entry it
  had committed and store no ``(source, key)`` twice; every file in the output folder
  must be a complete document and leftover temporary files must not be served. The
  restarted daemon must store and publish everything; in the end the timeline and
  ``all.json`` must equal those of one clean poll of the same farm into a fresh folder
  (same entries, titles and clusters of copies).
- A full disk (``RLIMIT_FSIZE`` 0: every write fails with EFBIG, the database's and the
  outputs' alike; an unprivileged user can impose it on a process and lift it again
  with ``prlimit``) and a read-only output folder (``chmod`` for a normal user; as root,
  which ``chmod`` does not stop, the tree is made immutable with ``chattr +i``, which the
  kernel enforces for root too): ``refeed poll`` must exit 1 with one clear message and
  no traceback; the daemon must log a clear ERROR event naming the output folder, keep
  its database sound (with the entries committed before the fault), keep polling every
  source, and publish again once the fault is gone, without needing new entries.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

import pytest
from lxml import etree
from lxml import html as lxml_html

from refeed.publish import MANIFEST
from refeed.server import resolve_output_path
from tests.factories import free_port, write_config
from tests.feedserver import FeedServer

FEEDS = 16  # sources in the crash farm
INITIAL = 24  # entries per source before the first poll
BATCH = 10  # entries a growing source gains per round
GROUPS = 4  # a quarter of the sources grow in each poll round
COPY_EVERY, COPY_AT = 9, 4  # entry j of an even feed with j % 9 == 4 copies feed i + 1's
TAGS = ("Alpha", "Beta", "Gamma", "Delta", "Epsilon")
BASE = datetime(2025, 6, 1, tzinfo=UTC)  # in the past, so no date is clamped to "now"
POLL_KILLS, RUN_KILLS = 10, 10
RUN_PUBLISH_EVERY = 4  # every 4th daemon kill falls while it writes; the rest while it ingests
# The daemon's polling interval: short, so the fault test sees several cycles (a source's
# next poll is never sooner than a second away: test_daemon.py checks that rule).
INTERVAL = "2s"
RETRY_SECONDS = 6.0  # a few daemon cycles: time to publish again once the folder is fine
SEED = 8
LIMIT = 50  # publish.limit (the default)
ATOM = "{http://www.w3.org/2005/Atom}"
VOCABULARY = [
    onset + vowel + coda
    for onset in ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z")
    for vowel in ("a", "e", "i", "o", "u", "ai", "ou")
    for coda in ("", "n", "r", "s", "t")
]
_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
Key = tuple[str, str]  # (source_id, entry key)


# --- the farm -------------------------------------------------------------------------


def words(seed: str, count: int) -> str:
    """``count`` pseudo-words, always the same for ``seed``."""
    rng = random.Random(seed)
    return " ".join(rng.choice(VOCABULARY) for _ in range(count))


@dataclass(frozen=True)
class Story:
    """One entry as a feed lists it."""

    guid: str
    link: str
    title: str
    summary: str
    published: datetime
    tags: tuple[str, str]


def original_story(feed: int, number: int, revision: int | None) -> Story:
    """Entry ``number`` of feed ``feed`` as written by that feed (with its title edited
    ``revision`` when it has been)."""
    title = words(f"title-{feed}-{number}", 8).capitalize()
    if revision is not None:
        title += f" (edit {revision})"
    return Story(
        guid=f"urn:crash:f{feed}:{number}",
        link=f"https://news.example/f{feed}/{number}",
        title=title,
        summary=words(f"summary-{feed}-{number}", 40).capitalize() + ".",
        # later entries are newer, so each round's news tops all.json
        published=BASE + timedelta(minutes=number, seconds=feed),
        tags=(TAGS[(feed + number) % len(TAGS)], TAGS[(feed * number + 1) % len(TAGS)]),
    )


def is_copy(feed: int, number: int) -> bool:
    """Whether entry ``number`` of ``feed`` syndicates feed ``feed + 1``'s story."""
    return feed % 2 == 0 and number % COPY_EVERY == COPY_AT


class Farm:
    """``feeds`` sources (RSS, Atom and JSON Feed in turn) under ``/<prefix>/`` that only
    ever grow: entries are added and titles edited, never removed, so everything a poll
    ever saw is still listed and must end up stored."""

    def __init__(
        self, server: FeedServer, prefix: str, feeds: int = FEEDS, initial: int = INITIAL
    ) -> None:
        self.server = server
        self.prefix = prefix
        self.feeds = feeds
        self.counts = [initial] * feeds
        self.revisions: dict[tuple[int, int], int] = {}
        self.round = 0

    def path(self, feed: int) -> str:
        """The server path of ``feed``."""
        return f"{self.prefix}/f{feed}.{('rss', 'atom', 'json')[feed % 3]}"

    def url(self, feed: int) -> str:
        """The URL of ``feed``."""
        return self.server.url(self.path(feed))

    def story(self, feed: int, number: int) -> Story:
        """Entry ``number`` of ``feed`` as it is listed now."""
        if is_copy(feed, number):  # same link, title, text and date; its own guid
            copied = original_story(feed + 1, number, None)
            return Story(f"urn:crash:f{feed}:{number}", copied.link, copied.title,
                         copied.summary, copied.published, copied.tags)
        return original_story(feed, number, self.revisions.get((feed, number)))

    def advance(self, growing: Sequence[int]) -> None:
        """One round of news: each ``growing`` feed gains ``BATCH`` entries and has the
        title of one older entry edited."""
        self.round += 1
        for feed in growing:
            number = (self.round * 7 + feed) % self.counts[feed]
            if number % COPY_EVERY == COPY_AT:  # copies and their originals stay put
                number += 1
            self.revisions[(feed, number)] = self.round
            self.counts[feed] += BATCH
        self.serve()

    def same_state_as(self, other: Farm) -> None:
        """Serve exactly what ``other`` serves (under this farm's prefix)."""
        self.feeds = other.feeds
        self.counts = list(other.counts)
        self.revisions = dict(other.revisions)
        self.round = other.round
        self.serve()

    def serve(self) -> None:
        """(Re-)register every feed's current document."""
        for feed in range(self.feeds):
            stories = [self.story(feed, n) for n in reversed(range(self.counts[feed]))]
            kind = feed % 3
            if kind == 0:
                self.server.serve(self.path(feed), rss_document(feed, stories))
            elif kind == 1:
                self.server.serve(self.path(feed), atom_document(feed, stories),
                                  content_type="application/atom+xml; charset=utf-8")
            else:
                self.server.serve(self.path(feed), json_document(feed, stories),
                                  content_type="application/feed+json; charset=utf-8")

    def expected(self) -> dict[Key, str]:
        """Every ``(source, key)`` the farm lists now, with its current title."""
        return {
            (f"f{feed}", story.guid): story.title
            for feed in range(self.feeds)
            for story in (self.story(feed, n) for n in range(self.counts[feed]))
        }

    def expected_clusters(self) -> set[frozenset[Key]]:
        """The pairs of entries that are one syndicated story."""
        return {
            frozenset({(f"f{feed}", f"urn:crash:f{feed}:{n}"),
                       (f"f{feed + 1}", f"urn:crash:f{feed + 1}:{n}")})
            for feed in range(0, self.feeds, 2)
            for n in range(min(self.counts[feed], self.counts[feed + 1]))
            if is_copy(feed, n)
        }

    def requests(self) -> int:
        """How many requests for this farm's feeds the server has received."""
        prefix = f"/{self.prefix}/"
        return sum(request.path.startswith(prefix) for request in list(self.server.requests))


def rss_document(feed: int, stories: Sequence[Story]) -> str:
    """An RSS 2.0 feed of ``stories``."""
    items = "".join(
        f"<item><guid isPermaLink=\"false\">{story.guid}</guid><link>{story.link}</link>"
        f"<title>{escape(story.title)}</title><description>{escape(story.summary)}"
        f"</description><pubDate>{story.published:%a, %d %b %Y %H:%M:%S +0000}</pubDate>"
        + "".join(f"<category>{tag}</category>" for tag in story.tags)
        + "</item>\n"
        for story in stories
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Feed {feed}</title><link>https://news.example/f{feed}/</link>"
        f"<description>Crash farm feed {feed}</description><language>en</language>\n"
        f"{items}</channel></rss>\n"
    )


def atom_document(feed: int, stories: Sequence[Story]) -> str:
    """An Atom 1.0 feed of ``stories``."""
    newest = max((story.published for story in stories), default=BASE)
    entries = "".join(
        f"<entry><id>{story.guid}</id><title>{escape(story.title)}</title>"
        f"<link href={quoteattr(story.link)}/><published>{story.published:%Y-%m-%dT%H:%M:%SZ}"
        f"</published><updated>{story.published:%Y-%m-%dT%H:%M:%SZ}</updated>"
        f"<summary>{escape(story.summary)}</summary>"
        + "".join(f"<category term={quoteattr(tag)}/>" for tag in story.tags)
        + "</entry>\n"
        for story in stories
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">'
        f"<title>Feed {feed}</title><id>urn:crash:f{feed}</id>"
        f"<link href=\"https://news.example/f{feed}/\"/>"
        f"<updated>{newest:%Y-%m-%dT%H:%M:%SZ}</updated>\n{entries}</feed>\n"
    )


def json_document(feed: int, stories: Sequence[Story]) -> str:
    """A JSON Feed 1.1 of ``stories``."""
    return json.dumps({
        "version": "https://jsonfeed.org/version/1.1",
        "title": f"Feed {feed}",
        "home_page_url": f"https://news.example/f{feed}/",
        "language": "en",
        "items": [
            {"id": story.guid, "url": story.link, "title": story.title,
             "content_text": story.summary,
             "date_published": f"{story.published:%Y-%m-%dT%H:%M:%SZ}",
             "tags": list(story.tags)}
            for story in stories
        ],
    })


# --- one refeed installation and its processes ------------------------------------------


@dataclass
class Running:
    """A refeed process started by a test, in its own process group (so a kill takes its
    worker processes with it). Its stdout and stderr go through a pipe, copied to a log
    file by a thread of the test: a process under a file-size limit can still log (as
    under systemd, where stderr is the journal's pipe)."""

    process: subprocess.Popen[bytes]
    command: str
    log: Path
    copier: threading.Thread

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the process and every process of its group, at once."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.finish(timeout=30)

    def finish(self, timeout: float = 60) -> int:
        """Wait for the process to exit by itself; its exit code."""
        code = self.process.wait(timeout=timeout)
        self.copier.join(timeout=30)
        return code

    def stop(self) -> int:
        """SIGTERM (the daemon's clean stop) and wait; the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.finish(timeout=30)

    def text(self) -> str:
        """Everything the process wrote so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")


def copy_output(pipe: IO[bytes], log: Path) -> None:
    """Copy ``pipe`` into ``log`` line by line until the process closes it."""
    with pipe, log.open("ab", buffering=0) as handle:
        for line in pipe:
            handle.write(line)


@dataclass
class Site:
    """One refeed installation: config, database and output folder under ``root``."""

    root: Path
    config: Path
    port: int
    running: list[Running] = field(default_factory=list)

    @property
    def database(self) -> Path:
        """The SQLite timeline."""
        return self.root / "refeed.db"

    @property
    def output(self) -> Path:
        """The output folder."""
        return self.root / "feeds"

    def start(self, *args: str, prefix: Sequence[str] = ()) -> Running:
        """Start ``refeed -c CONFIG ARGS`` (behind the ``prefix`` command, if any)."""
        log = self.root / f"{len(self.running):02d}-{args[0]}.log"
        log.touch()
        process = subprocess.Popen(
            [*prefix, sys.executable, "-m", "refeed", "-c", str(self.config), *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=self.root,
        )
        assert process.stdout is not None
        copier = threading.Thread(target=copy_output, args=(process.stdout, log), daemon=True)
        copier.start()
        running = Running(process, args[0], log, copier)
        self.running.append(running)
        return running

    def run(self, *args: str, prefix: Sequence[str] = ()) -> tuple[int, str]:
        """Run ``refeed ARGS`` to the end; its exit code and output."""
        running = self.start(*args, prefix=prefix)
        code = running.finish()
        return code, running.text()

    def cleanup(self) -> None:
        """Kill whatever this site still runs (a failed test must not leave a daemon)."""
        for running in self.running:
            if running.alive():
                running.kill()
            else:
                running.finish()


@pytest.fixture
def sites() -> Iterator[list[Site]]:
    """The sites a test creates; their processes are killed when it ends."""
    created: list[Site] = []
    yield created
    for site in created:
        site.cleanup()


def make_site(root: Path, farm: Farm, sites: list[Site]) -> Site:
    """A refeed installation polling every feed of ``farm`` every ``INTERVAL``."""
    root.mkdir(parents=True)
    port = free_port()
    config: dict[str, Any] = {
        "site": {"title": "Crash farm", "base_url": f"http://127.0.0.1:{port}/",
                 "languages": ["en"]},
        "server": {"host": "127.0.0.1", "port": port},
        # max_interval too: the feeds' pace (a minute between entries) must not stretch it
        "polling": {"interval": INTERVAL, "min_interval": INTERVAL, "max_interval": INTERVAL,
                    "timeout": "10s"},
        # every entry declares English; lingua is not what this test is about
        "language": {"detect": False},
        "tags": {tag.lower(): [tag] for tag in TAGS},
        "sources": [{"id": f"f{feed}", "url": farm.url(feed), "language": "en"}
                    for feed in range(farm.feeds)],
    }
    site = Site(root, write_config(root, config), port)
    sites.append(site)
    return site


def wait_for(check: Callable[[], bool], seconds: float, what: str, step: float = 0.1) -> float:
    """Poll ``check`` until it holds; when it did (monotonic). Fails after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds:.0f}s waiting for {what}")
        time.sleep(step)
    return time.monotonic()


def wait_started(running: Running) -> None:
    """Wait until a daemon logs that it runs (its signal handlers are installed then)."""

    def started() -> bool:
        if not running.alive():
            pytest.fail(f"refeed run exited:\n{running.text()}")
        return "event=started" in running.text()

    wait_for(started, 60, "the daemon to start")


def first_request_after(farm: Farm, seen: int, running: Running) -> float:
    """When the farm received its first request beyond the ``seen`` ones."""

    def requested() -> bool:
        if not running.alive():
            pytest.fail(f"refeed exited before polling:\n{running.text()}")
        return farm.requests() > seen

    return wait_for(requested, 30, "the first feed request", step=0.01)


# --- the output folder as a reader sees it ---------------------------------------------


@dataclass
class Survey:
    """One look at the output folder."""

    files: dict[str, bytes]  # published outputs (relative path -> bytes)
    temporaries: list[str]  # dotfiles other than the manifest


def check_document(relative: str, data: bytes) -> None:
    """Fail unless ``data`` is a complete document of the kind its name says."""
    suffix = Path(relative).suffix
    try:
        if suffix == ".json":
            document = json.loads(data)
            assert document["version"].startswith("https://jsonfeed.org/version/1")
            assert all("id" in item and "title" in item for item in document["items"])
        elif suffix == ".atom":
            root = etree.fromstring(data, _XML)
            assert root.tag == f"{ATOM}feed", root.tag
            assert all(entry.find(f"{ATOM}id") is not None for entry in root.iter(f"{ATOM}entry"))
        elif suffix == ".rss":
            root = etree.fromstring(data, _XML)
            assert root.tag == "rss", root.tag
            assert root.find("channel") is not None
        elif suffix == ".opml":
            root = etree.fromstring(data, _XML)
            assert root.tag == "opml", root.tag
            assert root.find("body") is not None
        elif suffix == ".html":
            text = data.decode("utf-8")
            assert text.rstrip().endswith("</html>"), "does not end with </html>"
            assert lxml_html.document_fromstring(text).find("body") is not None
        else:
            raise AssertionError("not a kind of file refeed publishes")
    except (AssertionError, ValueError, KeyError, TypeError, SyntaxError, etree.LxmlError) as error:
        tail = data[-80:].decode("utf-8", "replace")
        raise AssertionError(
            f"{relative} is not a complete document ({len(data)} bytes, ends {tail!r}): "
            f"{type(error).__name__}: {error}"
        ) from error


def survey(folder: Path) -> Survey:
    """Read every file of the output folder as a reader would, and fail on any file that
    is not complete, any temporary file the server would serve, or a listing (manifest,
    index.html, outputs.opml) naming a file that is not there."""
    files: dict[str, bytes] = {}
    temporaries: list[str] = []
    manifest: list[str] = []
    if not folder.exists():
        return Survey(files, temporaries)
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if relative == MANIFEST:
            with contextlib.suppress(FileNotFoundError):
                manifest = json.loads(path.read_bytes())["files"]
        elif any(part.startswith(".") for part in relative.split("/")):
            temporaries.append(relative)
            assert resolve_output_path(folder, relative) is None, f"{relative} is served"
        elif path.is_file() or not path.exists():
            try:
                files[relative] = path.read_bytes()
            except FileNotFoundError:
                raise AssertionError(f"{relative} vanished while being read") from None
            check_document(relative, files[relative])
    for listed in manifest:
        assert (folder / listed).is_file(), f"the manifest lists {listed}, which is missing"
    if "index.html" in files:
        for link in re.findall(r'href="([^"]+)"', files["index.html"].decode()):
            assert (folder / link).is_file(), f"index.html links {link}, which is missing"
    if "outputs.opml" in files:
        for outline in etree.fromstring(files["outputs.opml"], _XML).iter("outline"):
            url = outline.get("xmlUrl")
            if url:
                relative = re.sub(r"^https?://[^/]+/", "", url)
                assert (folder / relative).is_file(), f"outputs.opml lists {url}, missing"
    return Survey(files, temporaries)


def watch(running: Running, until: float, folder: Path) -> tuple[bool, int]:
    """Read the output folder over and over until ``until`` (monotonic) or until the
    process exits; (whether it is still running, how many surveys were made)."""
    surveys = 0
    while (left := until - time.monotonic()) > 0:
        if not running.alive():
            return False, surveys
        if left > 0.05:
            survey(folder)
            surveys += 1
        time.sleep(min(0.05, max(until - time.monotonic(), 0)))  # two cores, shared
    return running.alive(), surveys


def inodes(folder: Path) -> dict[str, int]:
    """The inode of every published file and of the manifest: ``os.replace`` gives a
    rewritten file a new one."""
    found: dict[str, int] = {}
    for directory, _folders, names in os.walk(folder):
        for name in names:
            if name.startswith(".") and name != MANIFEST:
                continue
            path = os.path.join(directory, name)
            with contextlib.suppress(FileNotFoundError):
                found[path] = os.stat(path).st_ino
    return found


def publish_moments(
    running: Running, folder: Path, before: dict[str, int], seconds: float,
    first_only: bool = False,
) -> tuple[float | None, float | None]:
    """Watch the output folder closely: when the first file was replaced (the publish
    began writing) and when the manifest was (it finished), or ``None``; with
    ``first_only``, return as soon as the first file was replaced."""
    began = finished = None
    manifest = str(folder / MANIFEST)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and running.alive():
        changed = {path for path, inode in inodes(folder).items() if before.get(path) != inode}
        if changed and began is None:
            began = time.monotonic()
            if first_only:
                break
        if manifest in changed:
            finished = time.monotonic()
            break
        time.sleep(0.001)
    return began, finished


def all_json(folder: Path) -> list[dict[str, Any]]:
    """The items of ``all.json`` (empty when it is not there yet)."""
    try:
        items: list[dict[str, Any]] = json.loads((folder / "all.json").read_bytes())["items"]
    except FileNotFoundError:
        return []
    return items


# --- the database ------------------------------------------------------------------------


@dataclass
class Timeline:
    """What a database holds."""

    integrity: list[str]
    foreign_key_problems: list[tuple[Any, ...]]
    doubled: list[tuple[str, str, int]]  # (source, key, rows) stored more than once
    titles: dict[Key, str]
    clusters: set[frozenset[Key]]  # entries stored as copies of one story (size >= 2)
    newest: list[str]  # titles of the newest originals, in timeline order


def integrity_problems(connection: sqlite3.Connection) -> list[str]:
    """``PRAGMA integrity_check`` (every problem, not the first 100), ``["ok"]`` when
    sound. SQLite 3.40.0 to 3.41.0 report "NULL value in T.C" for every row of a WITHOUT
    ROWID table whose primary key lists its columns in another order than the table
    (entry_tags), even in a database no crash ever touched: such a report counts only
    when the column really holds a NULL."""
    problems = []
    for (problem,) in connection.execute("PRAGMA integrity_check(1000000)"):
        match = re.fullmatch(r"NULL value in (\w+)\.(\w+)", problem)
        if match is not None:
            table, column = match.groups()
            nulls = connection.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}" IS NULL').fetchone()[0]
            if nulls == 0:
                continue
        problems.append(problem)
    return problems or ["ok"]


def read_timeline(database: Path, readonly: bool = False, check: bool = True) -> Timeline:
    """Read ``database`` (read-only: the live one, under a running daemon), and check its
    integrity unless ``check`` is false."""
    target = f"file:{database}?mode=ro" if readonly else f"file:{database}"
    connection = sqlite3.connect(target, uri=True, timeout=10)
    try:
        integrity = integrity_problems(connection) if check else []
        foreign = connection.execute("PRAGMA foreign_key_check").fetchall() if check else []
        doubled = connection.execute(
            "SELECT source_id, key, count(*) FROM entries GROUP BY source_id, key "
            "HAVING count(*) > 1").fetchall()
        rows = connection.execute(
            "SELECT id, source_id, key, title, duplicate_of FROM entries").fetchall()
        newest = [row[0] for row in connection.execute(
            "SELECT title FROM entries WHERE duplicate_of IS NULL "
            "ORDER BY published DESC, source_id, key LIMIT ?", [LIMIT])]
    finally:
        connection.close()
    keys = {row[0]: (row[1], row[2]) for row in rows}
    groups: dict[int, set[Key]] = {}
    for entry_id, _source, _key, _title, duplicate_of in rows:
        groups.setdefault(duplicate_of or entry_id, set()).add(keys[entry_id])
    return Timeline(
        integrity=integrity,
        foreign_key_problems=foreign,
        doubled=doubled,
        titles={(row[1], row[2]): row[3] for row in rows},
        clusters={frozenset(group) for group in groups.values() if len(group) > 1},
        newest=newest,
    )


def crashed_timeline(site: Site, scratch: Path) -> Timeline:
    """Read a copy of the crashed database files (the original is left for refeed's own
    recovery on restart)."""
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    for suffix in ("", "-wal"):
        source = site.database.with_name(site.database.name + suffix)
        if source.exists():
            shutil.copyfile(source, scratch / ("refeed.db" + suffix))
    return read_timeline(scratch / "refeed.db")


def assert_sound(timeline: Timeline) -> None:
    """Integrity ok, foreign keys consistent, no (source, key) stored twice."""
    assert timeline.integrity == ["ok"]
    assert timeline.foreign_key_problems == []
    assert timeline.doubled == []


def live_timeline(site: Site, check: bool = False) -> Timeline | None:
    """The database of a running daemon, read-only; ``None`` while it cannot be read."""
    try:
        return read_timeline(site.database, readonly=True, check=check)
    except sqlite3.Error:
        return None


def stored_all(site: Site, farm: Farm) -> bool:
    """Whether the site stores exactly what the farm lists, with current titles."""
    timeline = live_timeline(site)
    return timeline is not None and timeline.titles == farm.expected()


def published_all(site: Site) -> bool:
    """Whether ``all.json`` lists the newest originals the database holds."""
    timeline = live_timeline(site)
    try:
        listed = [item["title"] for item in all_json(site.output)]
    except ValueError:
        return False
    return timeline is not None and listed == timeline.newest


def caught_up(site: Site, farm: Farm) -> bool:
    """Whether the site stores exactly what the farm lists and has published it."""
    return stored_all(site, farm) and published_all(site)


# --- SIGKILL at random moments ------------------------------------------------------------


@dataclass(frozen=True)
class Windows:
    """How long an uninterrupted run of one round spends ingesting (first request to
    first file replaced: fetch, parse, store, render) and writing its outputs (first
    file replaced to manifest replaced)."""

    ingest: float
    publish: float


@dataclass
class Crashes:
    """The crash site, its farm and what the kills found so far."""

    site: Site
    farm: Farm
    scratch: Path
    rng: random.Random
    stored: set[Key] = field(default_factory=set)  # committed before the last kill
    kills: list[str] = field(default_factory=list)
    missed: int = 0  # runs that ended before their kill moment
    surveys: int = 0  # looks at the output folder while a process ran
    temporaries: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # seconds each phase took
    clock: float = field(default_factory=time.monotonic)

    def phase(self, name: str) -> None:
        """Note how long the phase that ends now took."""
        now = time.monotonic()
        self.phases[name] = round(now - self.clock, 1)
        self.clock = now

    def start(self, command: str) -> tuple[Running, int]:
        """Start ``refeed COMMAND``; with the farm's request count before it."""
        before = self.farm.requests()
        return self.site.start(command), before

    def after_kill(self, label: str) -> None:
        """Check the database (a copy of the crashed files) and the output folder."""
        timeline = crashed_timeline(self.site, self.scratch)
        assert_sound(timeline)
        stored = set(timeline.titles)
        assert stored <= set(self.farm.expected()), "entries that the farm never listed"
        lost = self.stored - stored
        assert not lost, f"{label}: committed entries lost: {sorted(lost)[:5]}"
        self.stored = stored
        self.temporaries |= set(survey(self.site.output).temporaries)
        self.kills.append(label + (" (folder half-published)" if cut_short(self.site.output)
                                   else ""))

    def measure(self, command: str, growing: list[int]) -> Windows:
        """One uninterrupted round of ``refeed COMMAND`` (the daemon is stopped once it
        has published the round's news): its ingest and publish windows."""
        site, farm = self.site, self.farm
        farm.advance(growing)
        before_files = inodes(site.output)
        running, before = self.start(command)
        started = first_request_after(farm, before, running)
        began, finished = publish_moments(running, site.output, before_files, 60)
        assert began is not None, running.text()
        assert finished is not None, running.text()
        if command == "run":
            wait_for(lambda: caught_up(site, farm), 60, "the daemon to publish the round")
            assert running.stop() == 0, running.text()
        else:
            assert running.finish() == 0, running.text()
            assert caught_up(site, farm), running.text()
        self.stored = set(read_timeline(site.database).titles)
        return Windows(ingest=began - started, publish=finished - began)

    def kill_at_random(self, command: str, phase: str, windows: Windows) -> None:
        """Run ``refeed COMMAND`` and SIGKILL it at a random moment of its ``phase``
        (``ingest``: from its first request; ``publish``: from its first file
        replaced), reading the output folder meanwhile; check what it left."""
        before_files = inodes(self.site.output)
        running, before = self.start(command)
        started = first_request_after(self.farm, before, running)
        if phase == "publish":
            began, _ = publish_moments(running, self.site.output, before_files, 60,
                                       first_only=True)
            started = began if began is not None else started
        window = windows.ingest if phase == "ingest" else windows.publish
        delay = self.rng.uniform(0, window)
        alive, count = watch(running, started + delay, self.site.output)
        self.surveys += count
        if not alive:  # it finished first: no kill, the next round draws again
            assert running.finish() == 0, running.text()
            self.missed += 1
            self.stored = set(read_timeline(self.site.database).titles)
            return
        running.kill()
        self.after_kill(f"{command}/{phase}+{delay:.2f}s")


def cut_short(folder: Path) -> bool:
    """Whether a publish was cut short: some output is newer than the manifest, which
    a publish writes last."""
    manifest = folder / MANIFEST
    if not manifest.exists():
        return any(folder.rglob("*.json"))
    written = manifest.stat().st_mtime_ns
    return any(path.stat().st_mtime_ns > written for path in folder.rglob("*")
               if path.is_file() and path != manifest)


def kill_between_commit_and_publish(crashes: Crashes, growing: list[int]) -> None:
    """SIGKILL the daemon once the round's news is committed but before the debounced
    publish has listed it: the state most likely to be forgotten by a restart."""
    site, farm = crashes.site, crashes.farm
    farm.advance(growing)
    running, before = crashes.start("run")
    first_request_after(farm, before, running)
    wait_for(lambda: stored_all(site, farm), 60, "the daemon to store the round", step=0.02)
    if published_all(site):
        crashes.problems.append("could not kill before the publish (it was too quick)")
    running.kill()
    crashes.after_kill("run:after-commit")


def http_status(url: str) -> int:
    """The HTTP status of a GET of ``url``."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def check_restarted_daemon(crashes: Crashes) -> None:
    """Restart the daemon after the last kill: it must store what the farm lists and
    publish everything it stores, with no news arriving; leftover temporary files must
    not be served."""
    site, farm = crashes.site, crashes.farm
    running, _ = crashes.start("run")
    wait_started(running)
    wait_for(lambda: stored_all(site, farm), 60, "the restarted daemon to store everything")
    try:
        wait_for(lambda: published_all(site), 10, "the restarted daemon to publish")
    except pytest.fail.Exception:
        crashes.problems.append(
            "after a SIGKILL between commit and publish, the restarted daemon never "
            f"published the stored entries (all.json lists {len(all_json(site.output))} "
            "entries, not the newest stored ones)"
        )
    for temporary in sorted(crashes.temporaries)[:3]:
        url = f"http://127.0.0.1:{site.port}/{temporary}"
        assert http_status(url) == 404, f"{url} is served"
    assert running.stop() == 0, running.text()


def compare_with_reference(
    crashes: Crashes, feed_server: FeedServer, root: Path, sites: list[Site]
) -> Timeline:
    """A last uninterrupted poll, then the timeline and outputs must equal those of one
    clean poll of the same farm into a fresh folder."""
    site, farm = crashes.site, crashes.farm
    code, output = site.run("poll")
    assert code == 0, output
    crashed = read_timeline(site.database)
    assert_sound(crashed)
    reference_farm = Farm(feed_server, "reference")
    reference_farm.same_state_as(farm)
    reference = make_site(root, reference_farm, sites)
    code, output = reference.run("poll")
    assert code == 0, output
    clean = read_timeline(reference.database)
    assert_sound(clean)
    assert clean.titles == farm.expected()  # the reference is right...
    assert clean.clusters == farm.expected_clusters()
    missing = set(clean.titles) - set(crashed.titles)
    assert not missing, f"entries the crashed site never stored: {sorted(missing)[:5]}"
    assert crashed.titles == clean.titles  # ...and the crashed site holds the same
    assert crashed.clusters == clean.clusters
    final = survey(site.output)
    assert sorted(final.files) == sorted(survey(reference.output).files)

    def listing(folder: Path) -> list[tuple[str, str]]:
        return sorted((item["title"], item["date_published"]) for item in all_json(folder))

    assert listing(site.output) == listing(reference.output)
    assert [item["title"] for item in all_json(site.output)] == crashed.newest
    crashes.temporaries |= set(final.temporaries)
    return crashed


@pytest.mark.slow
def test_sigkill_during_ingest_and_publish_loses_and_corrupts_nothing(
    tmp_path: Path, feed_server: FeedServer, sites: list[Site]
) -> None:
    farm = Farm(feed_server, "live")
    farm.serve()
    site = make_site(tmp_path / "crash", farm, sites)
    crashes = Crashes(site, farm, tmp_path / "scratch", random.Random(SEED))
    code, output = site.run("poll")  # the initial farm
    assert code == 0, output
    crashes.phase("initial poll")

    # refeed poll: a quarter of the feeds get news each round; half of the kills while
    # it ingests, half while it writes its outputs
    def growing() -> list[int]:
        return [feed for feed in range(FEEDS) if feed % GROUPS == (farm.round + 1) % GROUPS]

    poll_windows = crashes.measure("poll", growing())
    for number in range(POLL_KILLS * 2):
        if len(crashes.kills) == POLL_KILLS:
            break
        farm.advance(growing())
        phase = "ingest" if number % 2 == 0 else "publish"
        crashes.kill_at_random("poll", phase, poll_windows)
    assert len(crashes.kills) == POLL_KILLS, f"kill moments kept missing: {crashes.kills}"
    crashes.phase("poll kills")

    # refeed run: the first feeds get the news (the daemon polls overdue sources in
    # config order, 0.2s apart, and publishes 2s after the last change, so its ingest
    # window holds that wait too)
    first = list(range(GROUPS))
    run_windows = crashes.measure("run", first)
    for number in range(RUN_KILLS * 2):
        if len(crashes.kills) == POLL_KILLS + RUN_KILLS:
            break
        farm.advance(first)
        phase = "publish" if number % RUN_PUBLISH_EVERY == RUN_PUBLISH_EVERY - 1 else "ingest"
        crashes.kill_at_random("run", phase, run_windows)
    assert len(crashes.kills) == POLL_KILLS + RUN_KILLS, f"kills kept missing: {crashes.kills}"
    crashes.phase("run kills")
    kill_between_commit_and_publish(crashes, first)
    check_restarted_daemon(crashes)
    crashes.phase("restart")

    crashed = compare_with_reference(crashes, feed_server, tmp_path / "reference", sites)
    crashes.phase("reference")
    print(  # the report (pytest -s shows it)
        f"\ncrash farm: {len(crashed.titles)} entries, {len(crashed.clusters)} copy pairs; "
        f"windows: poll {poll_windows}, run {run_windows}; kills: {crashes.kills}; "
        f"runs that ended before their moment: {crashes.missed}; {crashes.surveys} looks "
        f"at the output folder; temporary files left by kills (never served, never "
        f"removed): {sorted(crashes.temporaries)}; seconds: {crashes.phases}"
    )
    assert not crashes.problems, crashes.problems


# --- a full disk and a read-only output folder ------------------------------------------


def limit_file_size_prefix(limit: int) -> list[str]:
    """A command prefix that runs the rest of the command with ``RLIMIT_FSIZE`` at
    ``limit`` bytes and SIGXFSZ ignored: writes past the limit fail with EFBIG, as on a
    full disk (set in a fresh interpreter that execs, not in ``preexec_fn``: the test
    process has threads)."""
    code = (
        "import os, resource, signal, sys;"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
        "hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1];"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, hard));"
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    return [sys.executable, "-c", code]


@contextlib.contextmanager
def full_disk(pid: int) -> Iterator[None]:
    """Make every write of the running process ``pid`` past byte 0 fail with EFBIG, its
    database's and its outputs' alike, as when the disk they share is full; lifted on
    exit. (CPython ignores SIGXFSZ, so the write fails instead of killing it.)"""
    old = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, old[1]))
    try:
        yield
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, old)


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make ``folder`` and everything in it unwritable, then writable again on exit.
    A normal user: ``chmod 0555`` on its folders. Root ignores permission bits, so as
    root the tree is made immutable (``chattr +i``), which the kernel enforces for root
    as well."""
    folders = [folder, *(path for path in folder.rglob("*") if path.is_dir())]
    modes = {path: path.stat().st_mode for path in folders}
    chattr = shutil.which("chattr") if os.geteuid() == 0 else None
    if os.geteuid() == 0:
        if chattr is None:
            pytest.fail("as root, chattr is needed to make a folder read-only")
        made = subprocess.run([chattr, "-R", "+i", str(folder)], capture_output=True,
                              text=True, check=False)
        if made.returncode != 0:
            pytest.fail(f"chattr +i failed, cannot make {folder} read-only: {made.stderr}")
    else:
        for path in folders:
            path.chmod(0o555)
    try:
        probe = folder / "probe.txt"
        try:
            probe.write_bytes(b"")
        except OSError:
            pass
        else:  # the test is only worth something if the folder refuses writes
            probe.unlink()
            pytest.fail(f"{folder} is still writable")
        yield
    finally:
        if chattr is not None:
            subprocess.run([chattr, "-R", "-i", str(folder)], check=True)
        else:
            for path, mode in modes.items():
                path.chmod(mode)


def excerpt(lines: Sequence[str], size: int = 2000) -> str:
    """A log without its routine poll lines (the first failed poll is kept), its head
    and its tail (where a traceback names the exception) when it is long."""
    failed = [line for line in lines if "event=poll-failed" in line][:1]
    kept = [line for line in lines if "event=poll" not in line or line in failed]
    text = "\n".join(kept)
    return text if len(text) <= size else f"{text[:size // 2]}\n[...]\n{text[-size // 2:]}"


def error_events(text: str, path: Path) -> list[str]:
    """The ``level=ERROR`` key=value event lines of a daemon log that name ``path``."""
    return [line for line in text.splitlines()
            if "level=ERROR" in line and "event=" in line and str(path) in line]


def requested_each(farm: Farm, since: dict[str, int]) -> bool:
    """Whether every feed of ``farm`` was requested again since the counts ``since``."""
    now = request_counts(farm)
    return all(now[path] > count for path, count in since.items())


def request_counts(farm: Farm) -> dict[str, int]:
    """Requests per feed path of ``farm``."""
    counts = {f"/{farm.path(feed)}": 0 for feed in range(farm.feeds)}
    for request in list(farm.server.requests):
        if request.path in counts:
            counts[request.path] += 1
    return counts


def check_cli_fault(site: Site, farm: Farm, fault: str, problems: list[str]) -> None:
    """``refeed poll`` with news, under ``fault``: exit 1 with one clear ``refeed:``
    line, no traceback, the database sound and nothing stored lost (with a read-only
    folder the news must be stored: only publishing failed), the outputs untouched."""
    before = read_timeline(site.database)
    farm.advance([0, 1])
    if fault == "disk-full":
        code, output = site.run("poll", prefix=limit_file_size_prefix(0))
    else:
        with read_only(site.output):
            code, output = site.run("poll")
    messages = [line for line in output.splitlines() if line.startswith("refeed: ")]
    if code != 1 or "Traceback" in output or not messages:
        problems.append(f"refeed poll, {fault}: exit {code}, not one clear error:\n"
                        f"{excerpt(output.splitlines())}")
    elif fault == "read-only" and str(site.output) not in messages[0]:
        problems.append(f"refeed poll, read-only: the error does not name {site.output}")
    after = read_timeline(site.database)
    assert_sound(after)
    assert set(before.titles) <= set(after.titles) <= set(farm.expected())
    if fault == "read-only":
        assert after.titles == farm.expected(), "the poll's entries were not committed"
    survey(site.output)
    assert [item["title"] for item in all_json(site.output)] == before.newest
    code, output = site.run("poll")  # the fault gone, the next poll catches up
    assert code == 0, output
    assert caught_up(site, farm), output


def check_daemon_fault(
    site: Site, farm: Farm, running: Running, fault: str, problems: list[str]
) -> None:
    """The daemon stores one feed's news; the fault strikes before its debounced
    publish: a clear ERROR event naming the output folder, the database sound with the
    news in it, every source polled again, the old outputs intact; once the fault is
    gone the daemon must publish again by itself (no news needed)."""
    logged = len(running.text().splitlines())
    feed = 0 if fault == "disk-full" else 1
    fault_on: contextlib.AbstractContextManager[None] = (
        full_disk(running.process.pid) if fault == "disk-full" else read_only(site.output)
    )
    with contextlib.ExitStack() as stack:
        if fault == "read-only":  # the folder only: the database stays writable
            stack.enter_context(fault_on)
        published = [item["title"] for item in all_json(site.output)]
        farm.advance([feed])
        wait_for(lambda: stored_all(site, farm), 30, f"{fault}: the news stored", step=0.02)
        if fault == "disk-full":  # the disk fills between commit and publish
            stack.enter_context(fault_on)
        counts = request_counts(farm)

        def error_logged() -> bool:
            return bool(error_events("\n".join(running.text().splitlines()[logged:]),
                                     site.output))

        try:
            wait_for(error_logged, 6, f"{fault}: an ERROR event naming {site.output}")
        except pytest.fail.Exception:
            problems.append(f"refeed run, {fault}: no ERROR event line names {site.output}; "
                            f"it logged:\n{excerpt(running.text().splitlines()[logged:])}")
        wait_for(lambda: requested_each(farm, counts), 15, f"{fault}: every source polled")
        assert running.alive(), running.text()
        timeline = live_timeline(site, check=True)
        assert timeline is not None
        assert_sound(timeline)
        assert timeline.titles == farm.expected(), "entries stored before the fault lost"
        survey(site.output)
        assert [item["title"] for item in all_json(site.output)] == published, (
            "the fault struck too late: the daemon had already published"
        )
    try:
        wait_for(lambda: published_all(site), RETRY_SECONDS,
                 f"{fault}: the daemon to publish again once the folder is writable")
    except pytest.fail.Exception:
        problems.append(f"refeed run, {fault}: not published again within "
                        f"{RETRY_SECONDS:.0f}s after the fault was gone (no retry)")


@pytest.mark.slow
def test_full_disk_and_read_only_output_give_clear_errors_and_the_daemon_recovers(
    tmp_path: Path, feed_server: FeedServer, sites: list[Site]
) -> None:
    farm = Farm(feed_server, "small", feeds=4, initial=10)
    farm.serve()
    site = make_site(tmp_path / "site", farm, sites)
    code, output = site.run("poll")
    assert code == 0, output
    problems: list[str] = []
    for fault in ("disk-full", "read-only"):
        check_cli_fault(site, farm, fault, problems)

    running = site.start("run")
    wait_started(running)
    for fault in ("disk-full", "read-only"):
        check_daemon_fault(site, farm, running, fault, problems)
    farm.advance([2])  # news after both faults: stored and published as usual
    wait_for(lambda: caught_up(site, farm), 20, "the daemon to store and publish news")
    assert running.alive()
    assert running.stop() == 0, running.text()
    assert_sound(read_timeline(site.database))
    survey(site.output)
    assert not problems, "\n\n".join(problems)
