"""The soak (issue 17): ``refeed run`` as a busy deployment runs it, for minutes.

The feed farm (bench/farm.py) gives every feed ``--churn`` new entries on *every* fetch
(each feed has a round of its own), and a share of its feeds fail: HTTP 500, slow, cut
short, an HTML page, a 301 to another path. ``refeed run`` polls every feed each
``--interval`` (``polling.interval = min_interval = max_interval``; ``--adaptive`` leaves
min and max at their defaults, the daemon's own schedule), while ``--readers`` feed
readers fetch every output listed in ``outputs.opml`` with ``If-None-Match``,
``--reader-rate`` requests a second in all, for the whole ``--minutes``. Then SIGTERM.
With ``--pages SHARE`` that share of the feeds link their items to article pages on the
farm, and their sources have ``pages: {tags: true, full_text: true}`` (``pages:``
concurrency 8, per_host 4, delay 0s: the farm is one host).

It prints: polls, entries stored, publishes, the publish lag (the daemon's histogram,
and recomputed from the database's storing times and the log's publish times), what the
readers got, PSS of the daemon's process tree in the first and the last third, SIGTERM's
exit code and time, ``PRAGMA integrity_check``, and the farm's truth against the
database: every entry the farm served stored once (an original or a copy). With pages:
pages read and failed (the log's ``event=pages`` lines), the pages' states in the
database, their tags against the farm's, and the gaps between a source's polls. It
prints numbers; it never asserts.

    .venv/bin/python bench/soak.py                          # 300 sources each minute, 15 min
    .venv/bin/python bench/soak.py --minutes 3              # a short run
    .venv/bin/python bench/soak.py --feeds 10000 --entries 10 --interval 15m --adaptive
    .venv/bin/python bench/soak.py --minutes 3 --pages 0.2  # a fifth of the feeds: pages
    .venv/bin/python bench/soak.py --ref f0e42c0            # another commit, same soak

See bench/README.md for the method and the results.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from _common import code_version, remove_unless_kept, rerun_at_ref, tree_memory, write_settings
from farm import (
    FAULT_KINDS,
    MOVED,
    Farm,
    FarmSpec,
    describe,
    faults,
    is_readable,
    page_feeds,
    page_tags,
    start_farm,
)
from farm import summarize as summarize_farm
from perf import free_port, refeed_command, refeed_config, source_id, wait_healthy
from readers import ReaderLoad, read_outputs

REF_VARIABLE = "REFEED_SOAK_REF"
SOAK_FAULTS = (*FAULT_KINDS, MOVED)
SAMPLE_SECONDS = 5.0
STOP_TIMEOUT = 60.0
LOG_TIME = "%Y-%m-%dT%H:%M:%S%z"
LOG_LINE = re.compile(r"^(\S+) level=(\w+) (.*)$")
FIELD = re.compile(r"(\w+)=('[^']*'|\"[^\"]*\"|\S+)")
BUCKET = re.compile(r'^refeed_publish_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$', re.M)
GUID = re.compile(r"^https://news(\d+)\.example/\?p=(\d+)$")
# pages: of sources with --pages (the farm is one host: per_host is the bound that binds)
PAGES_CONFIG = {"concurrency": 8, "per_host": 4, "delay": "0s"}
PAGES_WANTED = {"tags": True, "full_text": True}


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class Stop:
    """How the daemon ended: its exit code and the seconds SIGTERM took."""

    code: int | None
    seconds: float


@dataclass(frozen=True)
class Soak:
    """Everything measured while the daemon ran."""

    seconds: float
    memory: list[tuple[float, dict[str, float]]]  # (seconds in, tree_memory())
    load: ReaderLoad
    metrics: str  # /metrics just before SIGTERM
    stop: Stop
    farm_stats: Counter[str]  # the farm's counters after the stop


def soak_config(farm: Farm, spec: FarmSpec, args: argparse.Namespace, port: int
                ) -> dict[str, Any]:
    """perf.py's config, polled every ``--interval`` (or from there, adaptively); with
    ``--pages``, the sources of the farm's feeds with pages read them."""
    config = refeed_config(farm, spec, args.concurrency, port)
    if spec.page_share:
        for index in page_feeds(spec):
            config["sources"][index]["pages"] = dict(PAGES_WANTED)
        config["pages"] = dict(PAGES_CONFIG)
    polling = dict(config["polling"], interval=args.interval)
    if not args.adaptive:
        polling |= {"min_interval": args.interval, "max_interval": args.interval}
    config["polling"] = polling
    if args.max_delay:
        config["publish"] = {"max_delay": args.max_delay}
    return config


def run_soak(folder: Path, base: str, args: argparse.Namespace, farm: Farm) -> Soak:
    """Start ``refeed run`` in ``folder``, read and sample it for ``--minutes``, stop it."""
    seconds = args.minutes * 60
    with (folder / "daemon.log").open("wb") as log:
        daemon = subprocess.Popen([*refeed_command(), "-c", str(folder / "config.yaml"), "run"],
                                  stdout=subprocess.DEVNULL, stderr=log)
        try:
            wait_healthy(base + "/healthz", daemon)
            started = time.perf_counter()
            memory, load = asyncio.run(_watch(base, daemon.pid, seconds, args))
            elapsed = time.perf_counter() - started
            metrics = _get(base + "/metrics")
        finally:
            stop = _terminate(daemon)
    return Soak(elapsed, memory, load, metrics, stop, farm.stats())


async def _watch(base: str, pid: int, seconds: float, args: argparse.Namespace
                 ) -> tuple[list[tuple[float, dict[str, float]]], ReaderLoad]:
    """The readers and the memory sampler, side by side for ``seconds``."""
    samples: list[tuple[float, dict[str, float]]] = []

    async def sample() -> None:
        started = time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            samples.append((elapsed, await asyncio.to_thread(tree_memory, pid)))
            await asyncio.sleep(SAMPLE_SECONDS)

    load, _ = await asyncio.gather(
        read_outputs(base, [], seconds, args.readers, args.reader_rate), sample())
    return samples, load


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return str(response.read().decode())
    except OSError as error:
        return f"# unavailable: {error}"


def _terminate(daemon: subprocess.Popen[bytes]) -> Stop:
    """SIGTERM, then the exit code and how long it took (SIGKILL after STOP_TIMEOUT)."""
    if daemon.poll() is not None:
        return Stop(daemon.returncode, 0.0)
    started = time.perf_counter()
    daemon.send_signal(signal.SIGTERM)
    try:
        code: int | None = daemon.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait()
        code = None
    return Stop(code, time.perf_counter() - started)


# --------------------------------------------------------------------------- the log


@dataclass(frozen=True)
class LogLine:
    """One line of the daemon's log: when, its level, and its ``key=value`` fields."""

    at: datetime
    level: str
    fields: dict[str, str]


def read_log(path: Path) -> list[LogLine]:
    """The daemon's log lines (others, such as tracebacks, are skipped)."""
    lines = []
    for text in path.read_text(errors="replace").splitlines():
        found = LOG_LINE.match(text)
        if found:
            try:
                at = datetime.strptime(found[1], LOG_TIME)
            except ValueError:
                continue
            lines.append(LogLine(at, found[2], dict(FIELD.findall(found[3]))))
    return lines


def events(log: Iterable[LogLine], name: str) -> list[LogLine]:
    """The lines of one ``event=``."""
    return [line for line in log if line.fields.get("event") == name]


# --------------------------------------------------------------------------- lag


def histogram_quantiles(metrics: str, shares: Sequence[float]) -> list[float] | None:
    """Quantiles of ``refeed_publish_lag_seconds`` from its buckets (linear within a
    bucket, as Prometheus' histogram_quantile); ``None`` without the histogram."""
    buckets = [(float(le), float(count)) for le, count in BUCKET.findall(metrics)]
    if not buckets or buckets[-1][1] == 0:
        return None
    total = buckets[-1][1]
    quantiles = []
    for share in shares:
        rank = share * total
        lower_bound, lower_count = 0.0, 0.0
        for bound, count in buckets:
            if count >= rank:
                if bound == float("inf"):
                    quantiles.append(lower_bound)
                else:
                    inside = ((rank - lower_count) / (count - lower_count)
                              if count > lower_count else 1.0)
                    quantiles.append(lower_bound + (bound - lower_bound) * inside)
                break
            lower_bound, lower_count = bound, count
    return quantiles


@dataclass(frozen=True)
class Lags:
    """Publish lag recomputed from the database and the log: per stored entry, from its
    ``first_seen`` to the end of the first publish that began after it."""

    lags: list[float]
    unpublished: int  # entries stored after the last publish began
    oldest_unpublished: float  # seconds before the stop, the oldest of those


def recomputed_lags(stored: Sequence[datetime], publishes: Sequence[LogLine],
                    stopped: datetime) -> Lags:
    """:class:`Lags` of entries ``stored`` at these times; a publish line's time is when
    it ended (to the second: +0.5 s), ``seconds=`` how long it took (0 when not logged)."""
    spans = sorted((line.at.timestamp() + 0.5 - float(line.fields.get("seconds", 0)),
                    line.at.timestamp() + 0.5) for line in publishes)
    starts = [start for start, _ in spans]
    lags, left = [], []
    for moment in stored:
        stamp = moment.timestamp()
        index = bisect_left(starts, stamp)
        if index < len(spans):
            lags.append(spans[index][1] - stamp)
        else:
            left.append(stopped.timestamp() - stamp)
    return Lags(sorted(lags), len(left), max(left, default=0.0))


def percentile(ordered: Sequence[float], share: float) -> float:
    """The value below which ``share`` of the sorted ``ordered`` fall."""
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


# --------------------------------------------------------------------------- the truth


@dataclass(frozen=True)
class Truth:
    """The farm's served entries against the database's rows."""

    expected: int  # entries of every answer but each feed's last
    stored_once: int
    missing: int
    repeated: int  # (source, guid) stored more than once (cut-short documents aside)
    last: int  # entries only the last answer of their feed had
    last_stored: int
    unexpected: int  # rows of entries the farm never served (cut-short documents aside)
    copies: int  # rows marked as a copy of another


def farm_truth(database: Path, spec: FarmSpec, served: Mapping[int, int]) -> Truth:
    """Compare what the farm served (the last round of each feed) with the rows stored.
    Every answer but a feed's last must be stored in full: a feed's polls are one after
    the other, so a later answer proves the earlier poll ended. The last may have been
    in flight at SIGTERM (then its validators were not stored either: nothing is lost)."""
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT source_id, guid, count(*), max(duplicate_of IS NOT NULL)"
                          " FROM entries GROUP BY source_id, guid").fetchall()
    stored = {(source, guid): count for source, guid, count, _ in rows}
    broken = faults(spec)
    expected = last = stored_once = missing = last_stored = 0
    wanted: set[tuple[str, str]] = set()
    for feed, round in served.items():
        if not is_readable(broken.get(feed)):
            continue
        newest = (round - 1) * spec.churn + spec.entries  # entries 0 … newest-1 were served
        before = newest - spec.churn if round > 1 else 0
        for seq in range(newest):
            key = (source_id(feed), f"https://news{feed:04d}.example/?p={seq}")
            wanted.add(key)
            count = stored.get(key, 0)
            if seq < before:
                expected += 1
                stored_once += count == 1
                missing += count == 0
            else:
                last += 1
                last_stored += count == 1
    # a cut-short document's last item may be read with its guid cut short too: rows of
    # such feeds are neither counted as unexpected nor as repeated
    cut_short = {source_id(feed) for feed, fault in broken.items() if fault == "malformed"}
    repeated = sum(1 for key, count in stored.items() if count > 1 and key[0] not in cut_short)
    unexpected = sum(count for key, count in stored.items()
                     if key not in wanted and key[0] not in cut_short)
    copies = sum(flag for *_, flag in rows)
    return Truth(expected, stored_once, missing, repeated, last, last_stored, unexpected, copies)


def integrity(database: Path) -> str:
    """``PRAGMA integrity_check``'s answer."""
    with sqlite3.connect(database) as db:
        return ", ".join(row[0] for row in db.execute("PRAGMA integrity_check").fetchall())


def stored_times(database: Path) -> list[datetime]:
    """When each stored entry was stored (``first_seen``)."""
    with sqlite3.connect(database) as db:
        # stored as ISO 8601 UTC with a Z (fromisoformat reads it since Python 3.11)
        return [datetime.fromisoformat(row[0])
                for row in db.execute("SELECT first_seen FROM entries")]


# --------------------------------------------------------------------------- report


def memory_lines(soak: Soak) -> list[str]:
    """PSS of the process tree, averaged over the first and the last third."""
    third = soak.seconds / 3
    first = [sample for at, sample in soak.memory if at < third]
    final = [sample for at, sample in soak.memory if at >= 2 * third]
    if not first or not final:
        return ["memory   too few samples"]

    def mean(samples: list[dict[str, float]], key: str) -> float:
        return sum(sample.get(key, 0.0) for sample in samples) / len(samples)

    lines = []
    for key in ("total PSS", "main PSS", "largest child PSS"):
        before, after = mean(first, key), mean(final, key)
        change = (after / before - 1) * 100 if before else 0.0
        peak = max(sample.get(key, 0.0) for _, sample in soak.memory)
        lines.append(f"memory   {key:18s} first third {before:6.1f} MiB, last third"
                     f" {after:6.1f} MiB ({change:+.1f}%), peak {peak:.1f} MiB")
    for key in ("total PSS", "main PSS"):
        minutes: dict[int, float] = {}
        for at, sample in soak.memory:
            minutes.setdefault(int(at // 60), sample.get(key, 0.0))
        lines.append(f"memory   {key} at each minute: "
                     + " ".join(f"{value:.0f}" for value in minutes.values()) + " MiB")
    return lines


def lag_lines(soak: Soak, log: list[LogLine], folder: Path, stopped: datetime) -> list[str]:
    """The daemon's publish lag histogram, and the lag recomputed independently."""
    publishes = events(log, "publish")
    lines = []
    quantiles = histogram_quantiles(soak.metrics, (0.5, 0.99))
    maxima = [float(line.fields["lag_max"]) for line in publishes if "lag_max" in line.fields]
    if quantiles:
        lines.append(f"lag      refeed_publish_lag_seconds: p50 {quantiles[0]:.1f} s, p99"
                     f" {quantiles[1]:.1f} s, max {max(maxima, default=0.0):.1f} s (log)")
    else:
        lines.append("lag      the daemon has no refeed_publish_lag_seconds histogram")
    lags = recomputed_lags(stored_times(folder / "soak.db"), publishes, stopped)
    ordered = lags.lags
    lines.append(
        f"lag      recomputed (first_seen → end of the next publish, ±1 s): {len(ordered):,}"
        f" entries, p50 {percentile(ordered, 0.5):.1f} s, p99 {percentile(ordered, 0.99):.1f}"
        f" s, max {percentile(ordered, 1.0):.1f} s; {lags.unpublished:,} stored after the"
        f" last publish began (the oldest {lags.oldest_unpublished:.0f} s before the stop)")
    return lines


def log_lines(log: list[LogLine]) -> list[str]:
    """Polls, publishes and problems from the daemon's log."""
    polls = events(log, "poll")
    statuses = Counter(line.fields.get("status", "?") for line in polls)
    stored: Counter[str] = Counter()
    for line in polls:
        for kind in ("new", "updated", "duplicates"):
            stored[kind] += int(line.fields.get(kind, 0))
    publishes = events(log, "publish")
    took = sorted(float(line.fields["seconds"]) for line in publishes if "seconds" in line.fields)
    errors = Counter(line.fields.get("event", "?") for line in log if line.level == "ERROR")
    return [
        f"polls    {len(polls):,} (" + ", ".join(f"{k} {n:,}" for k, n in statuses.most_common())
        + f"); stored {stored['new']:,} new, {stored['duplicates']:,} copies,"
        f" {stored['updated']:,} updated",
        f"publish  {len(publishes):,} publishes"
        + (f", each p50 {percentile(took, 0.5):.2f} s, max {took[-1]:.2f} s" if took else "")
        + f"; {len(events(log, 'publish-failed'))} failed",
        "errors   " + (", ".join(f"{k} ×{n}" for k, n in errors.most_common()) or "none")
        + " (log lines at level ERROR)",
    ]


def schedule_lines(log: list[LogLine]) -> list[str]:
    """Whether polls keep their schedule: polls in each minute of the run, and the gaps
    between two polls of one source (the log's times, to the second)."""
    polls = events(log, "poll")
    if not polls:
        return []
    start = polls[0].at.timestamp()
    minutes = Counter(int((line.at.timestamp() - start) // 60) for line in polls)
    last: dict[str, float] = {}
    gaps = []
    for line in polls:
        stamp, source = line.at.timestamp(), line.fields.get("source", "?")
        if source in last:
            gaps.append(stamp - last[source])
        last[source] = stamp
    gaps.sort()
    return [
        "schedule polls in each minute: "
        + " ".join(str(minutes.get(minute, 0)) for minute in range(max(minutes) + 1)),
        f"schedule {len(gaps):,} gaps between two polls of a source: p1"
        f" {percentile(gaps, 0.01):.0f} s, p50 {percentile(gaps, 0.5):.0f} s, p99"
        f" {percentile(gaps, 0.99):.0f} s, max {percentile(gaps, 1.0):.0f} s"
        if gaps else "schedule no source was polled twice",
    ]


def pages_lines(log: list[LogLine], database: Path, spec: FarmSpec,
                farm_stats: Counter[str]) -> list[str]:
    """Article pages: the log's ``event=pages`` sums, the farm's page answers, the
    pages' states in the database and their tags against the farm's."""
    batches = events(log, "pages")
    read = sum(int(line.fields.get("read", 0)) for line in batches)
    failed = sum(int(line.fields.get("failed", 0)) for line in batches)
    with sqlite3.connect(database) as db:
        states = Counter(dict(db.execute("SELECT state, count(*) FROM entry_pages"
                                         " GROUP BY state").fetchall()))
        rows = db.execute("SELECT e.guid, p.tags, p.full_text FROM entry_pages p"
                          " JOIN entries e ON e.id = p.entry_id"
                          " WHERE p.state = 'read'").fetchall()
    same = differ = full_text = 0
    for guid, tags, full in rows:
        found = GUID.match(guid or "")
        if found is None:
            continue
        want = {tag.casefold() for tag in page_tags(int(found[1]), int(found[2]))}
        got = {str(tag).casefold() for tag in json.loads(tags)}
        same, differ = same + (got == want), differ + (got != want)
        full_text += bool(full)
    return [
        f"pages    read {read:,}, failed {failed:,} (the sums of {len(batches):,} event=pages"
        f" lines); {len(events(log, 'pages-failed'))} event=pages-failed",
        f"pages    the farm answered {farm_stats['page']:,} page requests"
        f" ({farm_stats['page bytes'] / 1e6:.1f} MB as sent), robots.txt ×"
        f"{farm_stats['robots']} (404), {farm_stats['page 404']} unknown pages",
        "pages    in the database at the stop: "
        + (", ".join(f"{state} {count:,}" for state, count in states.most_common()) or "none")
        + f"; of the read, tags as the farm's tag list {same:,}, different {differ:,};"
        f" the article became the content {full_text:,}",
    ]


def truth_lines(truth: Truth) -> list[str]:
    """The farm's truth against the database."""
    return [
        f"truth    {truth.expected:,} entries served before each feed's last answer:"
        f" {truth.stored_once:,} stored once, {truth.missing:,} missing;"
        f" {truth.repeated:,} stored more than once; {truth.unexpected:,} rows never served",
        f"         each feed's last answer: {truth.last_stored:,} of {truth.last:,} entries"
        f" stored (the rest were in flight at SIGTERM); {truth.copies:,} rows are copies",
    ]


def report(args: argparse.Namespace, spec: FarmSpec, folder: Path, soak: Soak,
           served: Mapping[int, int], stopped: datetime) -> None:
    """Print every figure of the soak."""
    log = read_log(folder / "daemon.log")
    database = folder / "soak.db"
    stop = soak.stop
    lines = [
        *log_lines(log),
        *(pages_lines(log, database, spec, soak.farm_stats) if spec.page_share else []),
        *schedule_lines(log),
        *lag_lines(soak, log, folder, stopped),
        "readers  " + f"{args.readers} readers, {args.reader_rate:g} requests/s in all",
        *soak.load.lines(),
        *memory_lines(soak),
        f"SIGTERM  exit {stop.code} in {stop.seconds:.1f} s",
        f"database integrity_check: {integrity(database)}",
        *truth_lines(farm_truth(database, spec, served)),
    ]
    print()
    for line in lines:
        print("  " + line)


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--feeds", type=int, default=300, help="feeds in the farm (300)")
    parser.add_argument("--entries", type=int, default=20, help="entries per feed (20)")
    parser.add_argument("--churn", type=int, default=2, help="new entries per fetch (2)")
    parser.add_argument("--faults", type=float, default=0.05,
                        help="share of faulty feeds: 500, slow, cut short, HTML, 301 (0.05)")
    parser.add_argument("--slow", type=float, default=2.0, help="a slow feed's delay, s (2)")
    parser.add_argument("--minutes", type=float, default=15.0, help="length of the soak (15)")
    parser.add_argument("--interval", default="1m", help="polling.interval (1m)")
    parser.add_argument("--adaptive", action="store_true",
                        help="keep polling.min_interval and max_interval at their defaults")
    parser.add_argument("--concurrency", type=int, default=50,
                        help="polling.concurrency = per_host (50)")
    parser.add_argument("--readers", type=int, default=20, help="feed readers (20)")
    parser.add_argument("--reader-rate", type=float, default=20.0,
                        help="requests per second of all readers together (20)")
    parser.add_argument("--max-delay", help="publish.max_delay (the daemon's default)")
    parser.add_argument("--pages", type=float, default=0.0, metavar="SHARE",
                        help="share of feeds whose items link to article pages on the farm,"
                        " their sources with pages: {tags: true, full_text: true} (0)")
    parser.add_argument("--ref", help="soak this git commit of refeed instead of the work tree")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the soak and print its numbers."""
    args = parse_args(argv)
    if args.ref and REF_VARIABLE not in os.environ:
        given = list(sys.argv[1:] if argv is None else argv)
        sys.exit(rerun_at_ref(__file__, args.ref, given, REF_VARIABLE))
    spec = FarmSpec(args.feeds, args.entries, args.churn, args.faults, args.slow,
                    fault_kinds=SOAK_FAULTS, churn_per_fetch=True, page_share=args.pages)
    folder = Path(tempfile.mkdtemp(prefix="refeed-soak-"))
    version = (f"commit {os.environ[REF_VARIABLE]} (--ref)" if REF_VARIABLE in os.environ
               else code_version())
    print(f"refeed soak — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, refeed"
          f" {version}; folder {folder}")
    with start_farm(spec) as farm:
        try:
            port = free_port()
            config = soak_config(farm, spec, args, port)
            write_settings(folder, config | {"database": "soak.db", "output_dir": "feeds"})
            shape, _, faulty, *pages = describe(spec, summarize_farm(spec, 1), (0, 0))
            print(f"  farm     {shape}\n  farm     {faulty}")
            for line in pages:
                print(f"  farm     {line}")
            print(f"  farm     churn {spec.churn} new entries on every fetch of a feed")
            print(f"  config   {args.feeds:,} sources, polling {config['polling']},"
                  f" publish {config.get('publish', 'defaults')}; {args.minutes:g} minutes")
            if spec.page_share:
                print(f"  config   {len(page_feeds(spec)):,} sources with pages"
                      f" {PAGES_WANTED}; pages {config['pages']} (the farm is one host:"
                      " per_host 4 is the bound that binds, no delay between requests)")
            soak = run_soak(folder, f"http://127.0.0.1:{port}", args, farm)
            stopped = datetime.now().astimezone()
            report(args, spec, folder, soak, farm.served(), stopped)
        finally:
            remove_unless_kept(folder, args.keep)


if __name__ == "__main__":
    main()
