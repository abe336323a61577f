"""Poll throughput of refeed against a local HTTP server serving real-world feeds.

Serves N sources (cycling through the well-formed RSS/Atom/JSON feeds of
``../shared/corpus/real``, read at run time) from an aiohttp server on 127.0.0.1 in a
child process, writes a temporary config and database, then runs
``refeed.pipeline.poll_all`` with the real process pool twice (a full poll, then a
conditional one that should be all 304s) and compares parse + normalize in the process
pool with running it inline. It prints numbers; it never asserts.

Run from the project root::

    .venv/bin/python bench/poll_throughput.py                  # 200 sources, no latency
    .venv/bin/python bench/poll_throughput.py --latency 0.05   # 50 ms per request

See bench/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import json
import os
import re
import sqlite3
import sys
import tempfile
import time
import xml.parsers.expat
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from _common import (
    PROJECT_ROOT,
    code_version,
    cpu_seconds,
    http_json,
    parallel_capacity,
    peak_rss_mb,
    rate,
    remove_unless_kept,
    send_port,
    settings_value,
    start_child,
    write_settings,
)
from aiohttp import web

from refeed.config import Settings
from refeed.model import ErrorInfo, PollResult
from refeed.pipeline import make_worker_pool, poll_all, utc_now
from refeed.storage import Store
from refeed.worker import process_document

DEFAULT_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus" / "real"
NOT_FEEDS = ("LICENSE", "LICENSE.md", "README.md")
JSON_FEED_VERSION = re.compile(r"^https?://jsonfeed\.org/version/[0-9.]+$")
CONTENT_TYPES = {
    "RSS": "application/rss+xml",
    "Atom": "application/atom+xml",
    "RDF": "application/rdf+xml",
    "JSON Feed": "application/feed+json",
}
BY_EXTENSION = {".json": "application/json", ".html": "text/html", ".opml": "text/x-opml"}
STATS_PATH = "/__stats"
# A small tag table, so normalize runs its alias lookups and match rules as in production.
TAGS: dict[str, Any] = {
    "ukraine": ["Ukraine", "Україна", "Украина"],
    "putin": {"aliases": ["Putin", "Путін", "Путин"], "match": ["(?i)\\bputin"]},
    "security": {"aliases": ["security", "infosec"], "match": ["(?i)\\bsecurity\\b"]},
    "podcast": {"aliases": ["podcast", "podcasts"], "match": ["(?i)\\bpodcast"]},
    "release": {"aliases": ["release", "releases"], "match": ["(?i)\\breleased?\\b"]},
}


# --------------------------------------------------------------------------- corpus


@dataclass(frozen=True)
class CorpusFile:
    """One file of the corpus and how it is served."""

    path: Path
    name: str  # relative to the corpus folder, e.g. feed-rs/rss_2.0_bbc.xml
    kind: str | None  # RSS / Atom / RDF / JSON Feed; None when not a well-formed feed
    reason: str  # why it is not a well-formed feed ("" when it is)
    content_type: str
    gzipped: bool  # the file itself is a gzip stream

    def body(self) -> bytes:
        """The document as a client sees it after Content-Encoding is undone."""
        data = self.path.read_bytes()
        return gzip.decompress(data) if self.gzipped else data


def classify(path: Path, corpus: Path) -> CorpusFile:
    """Decide whether ``path`` is a well-formed RSS/Atom/RDF/JSON feed."""
    data = path.read_bytes()
    name = path.relative_to(corpus).as_posix()
    fallback = BY_EXTENSION.get(path.suffix.lower(), "application/xml")
    if data.startswith(b"\x1f\x8b"):
        return CorpusFile(path, name, None, "gzip stream", fallback, gzipped=True)
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        kind, reason = _json_kind(data)
    else:
        kind, reason = _xml_kind(data)
    content_type = CONTENT_TYPES[kind] if kind else fallback
    return CorpusFile(path, name, kind, reason, content_type, gzipped=False)


def _json_kind(data: bytes) -> tuple[str | None, str]:
    try:
        document = json.loads(data)
    except ValueError as error:
        return None, f"invalid JSON ({error})"
    version = document.get("version") if isinstance(document, dict) else None
    if not isinstance(version, str) or not JSON_FEED_VERSION.match(version):
        return None, "JSON but not JSON Feed"
    return "JSON Feed", ""


def _xml_kind(data: bytes) -> tuple[str | None, str]:
    """Parse with expat (strict XML, no entity declarations) and look at the root."""
    parser = xml.parsers.expat.ParserCreate()
    roots: list[str] = []

    def start(name: str, _attributes: dict[str, str]) -> None:
        if not roots:
            roots.append(name.rpartition(":")[2])

    def entity(*_args: object) -> None:
        raise ValueError("declares entities")

    parser.StartElementHandler = start
    parser.EntityDeclHandler = entity
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as error:
        return None, f"not well-formed XML ({xml.parsers.expat.errors.messages[error.code]})"
    except ValueError as error:
        return None, str(error)
    root = roots[0] if roots else ""
    kind = {"rss": "RSS", "feed": "Atom", "RDF": "RDF"}.get(root)
    return (kind, "") if kind else (None, f"not a feed (<{root}>)")


def read_corpus(corpus: Path, include_broken: bool) -> tuple[list[CorpusFile], list[CorpusFile]]:
    """The files to serve and the files skipped, in a stable order."""
    files = [
        classify(path, corpus)
        for path in sorted(corpus.rglob("*"))
        if path.is_file() and path.name not in NOT_FEEDS
    ]
    served = [f for f in files if f.kind or include_broken]
    skipped = [f for f in files if not (f.kind or include_broken)]
    return served, skipped


@dataclass(frozen=True)
class BenchSource:
    """One configured source: its id, the path it is served at, and its document."""

    id: str
    path: str
    file: CorpusFile


def make_sources(files: Sequence[CorpusFile], count: int) -> list[BenchSource]:
    """``count`` sources cycling through ``files``, each at a distinct path."""
    return [
        BenchSource(f"src-{n:04d}", f"/s/{n:04d}/{files[(n - 1) % len(files)].path.name}",
                    files[(n - 1) % len(files)])
        for n in range(1, count + 1)
    ]


# --------------------------------------------------------------------------- server


@dataclass(frozen=True)
class Route:
    """What one path answers."""

    body: bytes
    etag: str
    content_type: str
    encoding: str | None


def serve_forever(
    routes: list[tuple[str, str, str, bool]], latency: float, compress: bool, conn: Connection
) -> None:
    """Child-process entry: serve ``(url path, file, content type, gzipped)`` routes on
    127.0.0.1 and send the port through ``conn``."""
    asyncio.run(_serve(routes, latency, compress, conn))


async def _serve(
    routes: list[tuple[str, str, str, bool]], latency: float, compress: bool, conn: Connection
) -> None:
    table: dict[str, Route] = {}
    for url_path, file, content_type, gzipped in routes:
        body = Path(file).read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if compress and not gzipped:
            body = gzip.compress(body, compresslevel=6)
        encoding = "gzip" if compress or gzipped else None
        table[url_path] = Route(body, etag, content_type, encoding)
    stats: Counter[str] = Counter()

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.path == STATS_PATH:
            return web.json_response(dict(stats))
        stats["requests"] += 1
        if latency:
            await asyncio.sleep(latency)
        route = table.get(request.path)
        if route is None:
            stats["404"] += 1
            return web.Response(status=404, text="not found")
        sent = {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}
        if route.etag in sent:
            stats["304"] += 1
            return web.Response(status=304, headers={"ETag": route.etag})
        headers = {"ETag": route.etag, "Content-Type": route.content_type}
        if route.encoding:
            headers["Content-Encoding"] = route.encoding
        stats["200"] += 1
        stats["bytes"] += len(route.body)
        return web.Response(body=route.body, headers=headers)

    app = web.Application()
    app.router.add_route("GET", "/{path:.*}", handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    send_port(conn, runner.addresses[0][1])
    await asyncio.Event().wait()  # until the parent terminates us


class ServerProcess:
    """The feed server in its own process, so it neither shares the GIL with the poller
    nor adds to the poller's memory."""

    def __init__(self, sources: Sequence[BenchSource], latency: float, compress: bool) -> None:
        routes = [(s.path, str(s.file.path), s.file.content_type, s.file.gzipped)
                  for s in sources]
        try:
            self._process, self.port = start_child(serve_forever, (routes, latency, compress),
                                                   "feed server")
        except RuntimeError as error:
            sys.exit(str(error))

    def url(self, path: str) -> str:
        """The absolute URL of ``path``."""
        return f"http://127.0.0.1:{self.port}{path}"

    def stats(self) -> Counter[str]:
        """Counters so far: requests, 200, 304, 404, bytes (as sent, after gzip)."""
        return Counter(http_json(self.url(STATS_PATH)))

    def stop(self) -> None:
        """Terminate the child process."""
        self._process.terminate()
        self._process.join(10)


# --------------------------------------------------------------------------- polling


def write_config(folder: Path, server: ServerProcess, sources: Sequence[BenchSource],
                 args: argparse.Namespace) -> Settings:
    """A config for the bench sources, validated by load_settings."""
    return write_settings(folder, {
        "database": "refeed.db",
        "output_dir": "feeds",
        "polling": {
            "concurrency": args.concurrency,
            "per_host": args.per_host,
            "timeout": f"{args.timeout}s",
        },
        "sources": [{"id": s.id, "url": server.url(s.path)} for s in sources],
        "tags": TAGS,
    })


@dataclass(frozen=True)
class PollRun:
    """One timed poll_all."""

    wall: float
    main_cpu: float  # CPU seconds of the main process (event loop, SQLite, pickling)
    results: list[PollResult]
    served: Counter[str]  # server counters during this poll
    done_at: list[float]  # seconds from the start at which each source finished, sorted


def timed_poll(settings: Settings, executor: Executor, server: ServerProcess) -> PollRun:
    """Run poll_all once on ``settings.database`` and time it."""
    store = Store.open(settings.database)
    before = server.stats()
    done_at: list[float] = []
    try:
        cpu, started = cpu_seconds(), time.perf_counter()
        results = asyncio.run(poll_all(
            settings, store, executor=executor,
            on_result=lambda _result: done_at.append(time.perf_counter() - started),
        ))
        wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    finally:
        store.close()
    return PollRun(wall, cpu, results, server.stats() - before, sorted(done_at))


@dataclass(frozen=True)
class ParseRun:
    """One timed parse | normalize of every source's document."""

    wall: float
    entries: int
    finished: list[tuple[float, str]]  # (completion time, corpus file) in completion order


def timed_parse(
    executor: Executor, settings: Settings, sources: Sequence[BenchSource],
    bodies: dict[Path, bytes], base_url: Callable[[str], str],
) -> ParseRun:
    """parse | normalize every source's document through ``executor``, one job per source
    as poll_all submits them."""
    rules = (settings_value(settings, "taxonomy"), settings_value(settings, "language_policy"))
    now, cap = utc_now(), settings.polling.max_bytes
    configured = {source.id: source for source in settings.sources}
    finished: list[tuple[float, str]] = []
    started = time.perf_counter()
    jobs = []
    for source in sources:
        job = executor.submit(
            process_document, bodies[source.file.path],
            {"content-type": source.file.content_type}, base_url(source.path),
            configured[source.id], rules, cap, now,
        )
        job.add_done_callback(_recorder(finished, source.file.name))
        jobs.append(job)
    entries = sum(len(job.result().entries) for job in jobs)
    return ParseRun(time.perf_counter() - started, entries, finished)


def _recorder(finished: list[tuple[float, str]], name: str) -> Callable[[Future[Any]], None]:
    def record(_job: Future[Any]) -> None:
        finished.append((time.perf_counter(), name))

    return record


def slowest_documents(run: ParseRun, start: float, count: int) -> list[tuple[float, str]]:
    """With one worker, jobs run one after another: the time between completions is each
    document's own parse | normalize time."""
    times: dict[str, float] = {}
    previous = start
    for moment, name in sorted(run.finished):
        times[name] = max(times.get(name, 0.0), moment - previous)
        previous = moment
    return sorted(((t, name) for name, t in times.items()), reverse=True)[:count]


# --------------------------------------------------------------------------- report


def describe_error(error: ErrorInfo, url: str) -> str:
    """The error with the source URL taken out, so equal reasons group together."""
    return f"{error.kind}: {error.message.replace(url, '<url>')}"


def report_poll(title: str, run: PollRun, sources: Sequence[BenchSource],
                server: ServerProcess) -> None:
    """Print the numbers of one poll."""
    by_id = {s.id: s for s in sources}
    statuses = Counter(result.status for result in run.results)
    http = Counter(result.http_status for result in run.results)
    new = sum(r.counts.new for r in run.results)
    duplicates = sum(r.counts.duplicates for r in run.results)
    updated = sum(r.counts.updated for r in run.results)
    unchanged = sum(r.counts.unchanged for r in run.results)
    stored = new + duplicates
    print(f"\n{title}")
    print(f"  wall time       {run.wall:8.2f} s   ({rate(len(run.results), run.wall)} sources/s;"
          f" main-process CPU {run.main_cpu:.2f} s)")
    if run.done_at:
        done = run.done_at
        print(f"  sources done at {done[0]:.2f} s (first), {done[len(done) // 2]:.2f} s (half),"
              f" {done[-1]:.2f} s (last)")
    print("  results         " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
          + "   HTTP: " + ", ".join(f"{k} x{v}" for k, v in sorted(http.items(), key=str)))
    print(f"  entries stored  {stored:8d}     ({rate(stored, run.wall)} entries/s)"
          f"  = new {new} + duplicate {duplicates}; updated {updated}, unchanged {unchanged}")
    print(f"  server          {run.served['requests']} requests: {run.served['200']} x 200,"
          f" {run.served['304']} x 304, {run.served['404']} x 404;"
          f" {run.served['bytes'] / 2**20:.1f} MiB sent")
    _report_problems("failures", [
        (describe_error(r.error, server.url(by_id[r.source_id].path)), r.source_id)
        for r in run.results if r.error is not None
    ], by_id)
    _report_problems("warnings", [
        (r.warning.replace(server.url(by_id[r.source_id].path), "<url>"), r.source_id)
        for r in run.results if r.warning is not None and r.error is None
    ], by_id)


def _report_problems(label: str, problems: list[tuple[str, str]],
                     by_id: dict[str, BenchSource]) -> None:
    grouped: defaultdict[str, list[str]] = defaultdict(list)
    for reason, source_id in problems:
        grouped[reason].append(source_id)
    print(f"  {label:15s} {len(problems)}" + (" (parsed, with a bozo warning)" if problems
                                              and label == "warnings" else ""))
    for reason, ids in sorted(grouped.items(), key=lambda item: -len(item[1])):
        files = sorted({by_id[i].file.name for i in ids})
        shown = ", ".join(files[:4]) + (f", … (+{len(files) - 4})" if len(files) > 4 else "")
        print(f"    {len(ids):3d} x {reason[:160]}\n          files: {shown}")


def report_database(path: Path, sources: Sequence[BenchSource]) -> None:
    """Row counts straight from the database, as a cross-check of the poll counts, and
    which duplicates are of the same corpus document (served by several sources) and which
    are the same article in distinct corpus feeds."""
    document = {s.id: s.file.name for s in sources}
    with sqlite3.connect(path) as db:
        total, duplicates = db.execute(
            "SELECT count(*), count(duplicate_of) FROM entries").fetchone()
        tags = db.execute("SELECT count(*) FROM entry_tags").fetchone()[0]
        pairs = db.execute(
            "SELECT copy.source_id, original.source_id FROM entries AS copy"
            " JOIN entries AS original ON original.id = copy.duplicate_of").fetchall()
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20
    print(f"  database        {total} entry rows ({total - duplicates} originals, {duplicates}"
          f" duplicates), {tags} tag rows, {size:.1f} MiB incl. WAL")
    same = sum(document[copy] == document[original] for copy, original in pairs)
    cross = Counter(
        " = ".join(sorted({document[copy], document[original]}))
        for copy, original in pairs if document[copy] != document[original]
    )
    print(f"  duplicates      {same} of a document served by several sources (by construction),"
          f" {len(pairs) - same} of the same article in distinct corpus files:")
    for files, count in cross.most_common(6):
        print(f"    {count:4d}  {files}")
    if len(cross) > 6:
        print(f"    … and {len(cross) - 6} more file pairs")


def report_corpus(corpus: Path, served: Sequence[CorpusFile], skipped: Sequence[CorpusFile],
                  sources: Sequence[BenchSource]) -> None:
    """What is being served."""
    kinds = Counter(f.kind or "broken/other" for f in served)
    print(f"corpus          {corpus}")
    print(f"  serving       {len(served)} files: "
          + ", ".join(f"{kind} {n}" for kind, n in kinds.most_common()))
    reasons = Counter(re.sub(r" \(.*", "", f.reason) for f in skipped)
    print(f"  skipped       {len(skipped)} files"
          + "".join(f"{', ' if i else ': '}{reason} {n}"
                    for i, (reason, n) in enumerate(reasons.most_common())))
    distinct = len({s.file.path for s in sources})
    repeats = len(sources) - distinct
    print(f"  sources       {len(sources)} ({distinct} distinct documents; {repeats} sources"
          " repeat a document already served, so their entries are expected as duplicates)")


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sources", type=int, default=200, help="number of sources (200)")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds the server waits before every answer (0)")
    parser.add_argument("--concurrency", type=int, default=50, help="polling.concurrency (50)")
    parser.add_argument("--per-host", type=int, default=50,
                        help="polling.per_host (50: all sources share 127.0.0.1, so refeed's"
                             " default of 4 would make this a per-host-limit benchmark)")
    parser.add_argument("--timeout", type=float, default=30.0, help="polling.timeout, s (30)")
    parser.add_argument("--gzip", action="store_true", help="serve Content-Encoding: gzip")
    parser.add_argument("--include-broken", action="store_true",
                        help="also serve corpus files that are not well-formed feeds")
    parser.add_argument("--no-compare", action="store_true",
                        help="skip the process pool vs inline comparison")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="folder of real-world feeds (../shared/corpus/real)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.sources < 1:
        parser.error("--sources must be at least 1")
    return args


def compare(settings: Settings, folder: Path, sources: Sequence[BenchSource],
            server: ServerProcess, pool_poll: PollRun) -> None:
    """parse | normalize alone, then the whole poll, with the process pool and inline."""
    bodies = {s.file.path: s.file.body() for s in sources}
    workers = os.cpu_count() or 1
    print(f"\nparse + normalize only ({len(sources)} documents, "
          f"{sum(len(bodies[s.file.path]) for s in sources) / 2**20:.1f} MiB; no HTTP, no SQLite)")
    pool = make_worker_pool()
    try:
        cold = timed_parse(pool, settings, sources, bodies, server.url)
        warm = timed_parse(pool, settings, sources, bodies, server.url)
        capacity = parallel_capacity(pool, workers)
    finally:
        pool.shutdown()
    with ThreadPoolExecutor(max_workers=1) as executor:
        inline_start = time.perf_counter()
        inline = timed_parse(executor, settings, sources, bodies, server.url)
    print(f"  process pool, {workers} workers, cold  {cold.wall:6.2f} s"
          f"  ({cold.entries} entries; includes starting forkserver + workers)")
    print(f"  process pool, {workers} workers, warm  {warm.wall:6.2f} s  ({warm.entries} entries)")
    print(f"  inline (ThreadPoolExecutor(1))  {inline.wall:6.2f} s  ({inline.entries} entries)")
    print(f"  pool speed-up: {inline.wall / cold.wall:.2f}x cold, {inline.wall / warm.wall:.2f}x"
          f" warm (a pure-CPU loop gets {capacity:.2f}x from this pool right now)")
    if len({cold.entries, warm.entries, inline.entries}) > 1:
        print("  WARNING: the runs produced different entry counts; was src/ edited during"
              " the run? (each new pool imports refeed from disk)")
    print("  slowest documents (inline): " + "; ".join(
        f"{name} {seconds:.2f} s" for seconds, name in slowest_documents(inline, inline_start, 5)))

    inline_settings = settings.model_copy(update={"database": folder / "inline.db"})
    with ThreadPoolExecutor(max_workers=1) as executor:
        inline_poll = timed_poll(inline_settings, executor, server)
    print(f"\nwhole first poll on a fresh database ({len(sources)} sources)")
    print(f"  process pool (poll 1 above)     {pool_poll.wall:6.2f} s"
          f"  (main-process CPU {pool_poll.main_cpu:.2f} s)")
    print(f"  inline (ThreadPoolExecutor(1))  {inline_poll.wall:6.2f} s"
          f"  (main-process CPU {inline_poll.main_cpu:.2f} s;"
          f" {sum(r.counts.new + r.counts.duplicates for r in inline_poll.results)} entries"
          f" stored, {sum(r.status == 'failed' for r in inline_poll.results)} failed)")
    print(f"  pool speed-up: {inline_poll.wall / pool_poll.wall:.2f}x")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print its numbers."""
    args = parse_args(argv)
    corpus = args.corpus.resolve()
    if not corpus.is_dir():
        sys.exit(f"poll_throughput: corpus folder not found: {corpus}\n"
                 "It is expected at ../shared/corpus/real relative to the project root "
                 "(or pass --corpus PATH).")
    served, skipped = read_corpus(corpus, args.include_broken)
    if not served:
        sys.exit(f"poll_throughput: no well-formed RSS/Atom/JSON feed found in {corpus}")
    sources = make_sources(served, args.sources)
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="refeed-bench-"))
    server = ServerProcess(sources, args.latency, args.gzip)
    try:
        settings = write_config(folder, server, sources, args)
        print(f"refeed poll throughput — {os.cpu_count()} CPUs, Python {sys.version.split()[0]},"
              " load average " + " ".join(f"{load:.2f}" for load in os.getloadavg()))
        print(f"refeed          {code_version()}")
        report_corpus(corpus, served, skipped, sources)
        print(f"server          http://127.0.0.1:{server.port}/ (child process), ETag on,"
              f" latency {args.latency * 1000:g} ms, gzip {'on' if args.gzip else 'off'}")
        print(f"polling         concurrency {args.concurrency}, per_host {args.per_host},"
              f" timeout {args.timeout:g} s; temp folder {folder}")

        pool = make_worker_pool()
        try:
            first = timed_poll(settings, pool, server)
            report_poll(f"poll 1 — process pool ({os.cpu_count()} workers, started cold"
                        " inside this poll)", first, sources, server)
            report_database(settings.database, sources)
            print(f"  peak RSS (main) {peak_rss_mb():8.1f} MiB")
            second = timed_poll(settings, pool, server)
            report_poll("poll 2 — same sources again (conditional GET: expect 304s)",
                        second, sources, server)
            print(f"  peak RSS (main) {peak_rss_mb():8.1f} MiB (measured before the inline"
                  " runs below, which parse in this process)")
        finally:
            pool.shutdown()
        if not args.no_compare:
            compare(settings, folder, sources, server, first)
    finally:
        server.stop()
        remove_unless_kept(folder, args.keep)
    print(f"\ntotal bench time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
