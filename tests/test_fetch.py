"""Fetcher against a real HTTP server on 127.0.0.1: validators, gzip, byte caps, redirects,
the total deadline, errors as data, request headers, concurrency limits and local files.

Every fetch goes through ``async with Fetcher(polling) as fetcher`` inside ``asyncio.run``;
results are compared field by field with the :class:`FetchResult` they must equal
(``elapsed`` is taken from the result, as it is the one field that is not deterministic).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from refeed import PROJECT_URL, USER_AGENT
from refeed.config import PollingConfig, SourceConfig
from refeed.fetch import Fetcher, is_private_address
from refeed.model import ErrorInfo, FetchResult, Validators
from tests.factories import read_data
from tests.feedserver import LAST_MODIFIED, FeedServer, Request

FEED = read_data("up-en.xml")
RSS_TYPE = "application/rss+xml; charset=utf-8"
CAP = 1_000_000  # max_bytes of the byte-cap tests
NO_VALIDATORS = Validators()


def polling(timeout: float = 5.0, max_bytes: int = 10_000_000, **limits: int) -> PollingConfig:
    """A polling config with a ``timeout`` in seconds (generous unless a test is about it)."""
    return PollingConfig(timeout=timedelta(seconds=timeout), max_bytes=max_bytes, **limits)


def source(url: str, source_id: str = "feed") -> SourceConfig:
    """A source for ``url`` (no config file, so local paths are taken as they are)."""
    return SourceConfig(id=source_id, url=url)


def fetch_all(
    config: PollingConfig,
    sources: Sequence[SourceConfig],
    validators: Validators = NO_VALIDATORS,
) -> list[FetchResult]:
    """Fetch every source concurrently through one Fetcher, as a poll does."""

    async def run() -> list[FetchResult]:
        async with Fetcher(config) as fetcher:
            return list(
                await asyncio.gather(*(fetcher.fetch(item, validators) for item in sources))
            )

    return asyncio.run(run())


def fetch(
    url: str, config: PollingConfig | None = None, validators: Validators = NO_VALIDATORS
) -> FetchResult:
    """Fetch one URL as source ``feed``."""
    return fetch_all(config or polling(), [source(url)], validators)[0]


def failed(
    result: FetchResult, url: str, kind: str, message: str, status: int | None = None
) -> FetchResult:
    """The result a failed fetch of ``url`` must equal (``message`` without the URL suffix)."""
    return FetchResult(
        source_id="feed", url=url, http_status=status, elapsed=result.elapsed,
        error=ErrorInfo(kind, f"{message}: {url}"),
    )


def header(request: Request, name: str) -> str | None:
    """A recorded request header, looked up case-insensitively."""
    return {key.lower(): value for key, value in request.headers.items()}.get(name.lower())


@cache
def gzip_bomb(size: int = 50_000_000) -> bytes:
    """``size`` zero bytes, gzip-compressed (about a thousandth of ``size``), built in 1 MB
    steps so the zeros never sit in memory at once."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    block = bytes(1_000_000)
    parts = [compressor.compress(block) for _ in range(size // len(block))]
    return b"".join([*parts, compressor.flush()])


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class TrackingServer(FeedServer):
    """A FeedServer that records which requests are in flight (arrival until the handler
    returns), and answers paths registered in ``chunked`` with a chunked body that has no
    Content-Length."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight: list[tuple[str, str]] = []  # (Host header, path)
        self.peak = 0
        self.peak_per_host: Counter[str] = Counter()
        self.seen_on_arrival: dict[str, list[str]] = {}  # path → paths then in flight
        self.chunked: dict[str, bytes] = {}

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        key = (request.host, request.path)
        self.seen_on_arrival[request.path] = [path for _, path in self.in_flight]
        self.in_flight.append(key)
        self.peak = max(self.peak, len(self.in_flight))
        on_host = sum(host == request.host for host, _ in self.in_flight)
        self.peak_per_host[request.host] = max(self.peak_per_host[request.host], on_host)
        try:
            if request.path in self.chunked:
                self.requests.append(Request(request.path, dict(request.headers)))
                return await self._send_chunked(request, self.chunked[request.path])
            return await super()._handle(request)
        finally:
            self.in_flight.remove(key)

    async def _send_chunked(self, request: web.Request, body: bytes) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": RSS_TYPE})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(body), 16_384):
            await response.write(body[start : start + 16_384])
        await response.write_eof()
        return response


@pytest.fixture
def tracking_server() -> Iterator[TrackingServer]:
    """A fresh :class:`TrackingServer` on 127.0.0.1 for one test."""
    server = TrackingServer()
    server.start()
    yield server
    server.stop()


# --- success, validators, headers ------------------------------------------------------------


def test_200_passes_body_headers_and_validators(feed_server: FeedServer) -> None:
    url = feed_server.serve(
        "feed.xml", FEED,
        headers={"Content-Language": "en", "Content-Location": "/canonical.xml", "X-Other": "1"},
    )
    result = fetch(url)
    etag = result.validators.etag
    assert etag is not None
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert result == FetchResult(
        source_id="feed", url=url, final_url=url, http_status=200, body=FEED,
        headers={
            "content-type": RSS_TYPE,
            "content-language": "en",
            "content-location": "/canonical.xml",
        },
        validators=Validators(etag, LAST_MODIFIED), elapsed=result.elapsed, nbytes=len(FEED),
    )
    assert result.ok


def test_validators_make_the_next_fetch_conditional(feed_server: FeedServer) -> None:
    url = feed_server.serve("feed.xml", FEED)
    first = fetch(url)
    second = fetch(url, validators=first.validators)
    assert second == FetchResult(
        source_id="feed", url=url, final_url=url, http_status=304,
        validators=first.validators, not_modified=True, elapsed=second.elapsed,
    )
    assert second.body is None
    assert not second.ok
    unconditional, conditional = feed_server.requests_to("feed.xml")
    assert header(unconditional, "If-None-Match") is None
    assert header(unconditional, "If-Modified-Since") is None
    assert header(conditional, "If-None-Match") == first.validators.etag
    assert header(conditional, "If-Modified-Since") == LAST_MODIFIED == (
        first.validators.last_modified
    )


def test_request_names_refeed_and_accepts_feed_types(feed_server: FeedServer) -> None:
    fetch(feed_server.serve("feed.xml", FEED))
    (request,) = feed_server.requests_to("feed.xml")
    user_agent = header(request, "User-Agent")
    assert user_agent == USER_AGENT
    assert user_agent.startswith("refeed/")
    assert PROJECT_URL in user_agent
    accept = header(request, "Accept") or ""
    for media_type in ("application/atom+xml", "application/rss+xml", "application/feed+json"):
        assert media_type in accept


# --- gzip and byte caps ----------------------------------------------------------------------


def test_gzip_body_is_decompressed_and_counted_decompressed(feed_server: FeedServer) -> None:
    body = FEED * 20  # compresses well, so compressed and decompressed sizes differ a lot
    url = feed_server.serve("feed.xml", body, gzip=True)
    result = fetch(url)
    assert result.error is None
    assert result.body == body
    assert result.nbytes == len(body)
    assert result.http_status == 200
    (request,) = feed_server.requests_to("feed.xml")
    assert "gzip" in (header(request, "Accept-Encoding") or "")


def test_gzip_bomb_stops_at_max_bytes(feed_server: FeedServer) -> None:
    """50 MB of zeros in ~50 KB of gzip: the cap counts decompressed bytes, so the fetch
    ends with the cap error instead of inflating the whole bomb."""
    url = feed_server.serve(
        "bomb.xml", gzip_bomb(), headers={"Content-Encoding": "gzip"}, validators=False
    )
    result = fetch(url, polling(max_bytes=CAP))
    assert result == failed(result, url, "FetchError", f"response exceeds max_bytes ({CAP} bytes)")


@pytest.mark.parametrize(
    ("size", "error"),
    [
        pytest.param(CAP, None, id="at-cap"),
        pytest.param(
            CAP + 1, f"response of {CAP + 1} bytes exceeds max_bytes ({CAP})", id="over-cap"
        ),
    ],
)
def test_content_length_over_cap_is_refused(
    feed_server: FeedServer, size: int, error: str | None
) -> None:
    url = feed_server.serve("big.xml", b"x" * size, validators=False)
    result = fetch(url, polling(max_bytes=CAP))
    if error is None:
        assert result.error is None
        assert result.nbytes == size
    else:
        assert result == failed(result, url, "FetchError", error)


@pytest.mark.parametrize(
    ("size", "refused"),
    [pytest.param(CAP, False, id="at-cap"), pytest.param(2 * CAP, True, id="over-cap")],
)
def test_body_without_content_length_is_capped_while_streaming(
    tracking_server: TrackingServer, size: int, refused: bool
) -> None:
    tracking_server.chunked["/chunked.xml"] = b"y" * size
    url = tracking_server.url("chunked.xml")
    result = fetch(url, polling(max_bytes=CAP))
    (request,) = tracking_server.requests_to("chunked.xml")
    assert request.path == "/chunked.xml"
    if refused:
        message = f"response exceeds max_bytes ({CAP} bytes)"
        assert result == failed(result, url, "FetchError", message)
    else:
        assert result.error is None
        assert result.body == b"y" * size
        assert result.nbytes == size


# --- redirects -------------------------------------------------------------------------------


def redirect_chain(server: FeedServer, hops: int) -> tuple[str, str]:
    """Serve ``hops`` 302s in a row ending at a feed; return (first URL, feed URL)."""
    target = server.serve("target.xml", FEED)
    url = target
    for hop in range(hops, 0, -1):
        url = server.serve(f"hop{hop}", redirect=url)
    return url, target


@pytest.mark.parametrize(
    "hops",
    [
        1,
        4,
        pytest.param(
            5,
        ),
    ],
)
def test_redirects_up_to_five_are_followed(feed_server: FeedServer, hops: int) -> None:
    url, target = redirect_chain(feed_server, hops)
    result = fetch(url)
    assert result.error is None
    assert result.url == url
    assert result.final_url == target
    assert result.body == FEED
    assert len(feed_server.requests_to("target.xml")) == 1


@pytest.mark.parametrize("hops", [6, 7])
def test_more_than_five_redirects_is_an_error(feed_server: FeedServer, hops: int) -> None:
    url, _ = redirect_chain(feed_server, hops)
    result = fetch(url)
    assert result == failed(result, url, "FetchError", "more than 5 redirects")
    assert feed_server.requests_to("target.xml") == []


# --- the total deadline ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"delay": 1.5}, id="slow-start"),
        # 200 bytes at one per 50 ms take 10 s: bytes keep coming, the deadline still ends it
        pytest.param({"drip": 0.05}, id="drip"),
    ],
)
def test_total_deadline(feed_server: FeedServer, options: Mapping[str, Any]) -> None:
    url = feed_server.serve("slow.xml", b"z" * 200, validators=False, **options)
    result = fetch(url, polling(timeout=1.0))
    assert result == failed(result, url, "FetchError", "timed out after 1s")
    assert 0.9 < result.elapsed < 5.0


def test_waiting_for_a_slot_does_not_count_against_the_deadline(
    feed_server: FeedServer,
) -> None:
    """Four 0.4 s fetches one at a time take 1.6 s, longer than the 1 s timeout: none times
    out, because the deadline starts when a fetch gets its slot."""
    sources = [
        source(feed_server.serve(f"s{index}.xml", FEED, delay=0.4), f"s{index}")
        for index in range(4)
    ]
    results = fetch_all(polling(timeout=1.0, concurrency=1), sources)
    assert [result.error for result in results] == [None] * 4
    assert [result.body for result in results] == [FEED] * 4


# --- errors as data --------------------------------------------------------------------------


def test_connection_refused_is_a_result() -> None:
    port = closed_port()
    url = f"http://127.0.0.1:{port}/feed.xml"
    result = fetch(url)
    assert result.error is not None
    assert result.error.kind == "FetchError"
    assert result.error.message.startswith(
        f"ClientConnectorError: Cannot connect to host 127.0.0.1:{port}"
    )
    assert result.error.message.endswith(f": {url}")
    reason = result.error.message.removesuffix(f": {url}")
    assert result == failed(result, url, "FetchError", reason)


@pytest.mark.parametrize(
    ("status", "reason"), [(404, "Not Found"), (410, "Gone"), (500, "Internal Server Error")]
)
def test_http_error_status(feed_server: FeedServer, status: int, reason: str) -> None:
    url = feed_server.serve("feed.xml", "oops", status=status)
    result = fetch(url)
    assert result == failed(result, url, "HTTPStatusError", f"HTTP {status} {reason}", status)


def test_unknown_path_is_404(feed_server: FeedServer) -> None:
    url = feed_server.url("missing.xml")
    result = fetch(url)
    assert result == failed(result, url, "HTTPStatusError", "HTTP 404 Not Found", 404)


def test_one_failing_source_does_not_stop_the_others(feed_server: FeedServer) -> None:
    good = feed_server.serve("good.xml", FEED)
    bad = feed_server.serve("bad.xml", "", status=500)
    refused = f"http://127.0.0.1:{closed_port()}/feed.xml"
    results = fetch_all(
        polling(), [source(bad, "bad"), source(refused, "refused"), source(good, "good")]
    )
    assert [result.source_id for result in results] == ["bad", "refused", "good"]
    assert [result.ok for result in results] == [False, False, True]
    assert results[2].body == FEED


# --- concurrency limits ----------------------------------------------------------------------


def slow_sources(server: FeedServer, count: int, host: str = "127.0.0.1") -> list[SourceConfig]:
    """``count`` sources answering after 0.3 s, addressed through ``host``."""
    return [
        source(
            server.serve(f"{host}-{index}.xml", FEED, delay=0.3).replace("127.0.0.1", host),
            f"{host.replace('.', '-')}-{index}",
        )
        for index in range(count)
    ]


def test_concurrency_limits_requests_in_flight(tracking_server: TrackingServer) -> None:
    results = fetch_all(polling(concurrency=2), slow_sources(tracking_server, 6))
    assert [result.error for result in results] == [None] * 6
    assert tracking_server.peak == 2


def test_per_host_limits_requests_to_one_host(tracking_server: TrackingServer) -> None:
    results = fetch_all(polling(concurrency=10, per_host=2), slow_sources(tracking_server, 6))
    assert [result.error for result in results] == [None] * 6
    assert tracking_server.peak == 2


def test_per_host_limit_is_per_host(tracking_server: TrackingServer) -> None:
    """``localhost`` and ``127.0.0.1`` are different hosts to the limiter: two at a time on
    each, so four in flight overall."""
    sources = slow_sources(tracking_server, 3) + slow_sources(tracking_server, 3, "localhost")
    results = fetch_all(polling(concurrency=10, per_host=2), sources)
    assert [result.error for result in results] == [None] * 6
    port = tracking_server.port
    assert tracking_server.peak_per_host == {f"127.0.0.1:{port}": 2, f"localhost:{port}": 2}
    assert tracking_server.peak == 4


def test_a_busy_host_does_not_starve_other_hosts(tracking_server: TrackingServer) -> None:
    """concurrency 2, per_host 1: while the first 127.0.0.1 source runs, the second one
    must wait for its host without taking the other global slot from ``localhost``."""
    sources = slow_sources(tracking_server, 2) + slow_sources(tracking_server, 1, "localhost")
    fetch_all(polling(concurrency=2, per_host=1), sources)
    assert "/127.0.0.1-0.xml" in tracking_server.seen_on_arrival["/localhost-0.xml"]


# --- local files -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["feed.xml", "my feed (стрічка).xml"])
@pytest.mark.parametrize("as_uri", [True, False], ids=["file-url", "path"])
def test_local_file_is_read(tmp_path: Path, name: str, as_uri: bool) -> None:
    path = tmp_path / name
    path.write_bytes(FEED)
    url = path.as_uri() if as_uri else str(path)
    result = fetch(url)
    assert result == FetchResult(
        source_id="feed", url=url, final_url=path.as_uri(), body=FEED,
        elapsed=result.elapsed, nbytes=len(FEED),
    )


@pytest.mark.parametrize("as_uri", [True, False], ids=["file-url", "path"])
def test_local_file_over_cap_is_an_error(tmp_path: Path, as_uri: bool) -> None:
    path = tmp_path / "big.xml"
    path.write_bytes(b"x" * 1001)
    url = path.as_uri() if as_uri else str(path)
    result = fetch(url, polling(max_bytes=1000))
    assert result == FetchResult(
        source_id="feed", url=url, elapsed=result.elapsed,
        error=ErrorInfo("FetchError", f"file exceeds max_bytes (1000 bytes): {path}"),
    )


def test_missing_local_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "missing.xml"
    result = fetch(str(path))
    assert result == failed(
        result, str(path), "FetchError",
        f"FileNotFoundError: [Errno 2] No such file or directory: '{path}'",
    )


@pytest.mark.parametrize(
    ("address", "private"),
    [("127.0.0.1", True), ("10.1.2.3", True), ("192.168.0.10", True), ("172.16.5.4", True),
     ("169.254.169.254", True), ("::1", True), ("fe80::1", True), ("fd00::1", True),
     ("0.0.0.0", True), ("224.0.0.1", True), ("93.184.216.34", False),
     ("2606:4700::1111", False)],
)
def test_private_addresses_are_recognised(address: str, private: bool) -> None:
    """Redirects from public sources to these are refused (cloud metadata, intranet)."""
    assert is_private_address(ipaddress.ip_address(address)) is private


def test_a_source_host_is_looked_up_once_per_poll_not_once_per_fetch(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether a source may redirect to private addresses depends on where its own host
    resolves: that answer is kept (as aiohttp keeps its own lookup), so fetching five
    sources on one named host resolves the name twice at most (once for the check,
    once for aiohttp's connection), not once per fetch."""
    feed_server.serve("feed.xml", FEED)
    url = feed_server.url("feed.xml").replace("127.0.0.1", "localhost")
    lookups: Counter[str] = Counter()

    async def run() -> list[FetchResult]:
        loop = asyncio.get_running_loop()
        real = loop.getaddrinfo

        async def counting(host: str, *args: Any, **kwargs: Any) -> Any:
            lookups[host] += 1
            return await real(host, *args, **kwargs)

        monkeypatch.setattr(loop, "getaddrinfo", counting)
        async with Fetcher(polling()) as fetcher:
            results = []
            for number in range(5):  # one after another: each could have asked again
                results.append(await fetcher.fetch(source(url, f"s{number}"), NO_VALIDATORS))
            return results

    results = asyncio.run(run())
    assert [result.body for result in results] == [FEED] * 5
    assert lookups["localhost"] <= 2
