"""The config's documentation, read from the settings models themselves: every field's
path (``polling.per_host``, ``sources.url``), description, type, bounds and default.
``refeed check --explain FIELD`` prints it; tests hold the README to it."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import BaseModel, ByteSize
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from refeed.config import Settings

_BOUNDS = ((annotated_types.Ge, "ge", "at least"), (annotated_types.Gt, "gt", "more than"),
           (annotated_types.Le, "le", "at most"), (annotated_types.Lt, "lt", "less than"),
           (annotated_types.MinLen, "min_length", "length at least"),
           (annotated_types.MaxLen, "max_length", "length at most"))


@dataclass(frozen=True)
class FieldDoc:
    """What the docs say about one config field."""

    path: str
    description: str
    kind: str
    bounds: tuple[str, ...]
    default: str | None  # None: required, or a section (its fields have defaults)
    section: bool


def field_docs(model: type[BaseModel] = Settings, prefix: str = "") -> Iterator[FieldDoc]:
    """Every field of ``model`` and of the sections inside it, depth first."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        inner = _section_model(info.annotation)
        yield FieldDoc(path, info.description or "", _kind(info.annotation),
                       _bounds(info), None if inner else _default(info), inner is not None)
        if inner is not None:
            yield from field_docs(inner, f"{path}.")


def explain(path: str) -> str:
    """The explanation of the field at ``path``; a section lists its fields too. Raises
    ``KeyError`` (with the closest paths as its argument) for an unknown path."""
    docs = {doc.path: doc for doc in field_docs()}
    wanted = path.replace("[]", "").strip(".")
    if wanted not in docs:
        raise KeyError(difflib.get_close_matches(wanted, docs, n=3, cutoff=0.5))
    doc = docs[wanted]
    kind = "section" if doc.kind == "items with the fields below" else doc.kind
    lines = [f"{doc.path}: {doc.description}", f"  type: {kind}"]
    lines += [f"  {bound}" for bound in doc.bounds]
    if doc.section:
        children = [child for child in docs.values()
                    if child.path.startswith(f"{doc.path}.") and child.path.count(".")
                    == doc.path.count(".") + 1]
        lines += [f"  {child.path}: {child.description}" for child in children]
    else:
        lines.append(f"  default: {doc.default}" if doc.default is not None else "  required")
    return "\n".join(lines)


def _section_model(annotation: Any) -> type[BaseModel] | None:
    """The settings model a field holds (a section, a list of them, or a mapping to
    them), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _section_model(argument)
        if found is not None:
            return found
    return None


def _kind(annotation: Any) -> str:
    """A reader's name for a field's type."""
    origin = typing.get_origin(annotation)
    arguments = [a for a in typing.get_args(annotation) if a is not Ellipsis]
    if origin is typing.Annotated:
        return _kind(arguments[0])
    if origin in (types.UnionType, typing.Union):
        kinds = [_kind(a) for a in arguments if a is not type(None)]
        return " or ".join(kinds) + (" (optional)" if type(None) in arguments else "")
    if origin is tuple:
        return f"list of {_kind(arguments[0])}"
    if origin is dict:
        return f"mapping of {_kind(arguments[0])} to {_kind(arguments[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "items with the fields below"
    if origin is typing.Literal:
        return "one of " + ", ".join(str(a) for a in arguments)
    names = {str: "text", int: "integer", float: "number", bool: "true or false",
             timedelta: "duration (30s, 15m, 72h, 180d)", ByteSize: "size (10MB, 512KiB)",
             Path: "path (relative to the config file)"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _bounds(info: FieldInfo) -> tuple[str, ...]:
    found = []
    for item in [*info.metadata, *_annotated_metadata(info.annotation)]:
        for kind, attribute, words in _BOUNDS:
            if isinstance(item, kind):
                found.append(f"{words} {getattr(item, attribute)}")
    return tuple(dict.fromkeys(found))


def _annotated_metadata(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) is typing.Annotated:
        return list(getattr(annotation, "__metadata__", ()))
    return []


def _default(info: FieldInfo) -> str | None:
    value = info.get_default(call_default_factory=True)
    if value is PydanticUndefined:
        return None
    return _shown(value)


def _shown(value: Any) -> str:
    """A default as it is written in config.yaml."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, timedelta):
        return _duration(value)
    if isinstance(value, ByteSize):
        return _size(int(value))
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_shown(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{}" if not value else str(value)
    return str(value)


def _size(value: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if value % size == 0:
            return f"{value // size}{unit}"
    return str(value)


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
