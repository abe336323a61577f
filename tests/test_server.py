"""The reader-facing server on a real socket: content types, validators, gzip, traversal."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from refeed.config import Settings, load_settings
from refeed.server import make_app, resolve_output_path
from tests.factories import write_config


class RunningApp:
    """An aiohttp application served on 127.0.0.1 from a background thread."""

    def __init__(self, app: web.Application) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner = web.AppRunner(app)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.port = self.runner.addresses[0][1]

    def stop(self) -> None:
        """Shut down the server and its loop."""
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A config whose output folder holds a few published files, next to a secret."""
    (tmp_path / "secret.txt").write_text("do not serve")
    feeds = tmp_path / "feeds"
    (feeds / "tag" / "putin").mkdir(parents=True)
    (feeds / "all.atom").write_text("<feed/>")
    (feeds / "all.rss").write_text("<rss>" + "x" * 5000 + "</rss>")
    (feeds / "all.json").write_text("{}")
    (feeds / "outputs.opml").write_text("<opml/>")
    (feeds / "index.html").write_text("<!DOCTYPE html><title>refeed</title>")
    (feeds / "tag" / "putin" / "en.atom").write_text("<feed>putin</feed>")
    (feeds / ".refeed-manifest.json").write_text("[]")
    (feeds / "notes.txt").write_text("not an output type")
    config = {"sources": [{"id": "a", "url": "https://a.example/feed", "interval": "5m"},
                          {"id": "b", "url": "https://b.example/feed"}]}
    return load_settings(write_config(tmp_path, config))


@pytest.fixture
def base_url(settings: Settings) -> Iterator[str]:
    """The URL of the running server."""
    running = RunningApp(make_app(settings))
    yield f"http://127.0.0.1:{running.port}"
    running.stop()


def get(url: str, headers: dict[str, str] | None = None,
        method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """Status, headers and raw body of one request (errors included)."""
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/all.atom", "application/atom+xml; charset=utf-8"),
        ("/all.rss", "application/rss+xml; charset=utf-8"),
        ("/all.json", "application/feed+json; charset=utf-8"),
        ("/outputs.opml", "text/x-opml; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        ("/tag/putin/en.atom", "application/atom+xml; charset=utf-8"),
    ],
)
def test_content_types(base_url: str, path: str, content_type: str) -> None:
    status, headers, _ = get(base_url + path)
    assert (status, headers["Content-Type"]) == (200, content_type)
    assert headers["Cache-Control"] == "public, max-age=300"  # the shortest interval


def test_etag_and_last_modified_give_304(base_url: str) -> None:
    status, headers, body = get(base_url + "/all.atom")
    assert (status, body) == (200, b"<feed/>")
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert get(base_url + "/all.atom", {"If-None-Match": etag})[0] == 304
    assert get(base_url + "/all.atom", {"If-Modified-Since": modified})[0] == 304
    assert get(base_url + "/all.atom", {"If-None-Match": '"other"'})[0] == 200


def test_etag_changes_when_the_file_is_republished(base_url: str, settings: Settings) -> None:
    etag = get(base_url + "/all.atom")[1]["ETag"]
    path = settings.output_dir / "all.atom"
    path.write_text("<feed>new</feed>")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    status, headers, body = get(base_url + "/all.atom", {"If-None-Match": etag})
    assert (status, body) == (200, b"<feed>new</feed>")
    assert headers["ETag"] != etag


def test_gzip_when_accepted(base_url: str) -> None:
    status, headers, body = get(base_url + "/all.rss", {"Accept-Encoding": "gzip"})
    assert (status, headers["Content-Encoding"]) == (200, "gzip")
    assert gzip.decompress(body) == b"<rss>" + b"x" * 5000 + b"</rss>"
    plain = get(base_url + "/all.rss")
    assert "Content-Encoding" not in plain[1]


def test_head(base_url: str) -> None:
    status, headers, body = get(base_url + "/all.atom", method="HEAD")
    assert (status, body, headers["Content-Length"]) == (200, b"", "7")


@pytest.mark.parametrize(
    "path",
    ["/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/tag/../../secret.txt",
     "/..%5csecret.txt", "/.refeed-manifest.json", "/notes.txt", "/missing.atom", "/tag",
     "//etc/passwd", "/%00all.atom", "/tag/putin/../../../config.yaml"],
)
def test_only_outputs_are_served(base_url: str, path: str) -> None:
    request = urllib.request.Request(base_url + path)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, b""
    assert status == 404
    assert b"do not serve" not in body


def test_symlink_out_of_the_folder_is_not_followed(settings: Settings) -> None:
    link = settings.output_dir / "leak.atom"
    link.symlink_to(settings.output_dir.parent / "secret.txt")
    inside = settings.output_dir / "alias.atom"
    inside.symlink_to(settings.output_dir / "all.atom")
    assert resolve_output_path(settings.output_dir, "leak.atom") is None
    assert resolve_output_path(settings.output_dir, "alias.atom") == (
        settings.output_dir / "all.atom"
    ).resolve()


def test_metrics_belong_to_the_daemon(base_url: str) -> None:
    assert get(base_url + "/metrics")[0] == 404


def test_healthz_reports_sources_and_publish(base_url: str, settings: Settings) -> None:
    status, headers, body = get(base_url + "/healthz")
    report: dict[str, Any] = json.loads(body)
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert report == {
        "ok": True, "sources": 2, "sources_failing": [], "last_poll": None,
        "last_publish": report["last_publish"],
    }
    assert report["last_publish"].endswith("Z")
