"""The only network client (aiohttp): conditional GET with limits, as data.

Every call of :meth:`Fetcher.fetch` returns a :class:`FetchResult`; timeouts, refused
connections, HTTP errors, oversized bodies and too many redirects become its ``error``,
so one bad source never stops the others. Politeness and safety:

- a global concurrency limit and a per-host limit, taken *before* the deadline starts, so
  waiting for a slot never counts against a source's timeout;
- ``timeout`` is a total deadline for the whole fetch (a server dripping a byte a second
  cannot hold a source past it); ``max_bytes`` counts *decompressed* bytes while
  streaming, so a gzip bomb stops at the cap;
- at most 5 redirects; a User-Agent naming refeed and its URL; ``file:`` URLs and paths
  only when the config allows them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urljoin, urlsplit

import aiohttp

from refeed import USER_AGENT
from refeed.config import PollingConfig, SourceConfig, is_local_url
from refeed.errors import FetchError, HTTPStatusError
from refeed.model import ErrorInfo, FetchResult, Validators

MAX_REDIRECTS = 5
DNS_CACHE_SECONDS = 300  # aiohttp's resolver cache, and how long a source's host stays trusted
CHUNK_SIZE = 64 * 1024
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, "
    "application/json;q=0.8, */*;q=0.5"
)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PASSED_HEADERS = ("content-type", "content-language", "content-location")
HINT_HEADERS = ("retry-after", "cache-control", "expires")


class Fetcher:
    """An HTTP session shared by all sources of one poll; use as ``async with``."""

    def __init__(self, polling: PollingConfig) -> None:
        self.polling = polling
        self._slots = asyncio.Semaphore(polling.concurrency)
        self._host_slots: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(polling.per_host)
        )
        self._session: aiohttp.ClientSession | None = None
        self._private_hosts: dict[str, tuple[float, bool]] = {}  # host -> (until, private)

    async def __aenter__(self) -> Fetcher:
        connect = min(10.0, self.polling.timeout.total_seconds())
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=DNS_CACHE_SECONDS),
            headers={"User-Agent": USER_AGENT, "Accept": ACCEPT},
            timeout=aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect),
            trust_env=False,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()

    async def fetch(self, source: SourceConfig, validators: Validators, *,
                    trusted: bool | None = None, accept: str = ACCEPT) -> FetchResult:
        """Retrieve ``source`` (conditionally, with ``validators``); never raises for
        per-source problems. ``trusted``: whether the URL and its redirects may be
        private addresses (default: when the admin put the source on one)."""
        host = _hostname(source.url)
        # the host slot first: sources queued for a busy host must not hold global slots
        async with self._host_slots[host], self._slots:
            started = time.monotonic()
            try:
                async with asyncio.timeout(self.polling.timeout.total_seconds()):
                    if is_local_url(source.url):
                        return await self._read_local(source, started)
                    return await self._get(source, validators, started, trusted, accept)
            except TimeoutError:
                error: Exception = FetchError(
                    f"timed out after {self.polling.timeout.total_seconds():g}s", source.url
                )
            except FetchError as fetch_error:
                error = fetch_error
            except (aiohttp.ClientError, OSError, ValueError) as cause:
                error = FetchError(_describe(cause), source.url)
            return FetchResult(
                source_id=source.id,
                url=source.url,
                http_status=getattr(error, "status", None),
                elapsed=time.monotonic() - started,
                error=ErrorInfo.from_exception(error),
                hints=getattr(error, "hints", {}),
            )

    async def _get(
        self, source: SourceConfig, validators: Validators, started: float,
        trusted: bool | None, accept: str,
    ) -> FetchResult:
        assert self._session is not None, "use Fetcher as an async context manager"
        headers = {"Accept": accept}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        # a source the admin put on a private address may redirect there; others may not
        if trusted is None:
            trusted = await self._source_is_private(source.url)
        elif not trusted and await self._is_private(source.url):
            raise FetchError(f"a private address refused: {source.url}", source.url)
        url, hops, permanent = source.url, 0, True
        while True:
            async with self._session.get(url, headers=headers, allow_redirects=False) as response:
                location = response.headers.get("Location")
                if response.status not in REDIRECTS or not location:
                    return await self._result(source, response, url, validators, started,
                                              moved_to=url if hops and permanent else None)
            hops += 1
            if hops > MAX_REDIRECTS:
                raise FetchError(f"more than {MAX_REDIRECTS} redirects", source.url)
            permanent = permanent and response.status in (301, 308)
            url = urljoin(url, location)
            if urlsplit(url).scheme not in ("http", "https"):
                raise FetchError(f"redirect to a non-web URL refused: {url}", source.url)
            if not trusted and await self._is_private(url):
                raise FetchError(f"redirect to a private address refused: {url}", source.url)

    async def _result(
        self,
        source: SourceConfig,
        response: aiohttp.ClientResponse,
        url: str,
        validators: Validators,
        started: float,
        moved_to: str | None,
    ) -> FetchResult:
        hints = {name: response.headers[name] for name in HINT_HEADERS
                 if name in response.headers}
        if response.status == 304:
            return FetchResult(
                source_id=source.id, url=source.url, final_url=url, http_status=304,
                validators=validators, not_modified=True, elapsed=time.monotonic() - started,
                hints=hints, moved_to=moved_to,
            )
        if response.status >= 400:
            raise HTTPStatusError(response.status, response.reason, source.url, hints)
        body = await self._read_capped(response, source.url)
        return FetchResult(
            source_id=source.id,
            url=source.url,
            final_url=url,
            http_status=response.status,
            body=body,
            headers={name: response.headers[name] for name in PASSED_HEADERS
                     if name in response.headers},
            validators=Validators(
                response.headers.get("ETag"), response.headers.get("Last-Modified")
            ),
            elapsed=time.monotonic() - started,
            nbytes=len(body),
            hints=hints,
            moved_to=moved_to,
        )

    async def admin_trusts(self, url: str) -> bool:
        """Whether the admin put ``url`` (a source's feed) on a private address: its
        fetches, and its entries' pages, may then go to private addresses."""
        return await self._source_is_private(url)

    async def _source_is_private(self, url: str) -> bool:
        """:meth:`_is_private` for a source's own URL, remembered per host for
        :data:`DNS_CACHE_SECONDS`: every fetch asks it, and for a host name each answer
        was a lookup in a thread (aiohttp's own lookup is cached as long)."""
        host, now = _hostname(url), time.monotonic()
        known = self._private_hosts.get(host)
        if known is not None and known[0] > now:
            return known[1]
        private = await self._is_private(url)
        self._private_hosts[host] = (now + DNS_CACHE_SECONDS, private)
        return private

    async def _is_private(self, url: str) -> bool:
        """True when ``url``'s host is, or resolves to, a private, loopback, link-local or
        otherwise non-public address."""
        host = _hostname(url)
        literal = _literal_is_private(host)
        if literal is not None:
            return literal
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError:
            return False  # the request itself will fail and say why
        return any(is_private_address(ipaddress.ip_address(info[4][0])) for info in infos)

    async def _read_capped(self, response: aiohttp.ClientResponse, url: str) -> bytes:
        cap = self.polling.max_bytes
        declared = response.content_length
        if declared is not None and declared > cap and "Content-Encoding" not in response.headers:
            raise FetchError(f"response of {declared} bytes exceeds max_bytes ({cap})", url)
        chunks: list[bytes] = []
        total = 0
        async for chunk in response.content.iter_chunked(CHUNK_SIZE):
            total += len(chunk)
            if total > cap:
                raise FetchError(f"response exceeds max_bytes ({cap} bytes)", url)
            chunks.append(chunk)
        return b"".join(chunks)

    async def _read_local(self, source: SourceConfig, started: float) -> FetchResult:
        parts = urlsplit(source.url)
        path = Path(unquote(parts.path) if parts.scheme == "file" else source.url)
        body = await asyncio.to_thread(_read_file_capped, path, self.polling.max_bytes)
        return FetchResult(
            source_id=source.id, url=source.url, final_url=path.as_uri(), body=body,
            elapsed=time.monotonic() - started, nbytes=len(body),
        )


def is_private_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Addresses a public feed must not send refeed to."""
    return not address.is_global or address.is_multicast


@lru_cache(maxsize=16384)
def _hostname(url: str) -> str:
    """The host part of ``url`` (every source's URL is split on every poll)."""
    return urlsplit(url).hostname or ""


@lru_cache(maxsize=4096)
def _literal_is_private(host: str) -> bool | None:
    """Whether ``host``, an IP address literal, is a private one; ``None`` for a name."""
    try:
        return is_private_address(ipaddress.ip_address(host))
    except ValueError:
        return None


def _read_file_capped(path: Path, cap: int) -> bytes:
    with path.open("rb") as handle:
        body = handle.read(cap + 1)
    if len(body) > cap:
        raise FetchError(f"file exceeds max_bytes ({cap} bytes)", str(path))
    return body


def _describe(error: BaseException) -> str:
    """A one-line description of a client error, naming its class when the text is vague."""
    text = str(error).strip()
    name = type(error).__name__
    return f"{name}: {text}" if text else name


async def ping_hub(hub: str, topics: Sequence[str], timeout: float = 30.0) -> list[str]:
    """Tell a WebSub hub that ``topics`` (feed URLs) changed; returns the problems, one
    line each (a hub that is down must not fail a publish)."""
    problems: list[str] = []
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(headers={"User-Agent": USER_AGENT},
                                     timeout=client_timeout, trust_env=False) as session:
        for topic in topics:
            try:
                async with session.post(hub, data={"hub.mode": "publish", "hub.url": topic},
                                        allow_redirects=False) as response:
                    if response.status >= 300:
                        problems.append(f"{topic}: hub answered HTTP {response.status}")
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                problems.append(f"{topic}: {_describe(error)}")
    return problems
