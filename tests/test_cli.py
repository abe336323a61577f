"""The ``refeed`` command line: output formats and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner, Result

from refeed.cli import cli
from tests.factories import read_data, write_config
from tests.feedserver import FeedServer

PROJECT = Path(__file__).parent.parent


def run(config: Path, *args: str) -> Result:
    """Invoke ``refeed -c CONFIG ARGS`` in-process."""
    return CliRunner().invoke(cli, ["-c", str(config), *args], catch_exceptions=False)


@pytest.fixture
def config(tmp_path: Path, feed_server: FeedServer) -> Path:
    """Two working sources and one that answers 404."""
    feed_server.serve("en.xml", read_data("up-en.xml"))
    feed_server.serve("uk.xml", read_data("up-uk.xml"))
    sources = [
        {"id": "up-en", "url": feed_server.url("en.xml"), "language": "en"},
        {"id": "up-uk", "url": feed_server.url("uk.xml"), "language": "uk"},
        {"id": "gone", "url": feed_server.url("gone.xml")},
    ]
    tags = {"putin": ["Putin", "Путін", "Путин"]}
    return write_config(tmp_path, {"site": {"languages": ["uk", "en"]}, "sources": sources,
                                   "tags": tags})


def test_check_prints_a_summary(config: Path) -> None:
    result = run(config, "check")
    assert result.exit_code == 0
    # all, 2 languages, 1 tag, 1 tag x 2 languages
    assert result.output == f"{config}: ok: 3 sources, 1 tag, 6 outputs\n"


def test_shipped_config_checks() -> None:
    result = run(PROJECT / "config.yaml", "check")
    assert result.exit_code == 0, result.output
    assert "3 sources, 4 tags" in result.output


def test_check_reports_every_problem_with_line_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "sources:\n"
        "  - id: a\n"
        "    url: ftp://example.com/feed\n"
        "  - id: a\n"
        "    url: https://example.com/feed\n"
        "    colour: red\n",
        encoding="utf-8",
    )
    result = run(path, "check")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{path}:3: sources[0].url: unsupported URL scheme 'ftp' in 'ftp://example.com/feed' "
        "(use http or https)",
        f"{path}:4: sources[1].id: duplicate id 'a'",
        f"{path}:6: sources[1].colour: unknown key",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [(None, "cannot read config"), ("sources: [\n", "invalid YAML"),
     ("- a\n- b\n", "must be a mapping")],
)
def test_unusable_config_files_exit_2(tmp_path: Path, text: str | None, expected: str) -> None:
    path = tmp_path / "config.yaml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    for command in ("check", "poll", "status", "entries"):
        result = run(path, command)
        assert result.exit_code == 2
        assert result.stderr.startswith(f"{path}:")
        assert expected in result.stderr


def test_poll_prints_a_line_per_source_and_exits_0_despite_failures(config: Path) -> None:
    result = run(config, "poll")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split()[:3] for line in lines[:3]] == [
        ["up-en", "ok", "200"], ["up-uk", "ok", "200"], ["gone", "failed", "404"],
    ]
    assert "new 3  updated 0  dup 0" in lines[0]
    assert "HTTPStatusError: HTTP 404 Not Found" in lines[2]
    assert lines[3] == "3 sources: 2 ok, 1 failed; 5 new, 0 updated, 0 duplicates"


def test_poll_strict_exits_1_when_a_source_failed(config: Path) -> None:
    assert run(config, "poll", "--strict").exit_code == 1
    assert run(config, "poll", "--strict", "up-en").exit_code == 0


def test_poll_unknown_source_is_a_usage_error(config: Path) -> None:
    result = run(config, "poll", "nope")
    assert result.exit_code == 2
    assert "unknown source id: nope" in result.stderr


def test_second_poll_is_not_modified(config: Path) -> None:
    run(config, "poll")
    lines = run(config, "poll", "up-en", "up-uk").output.splitlines()
    assert [line.split()[:3] for line in lines[:2]] == [
        ["up-en", "not-modified", "304"], ["up-uk", "not-modified", "304"],
    ]


def test_unwritable_database_is_a_runtime_failure(tmp_path: Path, config: Path) -> None:
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where a folder should be")
    text = config.read_text(encoding="utf-8") + f"database: {blocker / 'refeed.db'}\n"
    config.write_text(text, encoding="utf-8")
    result = run(config, "poll")
    assert result.exit_code == 1
    assert result.stderr.startswith("refeed: cannot open database")


def status_json(config: Path) -> dict[str, dict[str, Any]]:
    """``refeed status --json`` by source id."""
    result = run(config, "status", "--json")
    assert result.exit_code == 0
    return {item["id"]: item for item in json.loads(result.output)}


def test_status_json_before_and_after_polling(config: Path) -> None:
    before = status_json(config)
    assert list(before) == ["up-en", "up-uk", "gone"]
    assert before["up-en"]["state"] == "never-polled"
    assert before["up-en"]["ok"] is False
    assert before["up-en"]["last_fetch"] is None
    run(config, "poll")
    after = status_json(config)
    assert {key: after["up-en"][key] for key in ("ok", "http_status", "error", "entries")} == {
        "ok": True, "http_status": 200, "error": None, "entries": 3,
    }
    assert after["gone"]["ok"] is False
    assert after["gone"]["error"].startswith("HTTPStatusError: HTTP 404 Not Found")
    for item in after.values():
        assert {"id", "url", "ok", "http_status", "error", "entries", "last_fetch",
                "next_due"} <= set(item)
        assert item["last_fetch"].endswith("Z")
        assert item["next_due"] > item["last_fetch"]


def test_status_table_names_the_broken_source_and_why(config: Path) -> None:
    run(config, "poll")
    output = run(config, "status").output.splitlines()
    assert output[0].split() == ["SOURCE", "STATE", "HTTP", "ENTRIES", "LAST", "FETCH",
                                 "NEXT", "DUE"]
    [gone] = [line for line in output if line.startswith("gone")]
    assert "failing" in gone
    assert "HTTP 404 Not Found" in gone


def entries_json(config: Path, *args: str) -> list[dict[str, Any]]:
    """``refeed entries --json ARGS`` as a list of objects."""
    result = run(config, "entries", "--json", *args)
    assert result.exit_code == 0
    return [json.loads(line) for line in result.output.splitlines()]


def test_entries_filters(config: Path) -> None:
    run(config, "poll")
    assert len(entries_json(config)) == 5
    putin = entries_json(config, "--tag", "Путин")
    assert sorted(item["source"] for item in putin) == ["up-en", "up-uk"]
    assert [item["language"] for item in entries_json(config, "--lang", "uk")] == ["uk", "uk"]
    assert {item["source"] for item in entries_json(config, "--source", "up-en")} == {"up-en"}
    [metro] = entries_json(config, "--search", "metro")
    assert metro["title"] == "Kyiv metro reopens after repairs"
    assert len(entries_json(config, "-n", "2")) == 2
    assert {"id", "source", "title", "link", "published", "language", "tags",
            "duplicate_of"} <= set(metro)


def test_entries_text_lines(config: Path) -> None:
    run(config, "poll", "up-en")
    first = run(config, "entries", "-n", "1").output
    assert first == (
        "2026-10-04 05:40  up-en  [en]  Zelenskyy: negotiations in Istanbul will resume "
        "next week  <https://news.example/eng/news/2026/10/04/1001/>\n"
    )


def test_python_dash_m_and_env_config(config: Path, tmp_path: Path) -> None:
    env = {"REFEED_CONFIG": str(config), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "refeed", "check"], capture_output=True, text=True, env=env,
        cwd=tmp_path, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "3 sources" in done.stdout


def test_a_gone_source_is_reported_as_gone(config: Path, feed_server: FeedServer) -> None:
    feed_server.serve("gone.xml", b"moved away for good", status=410)
    run(config, "poll")
    assert status_json(config)["gone"]["state"] == "gone"


def test_prune_reports_and_republishes(config: Path) -> None:
    run(config, "poll")
    result = run(config, "prune")
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "0 entries pruned"
    assert result.output.splitlines()[1].startswith("published to ")


def test_websub_hub_is_announced_and_pinged(
    config: Path, feed_server: FeedServer, tmp_path: Path
) -> None:
    hub = feed_server.serve("hub", b"", status=204)
    config.write_text(config.read_text(encoding="utf-8") + f"publish: {{websub_hub: '{hub}'}}\n",
                      encoding="utf-8")
    assert run(config, "poll").exit_code == 0
    pings = {parse_qs(request.body.decode())["hub.url"][0]
             for request in feed_server.requests_to("hub")}
    assert "http://localhost:8080/tag/putin/uk.atom" in pings
    assert "http://localhost:8080/lang/en.json" in pings
    assert not any(ping.endswith((".html", ".opml")) for ping in pings)
    feeds = tmp_path / "feeds"
    assert f'<link href="{hub}" rel="hub"/>' in (feeds / "all.atom").read_text()
    assert f'<atom:link href="{hub}" rel="hub"/>' in (feeds / "all.rss").read_text()
    assert json.loads((feeds / "all.json").read_text())["hubs"] == [
        {"type": "WebSub", "url": hub}]
    # nothing changed: nothing to announce
    before = len(feed_server.requests_to("hub"))
    assert run(config, "publish").exit_code == 0
    assert len(feed_server.requests_to("hub")) == before


def test_a_failing_hub_does_not_fail_the_publish(config: Path) -> None:
    config.write_text(config.read_text(encoding="utf-8")
                      + "publish: {websub_hub: 'http://127.0.0.1:9/hub'}\n", encoding="utf-8")
    result = run(config, "poll")
    assert result.exit_code == 0
    assert "WebSub ping failed" in result.stderr
