"""The configuration commands alone: check, explain, graph, docs (a fast start-up)."""

from __future__ import annotations

import typer

from komunikator.cli.check_commands import check_app
from komunikator.cli.docs_commands import docs_app
from komunikator.cli.inspect_commands import inspect_app

app = typer.Typer(
    name="komunikator",
    help="Komunikator: a city talks with its residents. Configure, check and run it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Komunikator: a city talks with its residents."""


app.add_typer(check_app)
app.add_typer(docs_app)
app.add_typer(inspect_app)
