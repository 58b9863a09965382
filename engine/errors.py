"""Configuration errors with positions, collected and reported all at once.

Every mistake an implementer can make in YAML ends up as one `ConfigError`
carrying the file, line and column where it was made and the dotted path of
the value in the merged configuration. Loading, validating and compiling a
tenant append to one `ErrorList`; nothing raises half-way, so one run of
`komunikator check` lists everything.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
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
    #: a cause others follow from (a file that failed to load, an invalid name): reported before the rest
    first: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        where = str(self.position) if self.position else "<configuration>"
        what = dotted(self.path)
        return f"{where}: {what}: {self.message}" if what else f"{where}: {self.message}"


@dataclass
class ErrorList:
    """Collects errors in the order found; sorted by position when reported.

    Causes (`first=True`) come before everything else. When a file fails to
    load, the sections it seems to hold are remembered (`unloaded`); errors
    that only follow from their absence ("unknown unit 'roads' (none are
    defined)") are counted instead of reported, and the file's own error
    says how many wait for it to load.
    """

    errors: list[ConfigError] = field(default_factory=list)
    #: section name → the file that failed to load and may define it
    unloaded: dict[str, str] = field(default_factory=dict)
    #: file that failed to load → how many follow-on errors were held back
    hidden: dict[str, int] = field(default_factory=dict)

    def add(self, position: Position | None, path: tuple[str | int, ...], message: str, *,
            first: bool = False) -> None:
        """Record one error (exact duplicates are kept once)."""
        error = ConfigError(position, tuple(path), message, first)
        if error not in self.errors:
            self.errors.append(error)
        elif first:
            self.errors[self.errors.index(error)] = error

    def add_unless_unloaded(self, section: str, position: Position | None, path: tuple[str | int, ...],
                            message: str) -> None:
        """Record an error that would not exist if `section` had loaded; hold it back if it did not."""
        file = self.unloaded.get(section)
        if file is None:
            self.add(position, path, message)
        else:
            self.hidden[file] = self.hidden.get(file, 0) + 1

    def mark_unloaded(self, file: str, sections: Iterable[str], since: int) -> None:
        """`file` failed to load: its errors (from index `since`) are causes; it may define `sections`."""
        for i in range(since, len(self.errors)):
            e = self.errors[i]
            self.errors[i] = ConfigError(e.position, e.path, e.message, True)
        for section in sections:
            self.unloaded.setdefault(section, file)

    def extend(self, other: ErrorList) -> None:
        """Append all errors of another list (and what it knows of files that failed to load)."""
        for error in other.errors:
            if error not in self.errors:
                self.errors.append(error)
        for section, file in other.unloaded.items():
            self.unloaded.setdefault(section, file)
        for file, count in other.hidden.items():
            self.hidden[file] = self.hidden.get(file, 0) + count

    def __bool__(self) -> bool:
        return bool(self.errors) or bool(self.hidden)

    def __len__(self) -> int:
        return len(self.errors) + sum(self.hidden.values())

    def __iter__(self) -> Iterator[ConfigError]:
        return iter(self.sorted())

    def sorted(self) -> list[ConfigError]:
        """Causes first, then by file, line and column; errors without a position last.

        The first error of a file that failed to load says how many errors were held back for it.
        """
        ordered = sorted(
            self.errors,
            key=lambda e: (not e.first, e.position is None, e.position or Position("", 0, 0), e.path, e.message),
        )
        pending = dict(self.hidden)
        out = []
        for e in ordered:
            count = pending.pop(e.position.file, 0) if e.first and e.position is not None else 0
            if count:
                shown = display_path(e.position.file).replace(os.sep, "/").rsplit("/", 1)[-1]  # type: ignore[union-attr]
                further = "further error" if count == 1 else "further errors"
                e = ConfigError(e.position, e.path, f"{e.message} ({count} {further} hidden until {shown} loads)",
                                True)
            out.append(e)
        return out

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
