"""The `komunikator` command line (typer): every command.

`komunikator.cli.main` starts the lighter `komunikator.cli.light` app for the
configuration commands (check, explain, graph, docs), so they do not pay for
importing the database and web layers.
"""

from __future__ import annotations

import sys

from komunikator.cli.addresses_commands import addresses_app
from komunikator.cli.db_commands import db_app
from komunikator.cli.gdpr_commands import gdpr_app
from komunikator.cli.jobs_commands import jobs_app
from komunikator.cli.keys_commands import keys_app
from komunikator.cli.light import full_light_app
from komunikator.cli.media_commands import media_app
from komunikator.cli.open311_commands import open311_app
from komunikator.cli.outbox_commands import outbox_app
from komunikator.cli.seed_commands import seed_app
from komunikator.cli.serve_commands import serve_app
from komunikator.cli.user_commands import user_app
from komunikator.cli.worker_commands import worker_app

app = full_light_app()  # check, docs, explain, graph
app.add_typer(db_app)  # upgrade, status
app.add_typer(addresses_app)  # import, count
app.add_typer(serve_app)  # serve, demo
app.add_typer(seed_app)  # seed
app.add_typer(user_app)  # create, list, grant, revoke, reset-password, token
app.add_typer(outbox_app)  # status, retry, purge
app.add_typer(worker_app)  # worker, beat
app.add_typer(media_app)  # gc
app.add_typer(jobs_app, name="jobs")  # list, run
app.add_typer(gdpr_app)  # export, erase
app.add_typer(open311_app)  # keys create|list|revoke
app.add_typer(keys_app)  # vapid


def _add_plugin_commands() -> None:
    """Each installed plugin's own commands: `komunikator <plugin> …`."""
    from komunikator.engine.config.builtins import default_registry

    for plugin in default_registry().plugins.values():
        if plugin.cli is not None:
            app.add_typer(plugin.cli(), name=plugin.name, help=plugin.description)


_add_plugin_commands()


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
