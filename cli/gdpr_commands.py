"""`komunikator gdpr export|erase`: what the city holds on a reporter, and erasing it (engine/service/gdpr.py).

    komunikator gdpr export zgierz --email jan@example.pl          # JSON on stdout
    komunikator gdpr export zgierz --ticket ZG-2026-000123
    komunikator gdpr erase zgierz --email jan@example.pl --legal-basis "art. 17(1)(a) RODO, wniosek z 2026-12-01"

Exit codes as `komunikator user`: 0 done, 1 refused (nobody found, no legal
basis) or a database fault, 2 the command line is wrong.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from komunikator.cli.db_commands import UrlOption
from komunikator.cli.user_commands import TenantArg, _fail, _run, _tenant
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import gdpr
from komunikator.engine.store.scope import TenantScope

gdpr_app = typer.Typer(name="gdpr", help="A reporter's personal data: export it, erase it.", no_args_is_help=True)

EmailOption = Annotated[str | None, typer.Option("--email", help="the reporter's e-mail", show_default=False)]
TicketOption = Annotated[str | None, typer.Option("--ticket", help="a report's number", show_default=False)]
#: Who the audit trail names for an erasure run from the command line.
OPERATOR = UserView("operator", (), "system", "komunikator gdpr erase")


def _one_of(email: str | None, ticket: str | None) -> None:
    if (email is None) == (ticket is None):
        raise _fail("give --email or --ticket (one of them)", 2)


@gdpr_app.command()
def export(tenant_slug: TenantArg, email: EmailOption = None, ticket: TicketOption = None,
           url: UrlOption = None) -> None:
    """Print, as JSON, the reporter's contacts, their reports and the reports they follow."""
    _one_of(email, ticket)
    tenant = _tenant(tenant_slug)

    async def work(scope: TenantScope) -> dict[str, Any]:
        return await gdpr.export(scope, email=email, ticket=ticket, actor=OPERATOR, now=datetime.now(UTC))

    typer.echo(json.dumps(_run(url, tenant, work), ensure_ascii=False, indent=2, default=str))


@gdpr_app.command()
def erase(
    tenant_slug: TenantArg,
    legal_basis: Annotated[str, typer.Option("--legal-basis", help="why (recorded in the audit trail)",
                                             show_default=False)],
    email: EmailOption = None, ticket: TicketOption = None, url: UrlOption = None,
) -> None:
    """Erase the reporter's name, e-mail and phone; drop mail waiting for them; audit it with the legal basis."""
    _one_of(email, ticket)
    tenant = _tenant(tenant_slug)

    async def work(scope: TenantScope) -> dict[str, Any]:
        return await gdpr.erase(scope, OPERATOR, legal_basis, datetime.now(UTC), email=email, ticket=ticket)

    done = _run(url, tenant, work)
    typer.echo(f"erased {done['erased_contacts']} contact(s) ({done['already_erased']} already erased), "
               f"dropped {done['dropped_messages']} message(s)")
    if done["reports_to_review"]:
        typer.echo("review the free text of: " + ", ".join(done["reports_to_review"]))
