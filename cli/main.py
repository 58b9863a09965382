"""The console-script entry point: picks the light or the full command set."""

from __future__ import annotations

import sys

#: Commands the light app (`komunikator.cli.light`) has.
LIGHT_COMMANDS = frozenset({"check", "explain", "graph", "docs"})


def main() -> None:
    """Run `komunikator` with the arguments in `sys.argv`."""
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    if command in LIGHT_COMMANDS:
        from komunikator.cli.light import app
    else:
        from komunikator.cli.app import app
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
