"""`komunikator docs …`: keep the generated documentation in step with the code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from komunikator.engine.config.schema_docs import REFERENCE_PATH, reference_diff, write_reference

docs_app = typer.Typer(name="docs", help="Generate the project's documentation.", no_args_is_help=True)


@docs_app.command()
def reference(
    check: Annotated[
        bool, typer.Option("--check", help="do not write; exit 1 with a short diff if the file is out of date")
    ] = False,
    output: Annotated[Path, typer.Option("--output", "-o", help="where the reference goes")] = REFERENCE_PATH,
) -> None:
    """Write the YAML reference (docs/reference.md) generated from the schema."""
    if check:
        diff = reference_diff(output)
        if diff:
            typer.echo(diff)
            typer.echo(f"{output} is out of date: run `komunikator docs reference`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{output} is up to date")
        return
    changed = write_reference(output)
    typer.echo(f"{'wrote' if changed else 'unchanged:'} {output}")
