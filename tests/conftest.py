"""Shared fixtures: a real feed server on 127.0.0.1, config files, a worker pool."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from refeed.pipeline import make_worker_pool
from tests.feedserver import FeedServer

DATA = Path(__file__).parent / "data"
CORPUS = Path(__file__).parent.parent.parent / "shared" / "corpus"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: started last, one of them would run alone at the end while
    the other workers idle."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A fresh HTTP server on 127.0.0.1 for one test."""
    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def worker_pool() -> Iterator[ProcessPoolExecutor]:
    """The production process pool, shared by the tests that poll in-process."""
    pool = make_worker_pool()
    yield pool
    pool.shutdown()


def write_config(directory: Path, config: dict[str, Any]) -> Path:
    """Write ``config`` as ``config.yaml`` in ``directory`` and return its path."""
    path = directory / "config.yaml"
    with path.open("w", encoding="utf-8") as handle:
        YAML().dump(config, handle)
    return path


def read_data(name: str) -> bytes:
    """The bytes of a fixture file in tests/data."""
    return (DATA / name).read_bytes()
