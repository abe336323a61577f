"""refeed's performance suite (issue 7), one command: ``make bench``.

Starts the deterministic feed farm (bench/farm.py) in a child process and runs, against
the same N feeds in one run:

- refeed: cold ingest into an empty timeline (then publish), the all-304 re-poll (in
  process, and as the ``refeed poll`` CLI including process start and its publish), the
  churn re-poll (k new entries per feed, then the incremental publish), and ``refeed
  serve`` answering conditional and plain GETs;
- floors: feedparser on the same bytes in two processes (default settings and
  ``sanitize_html=False``), a raw aiohttp fetch of every feed (200s) and the all-304 fetch;
- the peer: the ``reader`` library (3.26, in its own venv bench/.venv-reader) ingesting the
  farm cold at round 1 and updating at round 2.

Each scenario prints wall time, CPU time of the whole process tree (pool workers and the
forkserver included, the farm excluded), peak RSS and a rate; a summary table and the
ratios to the floors and to reader close the run. It prints numbers; it never asserts.

    .venv/bin/python bench/perf.py                 # 1,000 feeds × 50 entries (~8 min)
    .venv/bin/python bench/perf.py --quick         # 100 × 20, a smoke test
    .venv/bin/python bench/perf.py --scenarios cold,floors --skip-reader

See bench/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from _common import (
    PROJECT_ROOT,
    ChildRun,
    TreeMeter,
    Usage,
    code_version,
    cpu_seconds,
    http_json,
    open_store,
    parallel_capacity,
    peak_rss_of,
    process_cpu,
    remove_unless_kept,
    rerun_at_ref,
    reset_peak_rss,
    run_measured,
    settings_value,
    tree_memory,
    write_settings,
)
from farm import (
    Farm,
    FarmSpec,
    describe,
    faults,
    feed_language,
    origin_feed,
    start_farm,
    summarize,
)
from farm_text import TAGS
from readers import published_feeds, read_outputs

import refeed
from refeed.config import Settings, load_settings
from refeed.model import PollResult
from refeed.pipeline import make_worker_pool, poll_all, publish_all

BENCH = Path(__file__).resolve().parent
SCENARIOS = ("cold", "steady", "churn", "serve", "daemon", "load", "floors", "reader")
NEEDS_COLD = frozenset({"steady", "churn", "serve"})
READER_VERSION = "3.26"  # the last release that supports Python 3.11
# reader 3.26 vendors a feedparser that imports ``sgmllib``; feedparser >= 6.0.12 (which
# pip picks) no longer pulls in sgmllib3k, which provides it, so it is named here
READER_PACKAGES = (f"reader=={READER_VERSION}", "sgmllib3k")
READER_VENV = BENCH / ".venv-reader"
READER_PEER = BENCH / "reader_peer.py"
REF_VARIABLE = "REFEED_PERF_REF"  # set in the re-run of --ref
SERVE_CONCURRENCY = 64
LOAD_CLIENTS = 100
FARM_GUID = re.compile(r"news(\d+)\.example/\?p=(\d+)$")
READER_TIMEOUT = 900.0
ACCEPT_GZIP = {"Accept-Encoding": "gzip"}


# --------------------------------------------------------------------------- results


@dataclass
class Result:
    """One measured scenario, as it appears in the summary table."""

    name: str
    wall: float
    count: int  # what ``unit`` counts: entries stored, files written, requests
    unit: str
    usage: Usage | None = None
    cpu: float | None = None  # when there is no Usage (a subprocess measured by wait4)
    main_rss: float | None = None
    note: str = ""
    timed_out: bool = False  # killed at --timeout: wall is a lower bound

    @property
    def cpu_total(self) -> float | None:
        """CPU seconds of the whole tree."""
        return self.usage.cpu if self.usage else self.cpu

    def row(self) -> str:
        """The summary-table line."""
        cpu = self.cpu_total
        rss = self.usage.main_rss if self.usage else self.main_rss
        children = self.usage.children_text if self.usage else "-"
        per_second = (f"{self.count / self.wall:,.0f}/s" if self.wall > 0 and not self.timed_out
                      else "-")
        wall = f">{self.wall:.0f}" if self.timed_out else f"{self.wall:.2f}"
        return (f"{self.name:34s} {wall:>8s} {_num(cpu, 8, 2)} "
                f"{_num(cpu / self.wall if cpu is not None and self.wall else None, 5, 2)} "
                f"{_num(rss, 8, 0)} {children:>10s} {self.count:>9,} {self.unit:8s} "
                f"{per_second:>10s}")


TABLE_HEAD = (f"{'scenario':34s} {'wall s':>8s} {'CPU s':>8s} {'cores':>5s} {'RSS MiB':>8s}"
              f" {'children':>10s} {'count':>9s} {'':8s} {'rate':>10s}")


def _num(value: float | None, width: int, digits: int) -> str:
    return f"{value:{width}.{digits}f}" if value is not None else f"{'-':>{width}s}"


def print_block(result: Result, details: Iterable[str] = ()) -> None:
    """A scenario's headline figures and its details, as soon as it is done."""
    if result.timed_out:
        print(f"  TIMED OUT: killed after {result.wall:.0f} s (--timeout)"
              + (f"; {result.note}" if result.note else ""))
        return
    cpu = result.cpu_total
    line = f"  wall {result.wall:.2f} s"
    if cpu is not None:
        line += f"   CPU {cpu:.2f} s ({cpu / result.wall:.2f} cores)" if result.wall else ""
    if result.usage:
        line += (f", of which main process {result.usage.main_cpu:.2f} s"
                 f"   peak RSS main {result.usage.main_rss:.0f} MiB")
        if result.usage.child_rss:
            line += (f", children {len(result.usage.child_rss)}: largest "
                     f"{max(result.usage.child_rss):.0f} MiB, sum "
                     f"{sum(result.usage.child_rss):.0f} MiB")
    elif result.main_rss is not None:
        line += f"   peak RSS {result.main_rss:.0f} MiB"
    print(line)
    rate = f"{result.count / result.wall:,.0f}/s" if result.wall else "-"
    print(f"  {result.count:,} {result.unit} ({rate})" + (f"; {result.note}" if result.note
                                                           else ""))
    for detail in details:
        print(f"  {detail}")


def cores_available() -> float:
    """How many cores a pool of one process per CPU really gets right now (another job
    on the machine shows up here; compare it with the cores column)."""
    workers = os.cpu_count() or 1
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return parallel_capacity(pool, workers)


def heading(title: str) -> None:
    """A scenario heading."""
    print(f"\n== {title}", flush=True)


# --------------------------------------------------------------------------- refeed


@dataclass
class Bench:
    """What the scenarios share: options, the farm, the config, the results so far."""

    args: argparse.Namespace
    spec: FarmSpec
    folder: Path
    farm: Farm
    settings: Settings
    config_path: Path
    results: dict[str, Result] = field(default_factory=dict)
    round: int = 1
    publish_stuck: bool = False  # a publish timed out: skip the steps that publish

    def farm_round(self, round: int) -> None:
        """Make the farm serve ``round``."""
        if round != self.round:
            seconds = self.farm.set_round(round)
            print(f"  (farm switched to round {round}, rendered in {seconds:.1f} s)")
            self.round = round

    def meter(self, *exclude: int) -> TreeMeter:
        """A meter of this process tree without the farm (and ``exclude``)."""
        return TreeMeter(exclude=(self.farm.pid, *exclude))

    def add(self, key: str, result: Result, details: Iterable[str] = ()) -> Result:
        """Record and print a result."""
        self.results[key] = result
        print_block(result, details)
        return result


def source_id(index: int) -> str:
    """The config id of farm feed ``index``."""
    return f"feed-{index:04d}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def refeed_config(farm: Farm, spec: FarmSpec, concurrency: int, port: int) -> dict[str, Any]:
    """The config: every farm feed, per_host = concurrency (they share one host), the
    site's three languages and the tag table of the farm's spellings."""
    return {
        "site": {"title": "refeed bench", "base_url": f"http://127.0.0.1:{port}/",
                 "languages": ["uk", "ru", "en"]},
        "database": "refeed.db",
        "output_dir": "feeds",
        "server": {"host": "127.0.0.1", "port": port},
        "polling": {"concurrency": concurrency, "per_host": concurrency, "timeout": "30s"},
        "sources": [{"id": source_id(i), "url": farm.url(i)} for i in range(spec.feeds)],
        "tags": TAGS,
    }


@dataclass(frozen=True)
class PollRun:
    """One timed poll_all with refeed's own process pool."""

    wall: float
    usage: Usage
    results: list[PollResult]
    served: Counter[str]


def timed_poll(bench: Bench) -> PollRun:
    """poll_all over every source with a fresh pool (as ``refeed poll`` makes one),
    measured before the pool shuts down so its workers are still there to be counted."""
    store = open_store(bench.settings.database)
    pool = make_worker_pool(settings_value(bench.settings, "language_policy"))
    before = bench.farm.stats()
    try:
        meter = bench.meter()
        started = time.perf_counter()
        results = asyncio.run(poll_all(bench.settings, store, executor=pool))
        wall = time.perf_counter() - started
        usage = meter.stop()
    finally:
        pool.shutdown()
        store.close()
    return PollRun(wall, usage, results, bench.farm.stats() - before)


def poll_details(run: PollRun, bench: Bench) -> list[str]:
    """Statuses, counts, failures and what the farm served."""
    kinds = {source_id(index): kind for index, kind in faults(bench.spec).items()}
    statuses = Counter(result.status for result in run.results)
    http = Counter(str(result.http_status) for result in run.results)
    counts = Counter[str]()
    for result in run.results:
        counts.update({"new": result.counts.new, "duplicates": result.counts.duplicates,
                       "updated": result.counts.updated, "unchanged": result.counts.unchanged})
    problems = Counter(_short(f"{r.error.kind}: {r.error.message}") for r in run.results
                       if r.error is not None)
    warnings = Counter(_short(r.warning) for r in run.results
                       if r.warning is not None and r.error is None)
    served = run.served
    lines = [
        "results  " + ", ".join(f"{status} {n}" for status, n in statuses.most_common())
        + "; HTTP " + ", ".join(f"{code} ×{n}" for code, n in sorted(http.items())),
        f"entries  new {counts['new']:,}, duplicates {counts['duplicates']:,}, updated "
        f"{counts['updated']:,}, unchanged {counts['unchanged']:,}",
        f"farm     {served['requests']:,} requests: {served['200']:,} × 200, {served['304']:,}"
        f" × 304, {served['500']:,} × 500, {served['slow']:,} slow; "
        f"{served['bytes'] / 1e6:.1f} MB sent",
    ]
    changed = sorted(((r.counts.updated, r.source_id) for r in run.results
                      if r.counts.updated), reverse=True)
    if changed:
        lines.append("updated  in " + ", ".join(
            f"{source}{f' ({kinds[source]})' if source in kinds else ''} ×{n}"
            for n, source in changed[:6])
                     + (f" … ({len(changed)} sources)" if len(changed) > 6 else ""))
    lines += [f"failed   {n} × {text}" for text, n in problems.most_common()]
    lines += [f"warning  {n} × {text}" for text, n in warnings.most_common()]
    return lines


def _short(text: str) -> str:
    """A message without its URL and parser position, so equal problems group."""
    text = re.sub(r"https?://127\.0\.0\.1:\d+/f/\d+\.\w+", "<url>", text)
    return re.sub(r"<unknown>:\d+:\d+", "<unknown>:L:C", text)[:150]


def stored_entries(run: PollRun) -> int:
    """Rows a poll added or changed."""
    return sum(r.counts.new + r.counts.duplicates + r.counts.updated for r in run.results)


def database_details(bench: Bench) -> list[str]:
    """A cross-check straight from SQLite against what the farm knows: duplicates marked
    right and wrong, languages, tags."""
    try:
        with sqlite3.connect(bench.settings.database) as db:
            rows = db.execute(
                "SELECT id, source_id, guid, language, duplicate_of FROM entries").fetchall()
            tags = db.execute("SELECT tag, count(*) FROM entry_tags GROUP BY tag"
                              " ORDER BY 2 DESC LIMIT 8").fetchall()
    except sqlite3.Error as error:
        return [f"database cross-check unavailable: {error}"]
    story = {row[0]: _story(row[2]) for row in rows}
    copies = Counter(story.values())
    copies.pop(None, None)
    expected = sum(count - 1 for count in copies.values())
    marked = [(row[0], row[4]) for row in rows if row[4] is not None]
    right = sum(1 for copy, original in marked if story[copy] == story[original])
    languages = Counter(row[3] or "?" for row in rows)
    astray = sum(1 for row in rows
                 if row[3] != feed_language(int(row[1].rpartition("-")[2])).code)
    return [
        f"database {len(rows):,} entry rows; dedup against the farm's truth: {expected:,} "
        f"expected duplicates (stories stored from several feeds), {len(marked):,} marked: "
        f"{right:,} right, {len(marked) - right:,} merged into another story; "
        f"{expected - right:,} copies missed",
        "         languages " + ", ".join(f"{lang} {n:,}" for lang, n in languages.most_common())
        + f" ({astray:,} entries not in their feed's language)",
        "         top tags " + ", ".join(f"{tag} {n:,}" for tag, n in tags),
    ]


def _story(guid: str | None) -> tuple[int, int] | None:
    """The farm story an entry tells, from its guid (``https://news0007.example/?p=12``)."""
    found = FARM_GUID.search(guid or "")
    if not found:
        return None
    feed, seq = int(found[1]), int(found[2])
    return origin_feed(feed, seq), seq


def publish_child(config: str, conn: Connection) -> None:
    """Child-process entry: publish_all on the config's database, then send its figures
    (wall, CPU and peak RSS of publish_all alone, and the PublishReport counts)."""
    try:
        settings = load_settings(config)
        store = open_store(settings.database)
        try:
            reset_peak_rss(os.getpid())
            cpu, started = cpu_seconds(), time.perf_counter()
            report = publish_all(settings, store)
            wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        finally:
            store.close()
        conn.send({"wall": wall, "cpu": cpu, "rss": peak_rss_of(os.getpid()),
                   "written": len(report.written), "unchanged": report.unchanged,
                   "removed": len(report.removed)})
    except Exception as error:  # the parent reports it; the bench goes on
        conn.send({"error": f"{type(error).__name__}: {error}"})


def timed_publish(bench: Bench, key: str, name: str) -> None:
    """publish_all in a child process (so a publish slower than --timeout can be
    stopped), measured there. Once one publish timed out, later ones are skipped."""
    if bench.publish_stuck:
        print("  skipped: an earlier publish timed out (it would again)")
        return
    result = _publish_in_child(bench, name)
    bench.publish_stuck = result.timed_out
    bench.add(key, result)


def _publish_in_child(bench: Bench, name: str) -> Result:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=publish_child, args=(str(bench.config_path), send),
                              name="publish", daemon=True)
    process.start()
    try:
        if not receive.poll(bench.args.timeout):
            return Result(name, bench.args.timeout, 0, "files", timed_out=True,
                          note="publish_all did not finish")
        answer = receive.recv()
    finally:
        process.kill()
        process.join(30)
    if "error" in answer:
        return Result(name, 0.0, 0, "files", note=f"FAILED: {answer['error']}")
    return Result(name, answer["wall"], answer["written"], "files", cpu=answer["cpu"],
                  main_rss=answer["rss"],
                  note=f"{answer['unchanged']:,} unchanged, {answer['removed']} removed")


def scenario_cold(bench: Bench) -> None:
    """Cold ingest into an empty timeline, then publish."""
    bench.farm_round(1)
    heading(f"1. cold ingest: poll_all of {bench.spec.feeds:,} feeds into an empty database"
            f" (process pool, {os.cpu_count()} workers, language detection on)")
    run = timed_poll(bench)
    bench.add("cold", Result("cold ingest (poll)", run.wall, stored_entries(run), "entries",
                             run.usage), poll_details(run, bench) + database_details(bench))
    heading("1b. publish after the cold ingest (publish_all: every output rendered)")
    timed_publish(bench, "publish-cold", "publish after cold ingest")


def scenario_steady(bench: Bench) -> None:
    """All-304 re-poll, in process and through the CLI."""
    bench.farm_round(1)
    heading("2. steady state: re-poll of every feed, nothing changed"
            + ("" if bench.spec.validators else " (farm sends no validators: all 200s)"))
    run = timed_poll(bench)
    bench.add("steady", Result("steady re-poll (poll)", run.wall, len(run.results), "feeds",
                               run.usage), poll_details(run, bench))
    heading("2b. steady state through the CLI: `refeed poll` (process start, poll, publish)")
    if bench.publish_stuck:
        print("  skipped: `refeed poll` ends with a publish, and publish timed out")
        return
    child = run_measured([*refeed_command(), "-c", str(bench.config_path), "poll"],
                         timeout=bench.args.timeout)
    tail = child.stdout.strip().splitlines()[-2:] if child.stdout.strip() else []
    bench.add("steady-cli", Result("steady re-poll (`refeed poll`)", child.wall,
                                   bench.spec.feeds, "feeds", cpu=child.cpu,
                                   main_rss=child.max_rss, timed_out=child.timed_out,
                                   note=f"exit {child.returncode}"),
              [f"cli      {line}" for line in tail] + _stderr_tail(child))


def _stderr_tail(child: ChildRun) -> list[str]:
    lines = child.stderr.strip().splitlines()
    return ([f"stderr   {line}" for line in lines[-5:]]
            if child.returncode and not child.timed_out else [])


def refeed_command() -> list[str]:
    """The refeed CLI of this venv."""
    script = Path(sys.executable).with_name("refeed")
    return [str(script)] if script.exists() else [sys.executable, "-m", "refeed"]


def scenario_churn(bench: Bench) -> None:
    """Round 2: k new entries per feed, re-poll, then the incremental publish."""
    heading(f"3. churn: farm at round 2 ({bench.spec.churn} new entries per feed), re-poll")
    bench.farm_round(2)
    run = timed_poll(bench)
    bench.add("churn", Result("churn re-poll (poll)", run.wall, stored_entries(run), "entries",
                              run.usage), poll_details(run, bench))
    heading("3b. publish after the churn poll")
    timed_publish(bench, "publish-churn", "publish after churn")


# --------------------------------------------------------------------------- daemon


@contextmanager
def running_daemon(bench: Bench, name: str) -> Iterator[tuple[subprocess.Popen[bytes], Path, int]]:
    """`refeed run` over the farm with a database and output folder of its own (under
    ``name``), stopped with SIGTERM at the end: (process, folder, server port)."""
    bench.farm_round(1)
    port = free_port()
    config = dict(refeed_config(bench.farm, bench.spec, bench.args.concurrency, port),
                  database=f"{name}.db", output_dir=f"{name}-feeds")
    folder = bench.folder / name
    folder.mkdir(exist_ok=True)
    write_settings(folder, config)
    # its log goes to a file: a pipe nobody reads fills up and stops the daemon
    with (folder / "daemon.log").open("wb") as log:
        daemon = subprocess.Popen([*refeed_command(), "-c", str(folder / "config.yaml"), "run"],
                                  stdout=subprocess.DEVNULL, stderr=log)
        try:
            yield daemon, folder, port
        finally:
            daemon.terminate()
            daemon.wait(30)


def scenario_daemon(bench: Bench) -> None:
    """`refeed run` on an empty database of its own: the memory of its process tree
    (PSS, so pages the workers share with the forkserver count once) while it ingests."""
    seconds = bench.args.daemon_seconds
    heading(f"7. daemon: `refeed run` over {bench.spec.feeds:,} sources from an empty"
            f" database, {seconds:g} s, memory sampled every 2 s")
    peak: dict[str, float] = {}
    started = time.perf_counter()
    with running_daemon(bench, "daemon") as (daemon, folder, _):
        while time.perf_counter() - started < seconds and daemon.poll() is None:
            time.sleep(2)
            for key, value in tree_memory(daemon.pid).items():
                peak[key] = max(peak.get(key, 0.0), value)
    entries = _count_rows(folder / "daemon.db")
    bench.add("daemon", Result("daemon (`refeed run`)", time.perf_counter() - started,
                               entries, "entries", main_rss=peak.get("main RSS"),
                               note=f"peak PSS {peak.get('total PSS', 0):.0f} MiB"),
              [f"memory   peak {key} {value:.0f} MiB" for key, value in sorted(peak.items())])


def _count_rows(database: Path) -> int:
    if not database.exists():
        return 0
    with sqlite3.connect(database) as connection:
        count: int = connection.execute("SELECT count(*) FROM entries").fetchone()[0]
    return count


def scenario_load(bench: Bench) -> None:
    """While `refeed run` polls the farm (and publishes as it goes), LOAD_CLIENTS clients
    fetch its outputs as feed readers do: errors and latency percentiles."""
    seconds = bench.args.load_seconds
    heading(f"8. load: {LOAD_CLIENTS} concurrent clients fetch outputs for {seconds:g} s while"
            f" `refeed run` polls {bench.spec.feeds:,} feeds")
    with running_daemon(bench, "load") as (daemon, _, port):
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base + "/healthz", daemon)
        paths = published_feeds(base, deadline=time.monotonic() + bench.args.timeout)
        started = time.perf_counter()
        load = asyncio.run(read_outputs(base, paths, seconds, LOAD_CLIENTS))
        wall = time.perf_counter() - started
        alive = daemon.poll() is None
    details = [f"feeds    {len(paths)} output files fetched round-robin, each client sends the"
               " ETag it last saw (a feed reader's conditional GET)", *load.lines(),
               f"daemon   {'still running' if alive else 'EXITED'} at the end"]
    p99 = load.percentile_ms(0.99)
    bench.add("load", Result("load: outputs under polling", wall, len(load.latencies),
                             "requests", note=f"p99 {p99:.1f} ms" if load.latencies else ""),
              details)


# --------------------------------------------------------------------------- serve


def scenario_serve(bench: Bench) -> None:
    """`refeed serve` on the published folder: conditional and plain GETs per second."""
    heading(f"5. serve: `refeed serve` on the published folder, {SERVE_CONCURRENCY} concurrent"
            f" connections from an in-process aiohttp client, {bench.args.serve_seconds:g} s"
            " per phase")
    output = bench.settings.output_dir
    paths = sorted("/" + p.relative_to(output).as_posix() for p in output.rglob("*")
                   if p.is_file() and not p.name.startswith("."))
    if not paths:
        print(f"  skipped: nothing published in {output}")
        return
    base = f"http://127.0.0.1:{bench.settings.server.port}"
    server = subprocess.Popen([*refeed_command(), "-c", str(bench.config_path), "serve"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_healthy(base + "/healthz", server)
        etags = asyncio.run(_collect_etags(base, paths))
        print(f"  {len(paths)} published files, {sum(1 for e in etags if e)} with an ETag")
        for key, label, tags in (("serve-304", "serve: conditional GETs", etags),
                                 ("serve-200", "serve: plain GETs (gzip)", None)):
            meter = bench.meter(server.pid)
            server_cpu = process_cpu(server.pid)
            started = time.perf_counter()
            statuses = asyncio.run(_hammer(base, paths, tags, bench.args.serve_seconds))
            wall = time.perf_counter() - started
            usage = meter.stop()
            server_cpu = process_cpu(server.pid) - server_cpu
            count = sum(statuses.values())
            bench.add(key, Result(label, wall, count, "requests",
                                  cpu=server_cpu, main_rss=_rss(server.pid),
                                  note="statuses " + ", ".join(
                                      f"{s} ×{n:,}" for s, n in sorted(statuses.items()))),
                      [f"client   the in-process client used {usage.cpu:.2f} s CPU (it shares"
                       " the 2 cores: CPU and RSS above are the server's)"])
            if shutil.which("wrk"):
                print(f"  wrk      {_wrk(base, paths, tags, bench)}")
        if not shutil.which("wrk"):
            print("  wrk      not installed (apt-get install wrk), skipped")
    finally:
        server.terminate()
        server.wait(10)


def _rss(pid: int) -> float | None:
    return peak_rss_of(pid) or None


def wait_healthy(url: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Wait until ``server`` answers ``url`` (its /healthz); fail when it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            stderr = server.stderr.read().decode() if server.stderr else ""
            raise RuntimeError(f"refeed serve exited with {server.returncode}: {stderr}")
        try:
            http_json(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("refeed serve did not answer /healthz in time")


async def _collect_etags(base: str, paths: Sequence[str]) -> list[str | None]:
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        etags = []
        for path in paths:
            async with session.get(base + path, headers=ACCEPT_GZIP) as response:
                await response.read()
                etags.append(response.headers.get("ETag"))
        return etags


async def _hammer(base: str, paths: Sequence[str], etags: Sequence[str | None] | None,
                  seconds: float) -> Counter[int]:
    """GET ``paths`` round-robin from SERVE_CONCURRENCY connections for ``seconds``
    (with If-None-Match when ``etags`` is given)."""
    statuses: Counter[int] = Counter()
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=SERVE_CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:

        async def worker(start: int) -> None:
            index = start
            while time.perf_counter() < deadline:
                slot = index % len(paths)
                headers = dict(ACCEPT_GZIP)
                tag = etags[slot] if etags else None
                if tag:
                    headers["If-None-Match"] = tag
                async with session.get(base + paths[slot], headers=headers) as response:
                    await response.read()
                    statuses[response.status] += 1
                index += SERVE_CONCURRENCY

        await asyncio.gather(*(worker(n) for n in range(SERVE_CONCURRENCY)))
    return statuses


def _wrk(base: str, paths: Sequence[str], etags: Sequence[str | None] | None,
         bench: Bench) -> str:
    """wrk's requests/s over the same paths (a Lua script rotates them)."""
    def lua_list(values: Iterable[str]) -> str:
        return "{" + ", ".join(json.dumps(value) for value in values) + "}"

    script = bench.folder / "wrk.lua"
    script.write_text(
        f"local paths = {lua_list(paths)}\n"
        f"local etags = {lua_list(tag or '' for tag in etags) if etags else '{}'}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #paths + 1\n"
        '  local headers = {["Accept-Encoding"] = "gzip"}\n'
        '  if etags[i] and etags[i] ~= "" then headers["If-None-Match"] = etags[i] end\n'
        '  return wrk.format("GET", paths[i], headers)\n'
        "end\n", encoding="utf-8")
    seconds = max(1, round(bench.args.serve_seconds))
    done = subprocess.run(["wrk", "-t2", f"-c{SERVE_CONCURRENCY}", f"-d{seconds}s", "-s",
                           str(script), base + "/"], capture_output=True, text=True, check=False)
    found = re.search(r"Requests/sec:\s*([\d.]+)", done.stdout)
    if not found:
        return f"failed: {done.stderr.strip() or done.stdout.strip()}"
    value = float(found.group(1))
    bench.results[f"wrk-{'304' if etags else '200'}"] = Result(
        f"serve: wrk {'conditional' if etags else 'plain'} GETs", seconds, int(value * seconds),
        "requests")
    return f"{value:,.0f} requests/s (wrk -t2 -c{SERVE_CONCURRENCY}, {seconds} s)"


# --------------------------------------------------------------------------- floors


@dataclass(frozen=True)
class Fetched:
    """One raw GET."""

    url: str
    status: int
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None


async def _fetch_all(urls: Sequence[str], concurrency: int,
                     previous: dict[str, Fetched] | None) -> list[Fetched]:
    """GET every URL (conditionally when ``previous`` has validators), ``concurrency``
    at once, decompressing as refeed does."""
    limit = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(url: str) -> Fetched:
            headers = {}
            old = previous.get(url) if previous else None
            if old and old.etag:
                headers["If-None-Match"] = old.etag
            if old and old.last_modified:
                headers["If-Modified-Since"] = old.last_modified
            async with limit, session.get(url, headers=headers) as response:
                body = await response.read()
                return Fetched(url, response.status, body,
                               response.headers.get("Content-Type", ""),
                               response.headers.get("ETag"),
                               response.headers.get("Last-Modified"))

        return await asyncio.gather(*(one(url) for url in urls))


def _feedparser_worker_init() -> None:
    import feedparser  # noqa: F401, PLC0415 (loaded before the timed run)


def parse_count(job: tuple[bytes, str, bool]) -> int:
    """feedparser.parse on one document (as bytes), returning its number of entries."""
    import feedparser  # noqa: PLC0415

    body, content_type, sanitize = job
    parsed = feedparser.parse(io.BytesIO(body), response_headers={"content-type": content_type},
                              sanitize_html=sanitize)
    return len(parsed.entries)


def scenario_floors(bench: Bench) -> None:
    """Raw aiohttp fetches and feedparser in two processes on the same bytes."""
    bench.farm_round(1)
    urls = bench.farm.urls()
    heading(f"6. floors: raw aiohttp fetch of all {len(urls):,} feeds (round 1, gzip accepted,"
            f" {bench.args.concurrency} at once)")
    meter = bench.meter()
    started = time.perf_counter()
    fetched = asyncio.run(_fetch_all(urls, bench.args.concurrency, None))
    wall = time.perf_counter() - started
    statuses = Counter(f.status for f in fetched)
    body_bytes = sum(len(f.body) for f in fetched)
    bench.add("floor-fetch", Result("floor: raw fetch (200s)", wall, len(fetched), "feeds",
                                    meter.stop(), note=_statuses(statuses)),
              [f"{body_bytes / 1e6:.1f} MB of documents after decompression; the "
               f"{_slow(bench)} slow "
               f"feeds answer after {bench.spec.slow_delay:g} s"])
    by_url = {f.url: f for f in fetched}
    heading("6b. floors: the same fetch with the validators just received (all 304)")
    meter = bench.meter()
    started = time.perf_counter()
    again = asyncio.run(_fetch_all(urls, bench.args.concurrency, by_url))
    wall = time.perf_counter() - started
    bench.add("floor-304", Result("floor: raw fetch (304s)", wall, len(again), "feeds",
                                  meter.stop(),
                                  note=_statuses(Counter(f.status for f in again))))
    documents = [(f.body, f.content_type) for f in fetched if f.status == 200]
    for key, label, sanitize in (("floor-fp", "floor: feedparser ×2 (default)", True),
                                 ("floor-fp-nosan", "floor: feedparser ×2 (no sanitize)",
                                  False)):
        heading(f"6{'c' if sanitize else 'd'}. {label[7:]}: feedparser.parse on the "
                f"{len(documents):,} documents of 6 in a Pool of 2 processes"
                + ("" if sanitize else ", sanitize_html=False"))
        bench.add(key, _feedparser_floor(bench, label, documents, sanitize))


def _slow(bench: Bench) -> int:
    return sum(1 for kind in faults(bench.spec).values() if kind == "slow")


def _statuses(statuses: Counter[int]) -> str:
    return "HTTP " + ", ".join(f"{status} ×{n:,}" for status, n in sorted(statuses.items()))


def _feedparser_floor(bench: Bench, label: str, documents: Sequence[tuple[bytes, str]],
                      sanitize: bool) -> Result:
    context = multiprocessing.get_context("forkserver")
    with context.Pool(2, initializer=_feedparser_worker_init) as pool:
        pool.map(abs, range(4))  # both workers up and feedparser imported
        meter = bench.meter()
        started = time.perf_counter()
        counts = pool.map(parse_count, [(body, ctype, sanitize) for body, ctype in documents],
                          chunksize=2)
        wall = time.perf_counter() - started
        usage = meter.stop()
    return Result(label, wall, sum(counts), "entries", usage,
                  note=f"{sum(1 for c in counts if c == 0)} documents gave no entries"
                       " (feedparser 6 does not read JSON Feed; HTML and broken ones)")


# --------------------------------------------------------------------------- reader


def reader_python() -> Path:
    """bench/.venv-reader/bin/python with reader installed (created on first use)."""
    python = READER_VENV / "bin" / "python"
    marker = READER_VENV / f".reader-{READER_VERSION}"
    if marker.exists():
        return python
    print(f"installing reader=={READER_VERSION} into {READER_VENV.relative_to(PROJECT_ROOT)}"
          " (first run only)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(READER_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    *READER_PACKAGES], check=True)
    marker.touch()
    return python


def scenario_reader(bench: Bench, python: Path) -> None:
    """reader's cold ingest at round 1 and its update at round 2."""
    urls_file = bench.folder / "reader-urls.txt"
    urls_file.write_text("\n".join(bench.farm.urls()) + "\n", encoding="utf-8")
    database = bench.folder / "reader.sqlite"
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    workers = bench.args.reader_workers
    for key, label, round, extra in (("reader-cold", "reader: cold ingest", 1, ["--add"]),
                                     ("reader-churn", "reader: churn re-poll", 2, [])):
        heading(f"reader {READER_VERSION}: {label[8:]} (round {round}), "
                f"update_feeds(workers={workers}) in a subprocess")
        bench.farm_round(round)
        before = bench.farm.stats()
        child = run_measured([str(python), str(READER_PEER), "--db", str(database),
                              "--urls", str(urls_file), "--workers", str(workers), *extra],
                             env=env, timeout=READER_TIMEOUT)
        served = bench.farm.stats() - before
        if child.returncode != 0 or child.timed_out:
            print(f"  reader_peer failed (exit {child.returncode}):\n{child.stderr[-3000:]}")
            return
        report = json.loads(child.stdout.strip().splitlines()[-1])
        errors = report["errors"]
        bench.add(key, Result(label, report["wall"], report["new"] + report["modified"],
                              "entries", cpu=report["cpu"], main_rss=report["max_rss"],
                              note=f"process total {child.wall:.1f} s wall, {child.cpu:.1f} s"
                                   " CPU incl. start and add_feed"),
                  [f"feeds    updated {report['updated']}, not modified "
                   f"{report['not_modified']}, errors {sum(errors.values())}"
                   + "".join(f"; {n} × {kind}" for kind, n in errors.items()),
                   f"entries  new {report['new']:,}, modified {report['modified']:,}; "
                   f"{report['entries_total']:,} stored in all",
                   f"farm     {served['requests']:,} requests: {served['200']:,} × 200, "
                   f"{served['304']:,} × 304; {served['bytes'] / 1e6:.1f} MB sent"])


# --------------------------------------------------------------------------- summary


RATIOS: tuple[tuple[str, str, str, str], ...] = (
    ("cold", "floor-fp", "cold ingest ÷ feedparser ×2 (default)", "target ≤ 1.3"),
    ("cold", "floor-fp-nosan", "cold ingest ÷ feedparser ×2 (no sanitize)", ""),
    ("cold", "floor-fetch", "cold ingest ÷ raw fetch (200s)", ""),
    ("steady", "floor-304", "steady re-poll ÷ raw fetch (304s)", ""),
    ("churn", "floor-fetch", "churn re-poll ÷ raw fetch (200s)", ""),
    ("reader-cold", "cold", "reader cold ÷ refeed cold", "refeed ≥ 4× faster"),
    ("reader-churn", "churn", "reader churn ÷ refeed churn", "refeed ≥ 20× faster"),
)


def print_summary(bench: Bench, started: float, cores_before: float) -> None:
    """The table of every scenario and the ratios."""
    print(f"\ncores available to a {os.cpu_count()}-process pool: {cores_before:.2f} at the start,"
          f" {cores_available():.2f} now; load average "
          + " ".join(f"{load:.2f}" for load in os.getloadavg()))
    print(f"\n== summary ({bench.spec.feeds:,} feeds × {bench.spec.entries} entries, churn "
          f"{bench.spec.churn}; {os.cpu_count()} CPUs; CPU = user+sys of the process tree;"
          " children = largest child RSS × number of child processes)")
    print(TABLE_HEAD)
    for result in bench.results.values():
        print(result.row())
    shown = [(a, b, label, target) for a, b, label, target in RATIOS
             if a in bench.results and b in bench.results]
    if shown:
        print("\nratios (wall time)")
    for a, b, label, target in shown:
        ratio = bench.results[a].wall / bench.results[b].wall
        print(f"  {label:44s} {ratio:7.2f}×" + (f"   ({target})" if target else ""))
    print(f"\ntotal bench time {time.perf_counter() - started:.0f} s")


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--feeds", type=int, help="feeds in the farm (1000; --quick 100)")
    parser.add_argument("--entries", type=int, help="entries per feed (50; --quick 20)")
    parser.add_argument("--churn", type=int, default=5, help="new entries per round (5)")
    parser.add_argument("--faults", type=float, default=0.02,
                        help="share of faulty feeds (0.02)")
    parser.add_argument("--slow", type=float, default=2.0, help="a slow feed's delay, s (2)")
    parser.add_argument("--no-validators", action="store_true",
                        help="the farm sends no ETag/Last-Modified (steady state re-downloads)")
    parser.add_argument("--concurrency", type=int, default=50,
                        help="polling.concurrency = per_host, and the raw fetch's (50)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"comma-separated subset of {','.join(SCENARIOS)} (all); steady,"
                             " churn and serve run cold first")
    parser.add_argument("--skip-reader", action="store_true", help="no reader peer")
    parser.add_argument("--reader-workers", type=int, default=8,
                        help="reader.update_feeds(workers=) (8)")
    parser.add_argument("--serve-seconds", type=float, help="seconds per serve phase (5)")
    parser.add_argument("--daemon-seconds", type=float,
                        help="how long the daemon scenario runs `refeed run` (60; --quick 20)")
    parser.add_argument("--load-seconds", type=float,
                        help="how long the load scenario's clients fetch (60; --quick 10)")
    parser.add_argument("--timeout", type=float, default=90.0,
                        help="seconds after which a publish or the CLI poll is stopped and"
                             " reported as timed out; later publishes are then skipped (90)")
    parser.add_argument("--quick", action="store_true",
                        help="100 feeds × 20 entries, 2 s serve phases: a smoke test")
    parser.add_argument("--ref", help="bench this git commit of refeed instead of the work tree"
                             " (its src/ is exported to a temporary folder and put first on"
                             " PYTHONPATH, for the pool workers and the CLI too)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    args.feeds = args.feeds or (100 if args.quick else 1000)
    args.entries = args.entries or (20 if args.quick else 50)
    args.serve_seconds = args.serve_seconds or (2.0 if args.quick else 5.0)
    args.daemon_seconds = args.daemon_seconds or (20.0 if args.quick else 60.0)
    args.load_seconds = args.load_seconds or (10.0 if args.quick else 60.0)
    chosen = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    if args.skip_reader and "reader" in chosen:
        chosen.remove("reader")
    if NEEDS_COLD & set(chosen) and "cold" not in chosen:
        chosen.insert(0, "cold")
    args.chosen = [name for name in SCENARIOS if name in chosen]
    if args.feeds < 4 or args.entries < 1 or args.churn < 0:
        parser.error("need at least 4 feeds, 1 entry, churn ≥ 0")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Run the suite and print its numbers."""
    args = parse_args(argv)
    if args.ref and REF_VARIABLE not in os.environ:
        given = list(sys.argv[1:] if argv is None else argv)
        sys.exit(rerun_at_ref(__file__, args.ref, given, REF_VARIABLE))
    started = time.perf_counter()
    python = reader_python() if "reader" in args.chosen else None
    spec = FarmSpec(args.feeds, args.entries, args.churn, args.faults, args.slow,
                    not args.no_validators)
    folder = Path(tempfile.mkdtemp(prefix="refeed-perf-"))
    cores = cores_available()
    print(f"refeed perf suite — {os.cpu_count()} CPUs ({cores:.2f} available to a pool now),"
          f" Python {sys.version.split()[0]}, load average "
          + " ".join(f"{load:.2f}" for load in os.getloadavg()))
    version = (f"commit {os.environ[REF_VARIABLE]} (--ref)" if REF_VARIABLE in os.environ
               else code_version())
    print(f"refeed      {version}, imported from {Path(refeed.__file__).parent};"
          f" scenarios {', '.join(args.chosen)}")
    farm_started = time.perf_counter()
    farm = start_farm(spec)
    try:
        port = free_port()
        settings = write_settings(folder, refeed_config(farm, spec, args.concurrency, port))
        bench = Bench(args, spec, folder, farm, settings, folder / "config.yaml")
        print(f"farm        {farm.base_url} (child process, ready in "
              f"{time.perf_counter() - farm_started:.1f} s)")
        for line in describe(spec, summarize(spec, 1), farm.round_bytes()):
            print(f"            {line}")
        print(f"config      {len(settings.sources)} sources, concurrency = per_host = "
              f"{args.concurrency}, languages uk/ru/en, tags {', '.join(TAGS)}; folder {folder}")
        steps: dict[str, Callable[[], None]] = {
            "cold": lambda: scenario_cold(bench),
            "steady": lambda: scenario_steady(bench),
            "churn": lambda: scenario_churn(bench),
            "serve": lambda: scenario_serve(bench),
            "daemon": lambda: scenario_daemon(bench),
            "load": lambda: scenario_load(bench),
            "floors": lambda: scenario_floors(bench),
            "reader": lambda: scenario_reader(bench, python) if python else None,
        }
        for name in args.chosen:
            steps[name]()
        print_summary(bench, started, cores)
    finally:
        farm.stop()
        remove_unless_kept(folder, args.keep)


if __name__ == "__main__":
    main()
