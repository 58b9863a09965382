"""The console-script entry point: picks the light or the full command set."""

from __future__ import annotations

import sys

import typer

#: Commands the light app (`komunikator.cli.light`) has.
LIGHT_COMMANDS = frozenset({"check", "explain", "graph", "docs"})


def _app_for(command: str | None) -> typer.Typer:
    """The smallest app that has `command` (imports are most of a short command's run time)."""
    if command == "check":  # the most frequent, and the one CI runs: import nothing else
        from komunikator.cli.light import check_only

        return check_only
    if command in LIGHT_COMMANDS:
        from komunikator.cli import light

        full_light: typer.Typer = light.app
        return full_light
    from komunikator.cli.app import app

    return app


def main() -> None:
    """Run `komunikator` with the arguments in `sys.argv`."""
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    try:
        _app_for(command)()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
