"""The configuration commands alone: check, explain, graph, docs (a fast start-up)."""

from __future__ import annotations

from typing import Any

import typer

from komunikator.cli.check_commands import check_app


def __getattr__(name: str) -> Any:
    # `app` (check, explain, graph, docs) is built on first use: `check_only` needs none of the rest
    if name == "app":
        return full_light_app()
    raise AttributeError(name)


def _light_app() -> typer.Typer:
    made = typer.Typer(
        name="komunikator",
        help="Komunikator: a city talks with its residents. Configure, check and run it.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @made.callback()
    def _root() -> None:
        """Komunikator: a city talks with its residents."""

    made.add_typer(check_app)
    return made


def full_light_app() -> typer.Typer:
    """The configuration commands: check, docs, explain, graph (the full CLI builds on it)."""
    from komunikator.cli.docs_commands import docs_app
    from komunikator.cli.inspect_commands import inspect_app

    made = _light_app()
    made.add_typer(docs_app)
    made.add_typer(inspect_app)
    return made


#: `komunikator check` alone.
check_only = _light_app()
