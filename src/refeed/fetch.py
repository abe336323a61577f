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
import time
from collections import defaultdict
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

import aiohttp

from refeed import USER_AGENT
from refeed.config import PollingConfig, SourceConfig, is_local_url
from refeed.errors import FetchError, HTTPStatusError
from refeed.model import ErrorInfo, FetchResult, Validators

MAX_REDIRECTS = 5
CHUNK_SIZE = 64 * 1024
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, "
    "application/json;q=0.8, */*;q=0.5"
)
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

    async def __aenter__(self) -> Fetcher:
        connect = min(10.0, self.polling.timeout.total_seconds())
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
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

    async def fetch(self, source: SourceConfig, validators: Validators) -> FetchResult:
        """Retrieve ``source`` (conditionally, with ``validators``); never raises for
        per-source problems."""
        host = urlsplit(source.url).hostname or ""
        # the host slot first: sources queued for a busy host must not hold global slots
        async with self._host_slots[host], self._slots:
            started = time.monotonic()
            try:
                async with asyncio.timeout(self.polling.timeout.total_seconds()):
                    if is_local_url(source.url):
                        return await self._read_local(source, started)
                    return await self._get(source, validators, started)
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
        self, source: SourceConfig, validators: Validators, started: float
    ) -> FetchResult:
        assert self._session is not None, "use Fetcher as an async context manager"
        headers = {}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        async with self._session.get(
            # aiohttp gives up when the count *reaches* max_redirects: allow one more
            source.url, headers=headers, max_redirects=MAX_REDIRECTS + 1
        ) as response:
            final_url = str(response.url)
            hints = {name: response.headers[name] for name in HINT_HEADERS
                     if name in response.headers}
            if response.status == 304:
                return FetchResult(
                    source_id=source.id, url=source.url, final_url=final_url,
                    http_status=304, validators=validators, not_modified=True,
                    elapsed=time.monotonic() - started, hints=hints,
                )
            if response.status >= 400:
                raise HTTPStatusError(response.status, response.reason, source.url, hints)
            body = await self._read_capped(response, source.url)
            return FetchResult(
                source_id=source.id,
                url=source.url,
                final_url=final_url,
                http_status=response.status,
                body=body,
                headers={
                    name: response.headers[name]
                    for name in PASSED_HEADERS
                    if name in response.headers
                },
                validators=Validators(
                    response.headers.get("ETag"), response.headers.get("Last-Modified")
                ),
                elapsed=time.monotonic() - started,
                nbytes=len(body),
                hints=hints,
            )

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
    if isinstance(error, aiohttp.TooManyRedirects):
        return f"more than {MAX_REDIRECTS} redirects"
    return f"{name}: {text}" if text else name
