"""A real HTTP server on 127.0.0.1 for tests: aiohttp.web in a background thread.

Routes are registered per test with :meth:`FeedServer.serve` and behave like real feed
hosts: ETag / Last-Modified with 304 answers, gzip, redirects, error statuses, slow
starts and byte-by-byte dripping. Every request is recorded with its headers.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from aiohttp import web

LAST_MODIFIED = format_datetime(datetime(2026, 10, 4, 6, 0, tzinfo=UTC), usegmt=True)


@dataclass
class Route:
    """How one path answers."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)
    validators: bool = True  # send ETag + Last-Modified and honour conditional requests
    gzip: bool = False  # send the body gzip-compressed (Content-Encoding: gzip)
    redirect: str | None = None  # answer a redirect to this location
    redirect_status: int = 302
    delay: float = 0.0  # seconds before answering
    drip: float = 0.0  # seconds between single bytes of the body
    generate: Callable[[int], bytes] | None = None  # the body of the n-th request (from 1)


@dataclass(frozen=True)
class Request:
    """One request the server received."""

    path: str
    headers: Mapping[str, str]
    body: bytes = b""


class FeedServer:
    """Start with :meth:`start`, stop with :meth:`stop`; ``url(path)`` gives addresses."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    def start(self) -> FeedServer:
        """Listen on a free port of 127.0.0.1."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        """Shut the server and its thread down."""
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def serve(self, path: str, body: bytes | str = b"", **options: object) -> str:
        """Register (or replace) what ``path`` answers; returns its URL."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes["/" + path.lstrip("/")] = Route(data, **options)  # type: ignore[arg-type]
        return self.url(path)

    def requests_to(self, path: str) -> list[Request]:
        """The recorded requests for ``path``."""
        return [request for request in self.requests if request.path == "/" + path.lstrip("/")]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(Request(request.path, dict(request.headers), await request.read()))
        route = self.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="not found")
        if route.delay:
            await asyncio.sleep(route.delay)
        if route.redirect is not None:
            return web.Response(status=route.redirect_status,
                                headers={"Location": route.redirect})
        body = route.body
        if route.generate is not None:
            body = route.generate(len(self.requests_to(request.path)))
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        headers = dict(route.headers)
        if route.validators:
            headers |= {"ETag": etag, "Last-Modified": LAST_MODIFIED}
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers=headers)
        if route.gzip:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        headers["Content-Type"] = route.content_type
        if route.drip:
            return await self._drip(request, route, headers, body)
        return web.Response(status=route.status, body=body, headers=headers)

    async def _drip(
        self, request: web.Request, route: Route, headers: dict[str, str], body: bytes
    ) -> web.StreamResponse:
        response = web.StreamResponse(status=route.status, headers=headers)
        response.content_length = len(body)
        await response.prepare(request)
        for index in range(len(body)):
            await response.write(body[index : index + 1])
            await asyncio.sleep(route.drip)
        await response.write_eof()
        return response
