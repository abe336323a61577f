"""Publish into a real folder (tmp_path), and ``build_site`` from settings + timeline."""

from __future__ import annotations

import json
import os
import random
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import feedparser
import lxml.html
import pytest
from lxml import etree

from refeed.config import Settings, load_settings
from refeed.errors import ConfigError, PublishError
from refeed.model import Entry
from refeed.publish import (
    MANIFEST,
    STALE_TEMPORARY_SECONDS,
    Manifest,
    read_manifest,
    write_outputs,
)
from refeed.render import entry_uid
from refeed.select import define_outputs, tag_registry
from tests.factories import NOON, build_site, make_entry, select_site, site_settings, tag_usage

OLD = 1_000_000_000  # 2001-09-09: an mtime no write during the test can produce
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
UNSAFE_PATHS = [
    "../x.atom", "/abs.atom", "a/../../b.atom", "a/../b.atom", "./all.atom", "ALL.atom",
    "Tag/putin.atom", "tag\\putin.atom", "..\\x.atom", "C:\\x.atom", "", "all", ".atom",
    ".hidden.atom", "a//b.atom", "tag/.atom", "all.atom/", "all.atom\x00", "tag/%2e%2e.atom",
    "тег.atom", "all .atom",
    pytest.param("all.atom\n"),
    pytest.param("tag/putin.atom\n"),
]


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative POSIX path → bytes), hidden ones included."""
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def folder_dirs(folder: Path) -> set[str]:
    """Every sub-folder of ``folder`` as a relative POSIX path."""
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_dir()}


def age(folder: Path) -> None:
    """Give every file under ``folder`` the old mtime :data:`OLD`."""
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, (OLD, OLD))


def mtimes(folder: Path) -> dict[str, float]:
    """The mtime of every file under ``folder`` by relative path."""
    return {path.relative_to(folder).as_posix(): path.stat().st_mtime
            for path in folder.rglob("*") if path.is_file()}


# --- write_outputs ------------------------------------------------------------------------


def test_writes_every_file_and_a_manifest(tmp_path: Path) -> None:
    out = tmp_path / "feeds"
    files = {"all.atom": b"A", "tag/putin/uk.rss": b"B", "index.html": b"<html>"}
    report = write_outputs(out, files)
    assert sorted(report.written) == sorted(files)
    assert (report.unchanged, report.removed) == (0, ())
    written = folder_files(out)
    assert json.loads(written.pop(MANIFEST)) == {
        "files": sorted(files), "fingerprints": {}, "stamp": "", "tags": {}, "listings": {},
        "timeline": {"id": "", "position": 0}}
    assert written == files


def test_kept_files_stay_and_the_old_manifest_format_is_read(tmp_path: Path) -> None:
    out = tmp_path / "feeds"
    out.mkdir()
    (out / "all.atom").write_bytes(b"A")
    (out / "old.atom").write_bytes(b"O")
    (out / MANIFEST).write_text(json.dumps(["all.atom", "old.atom"]))  # before fingerprints
    assert read_manifest(out) == Manifest(frozenset({"all.atom", "old.atom"}))
    report = write_outputs(out, {"index.html": b"I"}, kept=["all.atom"],
                           record=Manifest(fingerprints={"all": "f1"}, listings={"all": (3, 1)},
                                           timeline="t", position=7))
    assert (report.written, report.unchanged, report.removed) == (("index.html",), 1,
                                                                  ("old.atom",))
    assert (out / "all.atom").read_bytes() == b"A"
    assert read_manifest(out) == Manifest(frozenset({"all.atom", "index.html"}), {"all": "f1"},
                                          listings={"all": (3, 1)}, timeline="t", position=7)


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    runs: list[dict[str, bytes]] = [
        {"all.atom": b"1", "tag/a.atom": b"1", "tag/a/en.atom": b"1"},
        {"all.atom": b"2", "tag/a.atom": b"1", "tag/b/en.atom": b"2"},
        {"all.atom": b"3"},
    ]
    for files in runs:
        write_outputs(tmp_path, files)
        assert set(folder_files(tmp_path)) == {*files, MANIFEST}


def test_unchanged_files_keep_their_mtime(tmp_path: Path) -> None:
    files = {"all.atom": b"same", "lang/uk.json": b"{}", "index.html": b"page"}
    write_outputs(tmp_path, files)
    age(tmp_path)
    report = write_outputs(tmp_path, files | {"index.html": b"new page"})
    assert report.written == ("index.html",)
    assert report.unchanged == 2
    after = mtimes(tmp_path)
    assert after["all.atom"] == after["lang/uk.json"] == after[MANIFEST] == OLD
    assert after["index.html"] != OLD
    assert (tmp_path / "index.html").read_bytes() == b"new page"


def test_changed_file_is_replaced_not_rewritten_in_place(tmp_path: Path) -> None:
    write_outputs(tmp_path, {"all.atom": b"old bytes"})
    with (tmp_path / "all.atom").open("rb") as reader:  # a reader mid-download
        write_outputs(tmp_path, {"all.atom": b"new"})
        assert reader.read() == b"old bytes"
    assert (tmp_path / "all.atom").read_bytes() == b"new"


def test_failed_write_keeps_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_outputs(tmp_path, {"all.atom": b"old"})

    def disk_full(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("refeed.publish.os.replace", disk_full)
    with pytest.raises(PublishError) as raised:
        write_outputs(tmp_path, {"all.atom": b"new", "tag/x.atom": b"x"})
    assert "No space left on device" in str(raised.value)
    assert set(folder_files(tmp_path)) == {"all.atom", MANIFEST}
    assert (tmp_path / "all.atom").read_bytes() == b"old"


def test_removes_outputs_that_disappeared_and_their_empty_folders(tmp_path: Path) -> None:
    write_outputs(tmp_path, {
        "all.atom": b"a", "lang/uk.atom": b"u", "tag/putin.atom": b"p",
        "tag/putin/en.atom": b"e", "tag/putin/uk.atom": b"u", "tag/talks/en.atom": b"t",
    })
    report = write_outputs(tmp_path, {"all.atom": b"a", "tag/putin.atom": b"p"})
    assert report.removed == ("lang/uk.atom", "tag/putin/en.atom", "tag/putin/uk.atom",
                              "tag/talks/en.atom")
    assert set(folder_files(tmp_path)) == {"all.atom", "tag/putin.atom", MANIFEST}
    assert folder_dirs(tmp_path) == {"tag"}
    write_outputs(tmp_path, {})
    assert set(folder_files(tmp_path)) == {MANIFEST}
    assert folder_dirs(tmp_path) == set()
    assert tmp_path.is_dir()


def test_other_files_in_the_folder_are_never_touched(tmp_path: Path) -> None:
    foreign = {
        "notes.txt": b"mine", ".htaccess": b"Deny", "old.atom": b"not refeed's",
        "tag/custom.atom": b"hand made", "tag/putin/README": b"keep me", "img/logo.png": b"PNG",
    }
    for relative, data in foreign.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(data)
    age(tmp_path)
    write_outputs(tmp_path, {"all.atom": b"1", "tag/putin.atom": b"1", "tag/putin/en.atom": b"1"})
    write_outputs(tmp_path, {"all.atom": b"2"})
    write_outputs(tmp_path, {})
    remaining = folder_files(tmp_path)
    assert json.loads(remaining.pop(MANIFEST)) == {
        "files": [], "fingerprints": {}, "stamp": "", "tags": {}, "listings": {},
        "timeline": {"id": "", "position": 0}}
    assert remaining == foreign
    assert {path: mtime for path, mtime in mtimes(tmp_path).items() if path in foreign} == (
        dict.fromkeys(foreign, OLD))


@pytest.mark.parametrize("unsafe", UNSAFE_PATHS)
def test_unsafe_paths_are_refused_before_anything_is_written(tmp_path: Path,
                                                             unsafe: str) -> None:
    out = tmp_path / "a" / "feeds"
    write_outputs(out, {"all.atom": b"old"})
    before = folder_files(tmp_path)
    with pytest.raises(ValueError, match="unsafe output path"):
        write_outputs(out, {"all.atom": b"new", unsafe: b"evil"})
    assert folder_files(tmp_path) == before
    assert not (tmp_path / "x.atom").exists()
    assert not Path("/abs.atom").exists()


def test_a_tampered_manifest_cannot_delete_outside_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "feeds"
    out.mkdir()
    victims = [tmp_path / "victim.atom", out / "Upper.atom"]
    for victim in victims:
        victim.write_bytes(b"precious")
    names = ["../victim.atom", str(tmp_path / "victim.atom"), "Upper.atom", "x/../../victim.atom"]
    (out / MANIFEST).write_text(json.dumps(names), encoding="utf-8")
    assert write_outputs(out, {"all.atom": b"1"}).removed == ()
    assert all(victim.read_bytes() == b"precious" for victim in victims)


@pytest.mark.parametrize("manifest", [b"", b"{not json", b"\xff\xfe\x00", b'["a.atom", 3, null]',
                                      b'{"all.atom": 1}', b'"text"'])
def test_a_damaged_manifest_is_not_fatal(tmp_path: Path, manifest: bytes) -> None:
    (tmp_path / MANIFEST).write_bytes(manifest)
    report = write_outputs(tmp_path, {"all.atom": b"1"})
    assert report.written == ("all.atom",)
    assert json.loads((tmp_path / MANIFEST).read_bytes())["files"] == ["all.atom"]


@pytest.mark.parametrize("manifest", [b"null", b"42"])
def test_a_non_list_manifest_is_not_fatal(tmp_path: Path, manifest: bytes) -> None:
    (tmp_path / MANIFEST).write_bytes(manifest)
    assert write_outputs(tmp_path, {"all.atom": b"1"}).written == ("all.atom",)


# --- build_site ---------------------------------------------------------------------------


def publishing_settings(**publish: Any) -> Settings:
    """Two languages, two configured tags and a named feed; ``publish`` overrides keys."""
    return site_settings(
        tags={"putin": ["Путін", "Путин"], "negotiations": {"aliases": ["переговори"]}},
        publish={"tag_min_entries": 2, "feeds": [{"id": "talks-en", "tags": ["negotiations"],
                                                  "languages": ["en"]}]} | publish,
    )


def site_timeline() -> list[Entry]:
    """A dozen entries over two sources, three languages and a frequent feed tag."""
    specs = [("a", "en", ("negotiations",)), ("b", "uk", ("putin", "negotiations")),
             ("a", "uk", ("Economy",)), ("b", "en", ("Economy", "putin")), ("a", None, ())]
    return [
        make_entry(source_id=source, key=f"{source}-{i}", guid=f"{source}-{i}",
                   title=f"Story {i}", language=language, tags=tags,
                   link=f"https://{source}.example/{i}",
                   published=NOON - timedelta(hours=i), updated=NOON - timedelta(hours=i // 2))
        for i, (source, language, tags) in enumerate(specs * 3)
    ]


@pytest.mark.parametrize("formats", [["atom", "rss", "json"], ["atom"], ["json", "rss"]])
def test_build_site_produces_every_output_in_every_format(formats: list[str]) -> None:
    config = publishing_settings(formats=formats)
    timeline = site_timeline()
    files = build_site(config, timeline)
    outputs = define_outputs(config, tag_usage(timeline))
    assert {"tag/economy", "tag/economy/uk", "talks-en"} <= {o.path for o in outputs}
    assert set(files) == {"index.html", "outputs.opml"} | {
        f"{output.path}.{fmt}" for output in outputs for fmt in formats}


def test_every_built_file_parses() -> None:
    files = build_site(publishing_settings(), site_timeline())
    for name, data in files.items():
        if name.endswith((".atom", ".rss")):
            etree.fromstring(data, SAFE_PARSER)
            assert not feedparser.parse(data).bozo, name
        elif name.endswith(".json"):
            assert json.loads(data)["version"] == "https://jsonfeed.org/version/1.1"
        elif name.endswith(".opml"):
            assert etree.fromstring(data, SAFE_PARSER).tag == "opml"
        else:
            assert lxml.html.fromstring(data).findtext(".//title") == "Site"


def test_build_site_selects_per_output() -> None:
    files = build_site(publishing_settings(), site_timeline())

    def ids(name: str) -> list[str]:
        return [item["id"] for item in json.loads(files[name])["items"]]

    timeline = site_timeline()
    assert ids("all.json") == [entry_uid(e) for e in timeline]
    assert ids("lang/uk.json") == [entry_uid(e) for e in timeline if e.language == "uk"]
    assert ids("tag/putin/en.json") == [
        entry_uid(e) for e in timeline if e.language == "en" and "putin" in e.tags]
    assert ids("talks-en.json") == [
        entry_uid(e) for e in timeline if e.language == "en" and "negotiations" in e.tags]
    assert set(ids("tag/economy.json")) <= set(ids("all.json"))


def test_rebuilding_gives_identical_bytes_whatever_the_timeline_order() -> None:
    first = build_site(publishing_settings(), site_timeline())
    assert build_site(publishing_settings(), site_timeline()) == first
    shuffled = site_timeline()
    random.Random(7).shuffle(shuffled)
    assert build_site(publishing_settings(), shuffled) == first


def test_publishing_an_unchanged_site_writes_nothing(tmp_path: Path) -> None:
    files = build_site(publishing_settings(), site_timeline())
    assert len(write_outputs(tmp_path, files).written) == len(files)
    age(tmp_path)
    report = write_outputs(tmp_path, build_site(publishing_settings(), site_timeline()))
    assert (report.written, report.unchanged, report.removed) == ((), len(files), ())
    assert set(mtimes(tmp_path).values()) == {OLD}


def test_dropping_a_tag_from_the_config_removes_its_outputs(tmp_path: Path) -> None:
    write_outputs(tmp_path, build_site(publishing_settings(), site_timeline()))
    smaller = site_settings(tags={"putin": []}, publish={"tag_min_entries": 99})
    report = write_outputs(tmp_path, build_site(smaller, site_timeline()))
    assert "tag/negotiations/uk.atom" in report.removed
    assert "talks-en.rss" in report.removed
    assert not (tmp_path / "tag" / "negotiations").exists()
    assert not (tmp_path / "tag" / "economy").exists()
    assert (tmp_path / "tag" / "putin" / "uk.json").is_file()


@pytest.mark.parametrize(("field", "line"), [("site.title", 1), ("sources[0].title", 3),
                                           ("publish.feeds[0].title", 6)])
def test_control_characters_in_config_titles_are_refused_at_their_line(
    tmp_path: Path, field: str, line: int
) -> None:
    # a title that feeds cannot carry (XML 1.0 has no U+0007) never reaches publishing
    site = 'site: {title: "%s"}\n'
    source = 'sources:\n  - {id: a, url: "https://a.example/f", title: "%s"}\n'
    feeds = 'publish:\n  feeds:\n    - {id: x, title: "%s"}\n'
    parts = {"site.title": site, "sources[0].title": source, "publish.feeds[0].title": feeds}
    text = "".join(part % ("bell\\x07" if name == field else "ok")
                   for name, part in parts.items())
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_settings(tmp_path / "config.yaml")
    [problem] = refused.value.problems
    assert (problem.field, problem.line) == (field, line)
    assert "control characters" in problem.message


def test_a_published_feed_tag_output_stays_while_the_tag_is_in_use() -> None:
    config = site_settings(publish={"tag_min_entries": 3})
    timeline = [make_entry(key=f"k{i}", tags=("Economy",)) for i in range(3)]
    site = select_site(config, timeline)
    assert "tag/economy" in [output.path for output, _ in site]
    registry = tag_registry(output for output, _ in site)
    pruned = timeline[:2]  # one entry pruned by retention
    assert "tag/economy.atom" in build_site(config, pruned, registry)
    assert "tag/economy.atom" not in build_site(config, pruned)


def test_the_manifest_keeps_the_tag_slugs_and_drops_unsafe_ones(tmp_path: Path) -> None:
    write_outputs(tmp_path, {"all.atom": b"<feed/>"},
                  record=Manifest(tags={"belarus": "беларусь", "../x": "x", "ok-2": "ok"}))
    assert read_manifest(tmp_path).tags == {"belarus": "беларусь", "ok-2": "ok"}


def test_a_crash_s_temporary_files_are_swept_and_nothing_else(tmp_path: Path) -> None:
    """A kill during a write leaves ``.all.atom.XXXXXXXX``; the next publish removes such
    files once they are stale, and never a concurrent writer's fresh one or a user's."""
    (tmp_path / "tag").mkdir()
    stale = [tmp_path / ".all.atom.ab12_x9z", tmp_path / "tag" / ".putin.rss.q1w2e3r4",
             tmp_path / "..refeed-manifest.json.zz_00a1b"]
    fresh = tmp_path / ".all.json.k3j4h5g6"
    mine = [tmp_path / ".gitkeep", tmp_path / ".all.atom.notmine", tmp_path / "notes.txt"]
    for path in [*stale, fresh, *mine]:
        path.write_bytes(b"<feed>half")
    old = time.time() - STALE_TEMPORARY_SECONDS - 60
    for path in [*stale, *mine]:
        os.utime(path, (old, old))
    write_outputs(tmp_path, {"all.atom": b"<feed/>"})
    assert [path.exists() for path in stale] == [False, False, False]
    assert fresh.exists()
    assert all(path.exists() for path in mine)


def test_an_unwritable_folder_is_a_publish_error_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "feeds"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(PublishError, match="cannot write the outputs") as raised:
        write_outputs(blocker, {"all.atom": b"<feed/>"})
    assert str(blocker) in str(raised.value)
