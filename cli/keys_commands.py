"""`komunikator keys vapid`: the deployment's Web Push (VAPID) key pair, made once.

    komunikator keys vapid                 # writes KOMUNIKATOR_VAPID_KEY_FILE (default var/vapid_private.pem), 0600
    komunikator keys vapid --env           # prints KOMUNIKATOR_VAPID_PRIVATE_KEY=… for an environment instead
    komunikator keys vapid --show          # prints the public key of the configured pair

Every browser subscription is made for the public key: a new pair makes all
of them useless, so an existing key is never replaced (exit 1; delete it by
hand if it must go, and residents subscribe again). Exit 2 for a wrong
command line or a malformed configured key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from komunikator.engine.delivery.push import DEFAULT_KEY_FILE, VapidKeys, check_subject, write_key_file

keys_app = typer.Typer(name="keys", help="Keys the deployment keeps: VAPID for Web Push.", no_args_is_help=True)


def _subject() -> str:
    return os.environ.get("KOMUNIKATOR_VAPID_SUBJECT") or "mailto:" + os.environ.get(
        "KOMUNIKATOR_SMTP_FROM", "komunikator@localhost")


@keys_app.command()
def vapid(
    env: Annotated[bool, typer.Option("--env", help="print the private key as an environment line, write no file")]
    = False,
    show: Annotated[bool, typer.Option("--show", help="print the configured public key and stop")] = False,
) -> None:
    """Make the VAPID key pair (once per deployment) and print the public key browsers subscribe with."""
    try:
        check_subject(_subject())
        existing = VapidKeys.from_env()
    except ValueError as error:
        typer.echo(f"the configured VAPID key is unusable: {error}", err=True)
        raise typer.Exit(2) from None
    if show:
        if existing is None:
            typer.echo("no VAPID key yet: run `komunikator keys vapid`", err=True)
            raise typer.Exit(1)
        typer.echo(existing.public_key)
        return
    if existing is not None:
        typer.echo(f"a VAPID key exists already (public key {existing.public_key}); it is never replaced, "
                   "since every subscription depends on it", err=True)
        raise typer.Exit(1)
    keys = VapidKeys.generate(_subject())
    if env:
        typer.echo(f"KOMUNIKATOR_VAPID_PRIVATE_KEY={keys.private_raw()}")
        typer.echo(f"# public key (applicationServerKey): {keys.public_key}")
        return
    path = Path(os.environ.get("KOMUNIKATOR_VAPID_KEY_FILE") or DEFAULT_KEY_FILE)
    try:
        write_key_file(keys, path)
    except FileExistsError:  # made meanwhile
        typer.echo(f"{path} exists already", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {path} (readable by its owner only)")
    typer.echo(f"public key (applicationServerKey): {keys.public_key}")
