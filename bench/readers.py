"""Feed readers for the benchmarks: clients that fetch a running refeed's outputs as feed
readers do — each sends the ETag it last saw for a file — and count what they get.

Used by ``perf.py``'s load scenario (as many requests as the clients can make) and by
``soak.py`` (a steady request rate for the whole soak, the list of outputs read again from
``outputs.opml`` as the daemon adds them).
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp

FIRST_PATHS = ("/index.html", "/outputs.opml")
REFRESH_SECONDS = 30.0  # how often the paced readers read outputs.opml again


@dataclass
class ReaderLoad:
    """What the clients saw."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def percentile_ms(self, share: float) -> float:
        """The latency below which ``share`` of the requests were answered, in ms."""
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    def lines(self) -> list[str]:
        """Statuses, errors and latency percentiles, for a report."""
        statuses = ", ".join(f"{status} ×{count:,}"
                             for status, count in sorted(self.statuses.items()))
        return [
            f"statuses {statuses or 'none'}; errors {sum(self.errors.values())}"
            + "".join(f"; {error} ×{count}" for error, count in self.errors.most_common(5)),
            f"latency  p50 {self.percentile_ms(0.5):.1f} ms, p90 {self.percentile_ms(0.9):.1f}"
            f" ms, p99 {self.percentile_ms(0.99):.1f} ms, max"
            f" {self.percentile_ms(1.0):.1f} ms",
        ]


def listed_feeds(base: str) -> list[str]:
    """The paths of the feeds the daemon's ``outputs.opml`` lists now (empty when there is
    no such file yet), after the index and the OPML file themselves."""
    try:
        with urllib.request.urlopen(base + "/outputs.opml", timeout=5) as response:
            opml = response.read().decode()
    except OSError:
        return []
    paths = [urlsplit(url).path for url in re.findall(r'xmlUrl="([^"]+)"', opml)]
    return [*FIRST_PATHS, *paths] if paths else []


def published_feeds(base: str, deadline: float) -> list[str]:
    """:func:`listed_feeds` once the daemon has published (``deadline``: monotonic)."""
    while time.monotonic() < deadline:
        paths = listed_feeds(base)
        if paths:
            return paths
        time.sleep(1)
    raise RuntimeError("the daemon published nothing before the deadline")


async def read_outputs(base: str, paths: list[str], seconds: float, clients: int,
                       rate: float | None = None) -> ReaderLoad:
    """``clients`` readers fetch ``paths`` round-robin for ``seconds``, each in its own
    order, with the ETag it last saw for each file. ``rate``: requests per second of all
    of them together (``None``: as fast as they can); then ``paths`` is refreshed from
    ``outputs.opml`` every REFRESH_SECONDS, in place."""
    load = ReaderLoad()
    deadline = time.perf_counter() + seconds
    pause = clients / rate if rate else 0.0
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def reader(start: int) -> None:
            seen: dict[str, str] = {}
            index = start
            await asyncio.sleep(pause * start / clients)  # spread out, not in step
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                if paths:
                    await _read(session, base, paths[index % len(paths)], seen, load)
                index += 7  # a reader's own order, not every reader on the same file
                await asyncio.sleep(max(0.0, pause - (time.perf_counter() - began)))

        async def refresh() -> None:
            while time.perf_counter() < deadline:
                paths[:] = await asyncio.to_thread(listed_feeds, base) or paths
                await asyncio.sleep(min(REFRESH_SECONDS, max(0.0, deadline - time.perf_counter())))

        await asyncio.gather(*(reader(n) for n in range(clients)),
                             *((refresh(),) if rate else ()))
    return load


async def _read(session: aiohttp.ClientSession, base: str, path: str, seen: dict[str, str],
                load: ReaderLoad) -> None:
    """One conditional GET, counted in ``load``."""
    headers = {"If-None-Match": seen[path]} if path in seen else {}
    began = time.perf_counter()
    try:
        async with session.get(base + path, headers=headers) as response:
            await response.read()
            load.statuses[response.status] += 1
            if response.status not in (200, 304):
                load.errors[f"HTTP {response.status} {path}"] += 1
            if "ETag" in response.headers:
                seen[path] = response.headers["ETag"]
    except (aiohttp.ClientError, TimeoutError) as error:
        load.errors[type(error).__name__] += 1
    load.latencies.append(time.perf_counter() - began)
