"""The daemon's malloc settings reach the processes it starts; an admin's own win."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SHOW = ("import os; from refeed.memory import tune_malloc; tune_malloc();"
        " print(os.environ['MALLOC_ARENA_MAX'], os.environ['MALLOC_MMAP_THRESHOLD_'])")


@pytest.mark.parametrize(("given", "seen"), [
    ({}, "2 131072"),
    ({"MALLOC_ARENA_MAX": "4"}, "4 131072"),
    ({"MALLOC_MMAP_THRESHOLD_": "65536"}, "2 65536"),
])
def test_pool_processes_inherit_the_malloc_settings(given: dict[str, str], seen: str) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MALLOC_")}
    shown = subprocess.run([sys.executable, "-c", SHOW], env=env | given, capture_output=True,
                           text=True, check=True, timeout=60)
    assert shown.stdout.split() == seen.split()
