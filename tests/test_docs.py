"""The documentation is tested like code: every command and option is in the README, the
README's configuration block is the defaults and parses, the documented ``--json``
fields are the ones printed, and every test the docs cite exists."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from refeed.cli import cli
from refeed.config import Settings, load_settings
from refeed.configdoc import field_docs
from refeed.dedup import DedupPolicy
from refeed.model import FetchResult, ProcessedFeed
from refeed.storage import Store
from tests.factories import make_entry, write_config

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = {path.name: path.read_text(encoding="utf-8")
        for path in (ROOT / "README.md", ROOT / "SECURITY.md", ROOT / "docs/architecture.md")}
MINIMAL = {"sources": [{"id": "a", "url": "https://a.example/feed"}]}
EXAMPLES = {("sources",), ("tags",), ("publish", "feeds")}  # shown by example, not default


def command_row(name: str) -> str:
    """The README's table row of ``refeed NAME``."""
    rows = [line for line in README.splitlines()
            if re.match(rf"\| `refeed {re.escape(name)}[ `]", line)
            or re.match(rf"\| `refeed [^|]*/ `refeed {re.escape(name)}[ `]", line)]
    assert rows, f"refeed {name} is not in the README's command table"
    return rows[0]


def leaf_commands(group: click.Group = cli, prefix: str = "") -> dict[str, click.Command]:
    """Every command, by its full name (``dedup explain``), groups opened."""
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found |= leaf_commands(command, f"{prefix}{name} ")
        else:
            found[f"{prefix}{name}"] = command
    return found


@pytest.mark.parametrize("name", sorted(leaf_commands()))
def test_every_command_and_option_is_in_the_readme(name: str) -> None:
    row = command_row(name)
    command = leaf_commands()[name]
    options = [param for param in command.params if isinstance(param, click.Option)]
    for option in options:
        assert any(flag in row for flag in option.opts), f"{option.opts} of refeed {name}"
    # each argument is shown as a placeholder in capitals (ID…, PATH, FILE) after the name
    usage = re.search(rf"`refeed {re.escape(name)}([^`]*)`", row)
    shown = re.sub(r"\[--[^]]*\]|-n N", "", usage.group(1) if usage else "")  # options
    placeholders = re.findall(r"\b[A-Z]+\b", shown)
    arguments = [param for param in command.params if isinstance(param, click.Argument)]
    assert len(placeholders) == len(arguments), f"arguments of refeed {name}: {row}"


def test_the_global_options_are_in_the_readme() -> None:
    for param in cli.params:
        if isinstance(param, click.Option) and "--help" not in param.opts:
            assert any(flag in README for flag in param.opts), param.opts


def config_block() -> dict[str, Any]:
    """The YAML block of the README's configuration reference."""
    section = README.split("## Configuration", 1)[1]
    text = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    document: dict[str, Any] = YAML(typ="safe").load(text)
    return document


def without_examples(document: dict[str, Any], path: tuple[str, ...] = ()) -> dict[str, Any]:
    return {key: without_examples(value, (*path, key)) if isinstance(value, dict) else value
            for key, value in document.items() if (*path, key) not in EXAMPLES}


def test_the_readme_configuration_parses(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, config_block()))
    assert settings.sources


def test_the_readme_configuration_shows_the_defaults() -> None:
    shown = Settings.model_validate(without_examples(config_block()) | MINIMAL)
    assert shown == Settings.model_validate(MINIMAL)


def field_paths(model: type[Any], prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every field of a settings model, as a path of keys."""
    paths: set[tuple[str, ...]] = set()
    for name, info in model.model_fields.items():
        key = info.alias or name
        paths.add((*prefix, key))
        annotation = info.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields") \
                and (*prefix, key) not in EXAMPLES:
            paths |= field_paths(annotation, (*prefix, key))
    return paths


def block_paths(document: dict[str, Any], prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    paths: set[tuple[str, ...]] = set()
    for key, value in document.items():
        paths.add((*prefix, key))
        if isinstance(value, dict) and (*prefix, key) not in EXAMPLES:
            paths |= block_paths(value, (*prefix, key))
    return paths


def test_every_setting_is_in_the_readme_configuration() -> None:
    assert field_paths(Settings) <= block_paths(config_block())


def test_every_config_field_has_a_description_refeed_check_explains() -> None:
    for doc in field_docs():
        assert doc.description, f"{doc.path} has no docstring in refeed/config.py"
        explained = CliRunner().invoke(cli, ["check", "--explain", doc.path])
        assert explained.exit_code == 0, explained.output
        assert explained.output.startswith(f"{doc.path}: {doc.description}\n")


def test_an_explanation_gives_the_type_bounds_and_default() -> None:
    explained = CliRunner().invoke(cli, ["check", "--explain", "polling.per_host"]).output
    assert explained.splitlines()[1:] == ["  type: integer", "  at least 1", "  at most 100",
                                          "  default: 4"]
    assert "default: 10MB" in CliRunner().invoke(
        cli, ["check", "--explain", "polling.max_bytes"]).output
    assert "default: 30s" in CliRunner().invoke(
        cli, ["check", "--explain", "publish.max_delay"]).output


def test_explaining_an_unknown_field_suggests_the_closest() -> None:
    explained = CliRunner().invoke(cli, ["check", "--explain", "poling.per_host"])
    assert explained.exit_code == 2
    assert "did you mean polling.per_host" in explained.output


def documented_fields(command: str) -> set[str]:
    """The JSON fields the README's command table lists for ``command``."""
    row = command_row(command)
    listed = row.split("`--json`", 1)[1]
    return set(re.findall(r"`([a-z_]+)`", listed))


def run_json(tmp_path: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["-c", str(tmp_path / "config.yaml"), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_status_json_prints_the_documented_fields(tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL)
    [status] = json.loads(run_json(tmp_path, "status", "--json"))
    assert set(status) == documented_fields("status")


def test_entries_json_prints_the_documented_fields(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, MINIMAL))
    store = Store.open(settings.database)
    store.sync_sources(settings.sources)
    now = datetime(2026, 12, 7, tzinfo=UTC)
    store.record_poll(FetchResult(source_id="a", url="https://a.example/feed"),
                      ProcessedFeed(entries=(make_entry(),)), now=now,
                      next_due=now + timedelta(hours=1), policy=DedupPolicy())
    store.close()
    entry = json.loads(run_json(tmp_path, "entries", "--json"))
    assert set(entry) == documented_fields("entries")


def cited_tests() -> list[str]:
    """Every ``tests/test_x.py`` or ``tests/test_x.py::test_y`` the docs name."""
    found = set()
    for text in DOCS.values():
        found |= set(re.findall(r"tests/test_\w+\.py(?:::test_\w+)?", text))
    return sorted(found)


@pytest.mark.parametrize("cited", cited_tests())
def test_every_test_the_docs_cite_exists(cited: str) -> None:
    path, _, name = cited.partition("::")
    module = ROOT / path
    assert module.is_file(), cited
    if name:
        assert re.search(rf"^(async )?def {name}\(", module.read_text(), re.M), cited
