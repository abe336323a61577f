"""HTTP for readers (aiohttp.web): the output folder and nothing else, plus ``/healthz``.

Files are served with the right Content-Type and charset, a validator pair (ETag from
size and mtime — publish rewrites a file only when its bytes change — and
Last-Modified), 304 answers to If-None-Match / If-Modified-Since, gzip when the client
accepts it, and ``Cache-Control: max-age`` tied to the polling interval. Any path that
is not a regular file inside the folder — ``..``, encoded variants, absolute paths,
dotfiles, symlinks pointing out — is a 404.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from refeed.config import Settings
from refeed.errors import StoreError
from refeed.publish import MANIFEST
from refeed.storage import open_storage

CONTENT_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}
HealthExtra = Callable[[], dict[str, Any]]


@dataclass
class Served:
    """What the running app serves; the daemon swaps ``settings`` on a config reload and
    adds its scheduler's state to ``/healthz`` through ``health``."""

    settings: Settings
    health: HealthExtra | None = None
    registry: CollectorRegistry | None = None


SERVED_KEY = web.AppKey("served", Served)


def make_app(
    settings: Settings,
    health: HealthExtra | None = None,
    registry: CollectorRegistry | None = None,
) -> web.Application:
    """The reader-facing application for ``settings.output_dir`` (with ``/metrics`` when
    a daemon's metrics ``registry`` is given)."""
    app = web.Application()
    app[SERVED_KEY] = Served(settings, health, registry)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/{path:.*}", serve_file)
    return app


def max_age(settings: Settings) -> int:
    """Seconds a reader may cache an output: the shortest polling interval."""
    intervals = [settings.source_interval(source) for source in settings.sources]
    return int(min(intervals, default=settings.polling.interval).total_seconds())


async def serve_file(request: web.Request) -> web.StreamResponse:
    """GET/HEAD of one file of the output folder."""
    settings = request.app[SERVED_KEY].settings
    path = resolve_output_path(settings.output_dir, request.match_info["path"])
    if path is None:
        raise web.HTTPNotFound()
    stat = path.stat()
    etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
    modified = datetime.fromtimestamp(int(stat.st_mtime), UTC)
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(modified, usegmt=True),
        "Cache-Control": f"public, max-age={max_age(settings)}",
        "Vary": "Accept-Encoding",
    }
    if _not_modified(request, etag, modified):
        return web.Response(status=304, headers=headers)
    body = await asyncio.to_thread(path.read_bytes)
    response = web.Response(
        body=body, headers=headers | {"Content-Type": CONTENT_TYPES[path.suffix]}
    )
    response.enable_compression()
    return response


def resolve_output_path(root: Path, requested: str) -> Path | None:
    """The file under ``root`` that ``requested`` (an already-decoded URL path) names, or
    ``None`` when it names anything else."""
    parts = [part for part in requested.split("/") if part]
    if any(part.startswith(".") or "\\" in part or "\x00" in part for part in parts):
        return None
    if not parts or requested.endswith("/"):
        parts.append("index.html")
    base = root.resolve()
    candidate = base.joinpath(*parts)
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(base) or not resolved.is_file():
        return None
    return resolved if resolved.suffix in CONTENT_TYPES else None


def _not_modified(request: web.Request, etag: str, modified: datetime) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        return etag in {tag.strip() for tag in if_none_match.split(",")} or if_none_match == "*"
    since = request.headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        return modified <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics of the daemon; 404 under plain ``refeed serve``."""
    registry = request.app[SERVED_KEY].registry
    if registry is None:
        raise web.HTTPNotFound()
    return web.Response(body=generate_latest(registry),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})


async def healthz(request: web.Request) -> web.Response:
    """``{"ok", "sources", "sources_failing", "last_poll", "last_publish"}``, and under
    ``refeed run`` the daemon's part; 503 when the database cannot be read or the daemon
    names ``problems`` (a stopped scheduler, changes long unpublished)."""
    served = request.app[SERVED_KEY]
    try:
        report = await asyncio.to_thread(health_report, served.settings)
    except StoreError as error:
        return web.json_response({"ok": False, "error": str(error)}, status=503)
    if served.health is not None:
        report |= served.health()
        if report.get("problems"):
            return web.json_response(report | {"ok": False}, status=503)
    return web.json_response(report, dumps=lambda data: json.dumps(data, ensure_ascii=False))


def health_report(settings: Settings) -> dict[str, Any]:
    """The health of the last poll and publish, from the database and the output folder."""
    store = open_storage(settings.database)
    try:
        states = {row["id"]: row for row in store.source_states()}
    finally:
        store.close()
    configured = [source.id for source in settings.sources]
    failing = [sid for sid in configured if sid in states and not states[sid]["ok"]]
    fetched = [states[sid]["last_fetch"] for sid in configured if sid in states]
    manifest = settings.output_dir / MANIFEST
    published = (
        datetime.fromtimestamp(manifest.stat().st_mtime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if manifest.exists() else None
    )
    return {
        "ok": True,
        "sources": len(configured),
        "sources_failing": failing,
        "last_poll": max((stamp for stamp in fetched if stamp), default=None),
        "last_publish": published,
    }


def run_server(settings: Settings) -> None:
    """Serve until interrupted (``refeed serve``)."""
    web.run_app(
        make_app(settings), host=settings.server.host, port=settings.server.port,
        access_log=None, print=lambda message: print(message, flush=True),
    )
