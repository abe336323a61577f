"""The peer in bench/perf.py: the ``reader`` library updating the farm's feeds.

Runs inside bench/.venv-reader (reader and its dependencies never touch the project's
venv). With ``--add`` it adds every URL of ``--urls`` to the database first (untimed);
then it times ``update_feeds_iter(scheduled=False, workers=W)`` — every feed, due or not —
and prints one JSON line: wall and CPU seconds of the update, peak RSS, feeds updated /
not modified / failed (by error), entries new / modified, entries stored in all.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections import Counter
from pathlib import Path

from reader import UpdatedFeed, make_reader


def cpu_seconds() -> float:
    """User + system CPU of this process (reader's worker threads included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    """Update every feed once and print the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--urls", type=Path, required=True, help="one feed URL per line")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--add", action="store_true", help="add the feeds first")
    args = parser.parse_args()
    reader = make_reader(str(args.db))
    if args.add:
        for url in args.urls.read_text(encoding="utf-8").split():
            reader.add_feed(url, exist_ok=True)
    cpu, started = cpu_seconds(), time.perf_counter()
    outcome: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for result in reader.update_feeds_iter(scheduled=False, workers=args.workers):
        value = result.value
        if isinstance(value, UpdatedFeed):
            outcome.update({"updated": 1, "new": value.new, "modified": value.modified})
        elif value is None:
            outcome["not_modified"] += 1
        else:
            cause = value.__cause__
            errors[type(value).__name__ + (f" ({type(cause).__name__})" if cause else "")] += 1
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    counts = reader.get_entry_counts()
    reader.close()
    print(json.dumps({
        "wall": wall, "cpu": cpu,
        "max_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "updated": outcome["updated"], "not_modified": outcome["not_modified"],
        "new": outcome["new"], "modified": outcome["modified"],
        "errors": dict(errors), "entries_total": counts.total,
    }))


if __name__ == "__main__":
    main()
