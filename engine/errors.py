"""Configuration errors with positions, collected and reported all at once.

Every mistake an implementer can make in YAML ends up as one `ConfigError`
carrying the file, line and column where it was made and the dotted path of
the value in the merged configuration. Loading, validating and compiling a
tenant append to one `ErrorList`; nothing raises half-way, so one run of
`komunikator check` lists everything.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, order=True)
class Position:
    """A place in a YAML file. `line` and `column` count from 1."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{display_path(self.file)}:{self.line}:{self.column}"


def display_path(file: str) -> str:
    """Show a file relative to the working directory when it lies below it."""
    try:
        rel = os.path.relpath(file)
    except ValueError:  # another drive on Windows
        return file
    return file if rel.startswith("..") else rel


def dotted(path: tuple[str | int, ...]) -> str:
    """Render a configuration path as `categories.pothole.attributes[0]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True, order=True)
class ConfigError:
    """One mistake: where it is, which value, what is wrong."""

    position: Position | None
    path: tuple[str | int, ...]
    message: str

    def __str__(self) -> str:
        where = str(self.position) if self.position else "<configuration>"
        what = dotted(self.path)
        return f"{where}: {what}: {self.message}" if what else f"{where}: {self.message}"


@dataclass
class ErrorList:
    """Collects errors in the order found; sorted by position when reported."""

    errors: list[ConfigError] = field(default_factory=list)

    def add(self, position: Position | None, path: tuple[str | int, ...], message: str) -> None:
        """Record one error (exact duplicates are kept once)."""
        error = ConfigError(position, tuple(path), message)
        if error not in self.errors:
            self.errors.append(error)

    def extend(self, other: ErrorList) -> None:
        """Append all errors of another list."""
        for error in other.errors:
            if error not in self.errors:
                self.errors.append(error)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __len__(self) -> int:
        return len(self.errors)

    def __iter__(self) -> Iterator[ConfigError]:
        return iter(self.sorted())

    def sorted(self) -> list[ConfigError]:
        """Errors by file, line and column; errors without a position last."""
        return sorted(
            self.errors,
            key=lambda e: (e.position is None, e.position or Position("", 0, 0), e.path, e.message),
        )

    def render(self) -> str:
        """All errors, one per line, ready for a terminal."""
        return "\n".join(str(e) for e in self.sorted())


class ConfigInvalid(Exception):
    """Raised at the end of a pipeline stage when errors were collected."""

    def __init__(self, errors: ErrorList) -> None:
        self.errors = errors
        super().__init__(errors.render())


def relative_to_root(path: Path, root: Path) -> str:
    """A stable, readable file name for positions."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
