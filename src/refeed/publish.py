"""Write rendered outputs into the output folder: atomically, and only what changed.

Each file is written to a temporary file in its final folder, flushed to disk and moved
into place with ``os.replace``, so a reader (or the server) sees the old bytes or the new
ones, never half a file, even after a crash or a full disk. Files whose bytes did not
change are left alone (their mtime, and so their Last-Modified, stays put). A manifest
remembers what refeed wrote, so outputs that no longer exist in the config are removed —
and nothing else in the folder is ever touched.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MANIFEST = ".refeed-manifest.json"
_SAFE_PATH = re.compile(r"^[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)*\.[a-z]+$")


@dataclass(frozen=True)
class PublishReport:
    """What one publish run did to the output folder."""

    written: tuple[str, ...]
    unchanged: int
    removed: tuple[str, ...]


def write_outputs(output_dir: Path, files: Mapping[str, bytes]) -> PublishReport:
    """Make ``output_dir`` hold exactly ``files`` (relative path → bytes) among the files
    refeed manages; returns what was written, left alone and removed."""
    for relative in files:
        if not _SAFE_PATH.fullmatch(relative):
            raise ValueError(f"unsafe output path {relative!r}")
    output_dir.mkdir(parents=True, exist_ok=True)
    written = tuple(
        relative for relative, data in files.items()
        if write_if_changed(output_dir / relative, data)
    )
    previous = published_paths(output_dir)
    removed = tuple(sorted(previous - set(files)))
    for relative in removed:
        _remove(output_dir, relative)
    write_if_changed(output_dir / MANIFEST, json.dumps(sorted(files), indent=1).encode())
    return PublishReport(written, len(files) - len(written), removed)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Atomically replace ``path`` with ``data`` unless it already holds exactly that."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def published_paths(output_dir: Path) -> set[str]:
    """The relative paths the last publish wrote (its manifest); empty when unknown."""
    try:
        names = json.loads((output_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    if not isinstance(names, list):
        return set()
    return {name for name in names if isinstance(name, str) and _SAFE_PATH.fullmatch(name)}


def _remove(output_dir: Path, relative: str) -> None:
    """Delete one stale output and the folders it leaves empty (never ``output_dir``)."""
    path = output_dir / relative
    path.unlink(missing_ok=True)
    folder = path.parent
    while folder != output_dir and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
