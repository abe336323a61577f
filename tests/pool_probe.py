"""What a test runs inside a pool worker to look at the worker itself. Kept apart from
the test modules: unpickling a function imports its module in the worker, and a test
module's imports (the pipeline imports numpy through sqlite-utils) would change what the
worker has loaded."""

from __future__ import annotations

import sys


def modules_loaded(names: tuple[str, ...]) -> list[bool]:
    """Which of ``names`` the worker has imported."""
    return [name in sys.modules for name in names]
