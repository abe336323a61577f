"""Duplicate detection quality on the labelled pairs: floors a little below what
``bench/dedup_quality.py`` measures (precision 1.000, recall 0.987 at threshold 0.7)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from refeed.dedup import DedupPolicy

BENCH = Path(__file__).parent.parent / "bench" / "dedup_quality.py"


def load_bench() -> ModuleType:
    """The benchmark module: one place that turns pairs into verdicts."""
    spec = importlib.util.spec_from_file_location("dedup_quality", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def verdicts() -> object:
    """Verdicts of the default policy over every labelled pair."""
    bench = load_bench()
    pairs = bench.read_pairs()
    assert sum(pair["label"] == "duplicate" for pair in pairs) >= 200
    assert sum(pair["label"] == "different" for pair in pairs) >= 200
    return bench.judge(pairs, DedupPolicy())


def test_precision_and_recall_floors(verdicts: object) -> None:
    precision, recall = load_bench().precision_recall(verdicts)
    assert precision >= 0.98
    assert recall >= 0.95


def test_translations_are_never_merged(verdicts: object) -> None:
    counts = dict(verdicts)  # type: ignore[call-overload]
    assert counts.get(("different", "translation", True), 0) == 0
    assert counts[("different", "translation", False)] >= 30
