"""Language detection on the labelled evaluation set: accuracy, confusion, cost.

Prints, for lingua's high- and low-accuracy modes, the accuracy per language and kind
(headline / summary, and the hard cases), the confusion matrix, the detectors' load time
and memory, and texts per second. Detection only: no declared language is given, so this
is the detector's own skill (in refeed the declared language also helps on unsure text).

    .venv/bin/python bench/language_accuracy.py
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter
from pathlib import Path

from refeed.config import DEFAULT_NEIGHBOURS
from refeed.language import LanguagePolicy, decide_language, gate_detector, site_detector

EVAL_SET = Path(__file__).parent.parent / "tests" / "data" / "language-eval.tsv"
SITE = ("uk", "ru", "en")


def read_eval_set(path: Path) -> list[dict[str, str]]:
    """The rows of the evaluation set (language, kind, hard, text)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def resident_mib() -> float:
    """This process's resident memory now, in MiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def evaluate(rows: list[dict[str, str]], low_accuracy: bool) -> None:
    """Run one mode over ``rows`` and print its numbers."""
    policy = LanguagePolicy(SITE, low_accuracy=low_accuracy, others=DEFAULT_NEIGHBOURS)
    before, started = resident_mib(), time.perf_counter()
    site_detector(SITE, low_accuracy)
    gate_detector(SITE + DEFAULT_NEIGHBOURS)
    loaded = time.perf_counter() - started
    print(f"\n== lingua {'low' if low_accuracy else 'high'}-accuracy mode ==")
    print(f"detectors loaded in {loaded:.2f} s, +{resident_mib() - before:.0f} MiB resident")
    started = time.perf_counter()
    guesses = [decide_language(row["text"], [], policy).language for row in rows]
    elapsed = time.perf_counter() - started
    print(f"{len(rows)} texts in {elapsed:.2f} s: {len(rows) / elapsed:,.0f} texts/s")
    print(f"{'subset':<22}{'n':>5}{'accuracy':>10}")
    for language in SITE:
        for kind in ("headline", "summary"):
            for hard in (None, "1"):
                picked = [
                    (row, guess) for row, guess in zip(rows, guesses, strict=True)
                    if row["language"] == language and row["kind"] == kind
                    and (hard is None or row["hard"] == hard)
                ]
                if picked:
                    right = sum(row["language"] == guess for row, guess in picked)
                    label = f"{language} {kind}{' (hard)' if hard else ''}"
                    print(f"{label:<22}{len(picked):>5}{right / len(picked):>10.1%}")
    confusion = Counter((row["language"], guess) for row, guess in zip(rows, guesses, strict=True))
    columns = [*SITE, "other"]
    print("confusion (rows: truth, columns: decided)")
    print(" " * 6 + "".join(f"{column:>7}" for column in columns))
    for truth in SITE:
        other = sum(n for (t, g), n in confusion.items() if t == truth and g not in SITE)
        cells = [confusion[(truth, guess)] for guess in SITE] + [other]
        print(f"{truth:<6}" + "".join(f"{cell:>7}" for cell in cells))
    for row, guess in zip(rows, guesses, strict=True):
        if guess != row["language"]:
            print(f"  wrong: {row['language']}->{guess}  {row['kind']}: {row['text']}")


def main() -> None:
    """Parse options and run both modes (or one)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["high", "low", "both"], default="both")
    arguments = parser.parse_args()
    rows = read_eval_set(EVAL_SET)
    counts = Counter(row["language"] for row in rows)
    print(f"evaluation set {EVAL_SET.name}: {len(rows)} texts, {dict(counts)}")
    if arguments.mode in ("high", "both"):
        evaluate(rows, low_accuracy=False)
    if arguments.mode in ("low", "both"):
        evaluate(rows, low_accuracy=True)


if __name__ == "__main__":
    main()
