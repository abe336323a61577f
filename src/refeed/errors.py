"""The one exception tree of refeed.

::

    RefeedError
     ├── ConfigError        a config file that cannot be used (every problem, with line)
     ├── FetchError         a source could not be retrieved (url)
     │    └── HTTPStatusError  the server answered 4xx/5xx (status)
     ├── ParseError         retrieved bytes are not a usable feed (url)
     ├── StoreError         the database cannot be opened or written
     └── PublishError       the output folder cannot be written (full disk, read-only)

A 304 Not Modified is not an error: it is ``FetchResult.not_modified``.
``str()`` of any of them reads ``message: subject: Cause: cause``, so a one-line log or
``refeed status`` says what failed, on what, and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


class RefeedError(Exception):
    """Base class of every error refeed raises on purpose."""

    def __init__(self, message: str, subject: str | None = None) -> None:
        super().__init__(message, subject)
        self.message = message
        self.subject = subject

    def __str__(self) -> str:
        parts = [self.message]
        if self.subject:
            parts.append(self.subject)
        cause = self.__cause__
        if cause is not None:
            parts.append(f"{type(cause).__name__}: {cause}")
        return ": ".join(parts)


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a config file, located by line and field path."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        location = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{location}: {self.field}: {self.message}" if self.field else (
            f"{location}: {self.message}"
        )


class ConfigError(RefeedError):
    """The config cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        super().__init__("invalid config", problems[0].file if problems else None)
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


class FetchError(RefeedError):
    """A source could not be retrieved."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message, url)
        self.url = url


class HTTPStatusError(FetchError):
    """The server answered with an HTTP error status (4xx/5xx)."""

    def __init__(
        self, status: int, reason: str | None, url: str, hints: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"HTTP {status} {reason or ''}".strip(), url)
        self.status = status
        self.hints = dict(hints or {})


class ParseError(RefeedError):
    """Retrieved bytes are not a feed refeed can use."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message, url)
        self.url = url


class StoreError(RefeedError):
    """The timeline database cannot be opened, migrated or written."""


class PublishError(RefeedError):
    """The output folder cannot be written: the timeline is intact, the outputs stale."""
