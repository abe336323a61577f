"""OPML import/export of sources, and consistent database backups."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from refeed.cli import cli
from refeed.config import load_settings
from tests.corpus import CORPUS

CONFIG = """\
# my sources, hand-written
site: {title: "Test"}
sources:
  - id: up-uk   # the Ukrainian edition
    url: https://up.example/rss/
"""

OPML = b"""<?xml version="1.0"?>
<opml version="2.0"><head><title>mine</title></head><body>
  <outline text="News">
    <outline type="rss" text="Kyiv Wire" xmlUrl="https://wire.example/feed.xml"/>
    <outline type="rss" title="\xd0\x9d\xd0\xbe\xd0\xb2\xd0\xb8\xd0\xbd\xd0\xb8" text="x"
             xmlUrl="https://novyny.example/rss"/>
  </outline>
  <outline type="rss" text="again" xmlUrl="https://up.example/rss/"/>
</body></opml>
"""


def invoke(config: Path, *args: str) -> tuple[int, str]:
    """Run refeed in-process; exit code and output."""
    result = CliRunner().invoke(cli, ["-c", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.output + result.stderr


def test_import_opml_adds_new_feeds_and_keeps_comments(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    opml = tmp_path / "subs.opml"
    opml.write_bytes(OPML)
    code, output = invoke(config, "import-opml", str(opml))
    assert (code, output) == (0, "2 sources added: kyiv-wire, novini\n")
    text = config.read_text(encoding="utf-8")
    assert "# my sources, hand-written" in text
    assert "# the Ukrainian edition" in text
    sources = load_settings(config).sources
    assert [(s.id, s.url) for s in sources] == [
        ("up-uk", "https://up.example/rss/"),
        ("kyiv-wire", "https://wire.example/feed.xml"),
        ("novini", "https://novyny.example/rss"),
    ]
    assert invoke(config, "import-opml", str(opml)) == (0, "0 sources added\n")


def test_import_refuses_what_would_break_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    opml = tmp_path / "bad.opml"
    opml.write_bytes(b'<opml><body><outline xmlUrl="ftp://x.example/f"/></body></opml>')
    code, output = invoke(config, "import-opml", str(opml))
    assert code == 2
    assert "unsupported URL scheme" in output
    assert config.read_text(encoding="utf-8") == CONFIG


def test_export_opml_round_trips(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    code, output = invoke(config, "export-opml")
    assert code == 0
    assert 'xmlUrl="https://up.example/rss/"' in output
    other = tmp_path / "other.yaml"
    other.write_text("sources: []\n", encoding="utf-8")
    exported = tmp_path / "out.opml"
    exported.write_text(output, encoding="utf-8")
    assert invoke(other, "import-opml", str(exported))[0] == 0
    assert [s.url for s in load_settings(other).sources] == ["https://up.example/rss/"]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")
def test_real_opml_files_import(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("sources: []\n", encoding="utf-8")
    files = sorted((CORPUS / "real").glob("*/*.opml"))
    assert files
    for opml in files:
        code, output = invoke(config, "import-opml", str(opml))
        assert code == 0, output
    sources = load_settings(config).sources
    assert len(sources) > 200
    assert len({source.id for source in sources}) == len(sources)


def test_backup_is_a_consistent_copy(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    assert invoke(config, "status")[0] == 0  # creates the database
    target = tmp_path / "copy.db"
    assert invoke(config, "backup", str(target)) == (0, f"backup written to {target}\n")
    count = "SELECT count(*) FROM _sqlite_migrations"
    with sqlite3.connect(tmp_path / "refeed.db") as original:
        applied = original.execute(count).fetchone()
    with sqlite3.connect(target) as db:
        assert db.execute(count).fetchone() == applied
        assert applied[0] >= 5
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    code, output = invoke(config, "backup", str(target))
    assert code == 1
    assert "already exists" in output
