"""Shared fixtures: a real feed server on 127.0.0.1 and a worker pool (what tests build
their cases from is in tests/factories.py)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest

from refeed.pipeline import make_worker_pool
from tests.feedserver import FeedServer


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
