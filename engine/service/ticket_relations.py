"""What surrounds a ticket on the staff page: its followers, the duplicates, the people a task may go to.

`relations` answers how many follow the ticket, which report it duplicates and which were
marked as its duplicates — numbers only of tickets the user may see (`sees_ticket`), so a
number of another unit's report is never shown. `delegation_candidates` lists the active
staff with the units whose tasks each handles (`access.handles`, the rule `delegate` checks),
so a page can offer a unit's people for a task handed to that unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime.access import handles, sees_ticket
from komunikator.engine.runtime.views import Membership, UserView
from komunikator.engine.service.row_views import ticket_view, ticket_views
from komunikator.engine.store.models import Ticket, User
from komunikator.engine.store.scope import TenantScope

#: at most this many duplicates are listed (the rest are counted)
MAX_DUPLICATES = 20


@dataclass(frozen=True)
class Relations:
    """Followers, the original this ticket duplicates, and the duplicates of this one the user may see."""

    followers: int
    original: str | None = None
    duplicates: tuple[str, ...] = ()
    #: duplicates beyond those listed, or the user may not see
    more_duplicates: int = 0


async def relations(scope: TenantScope, tenant: CompiledTenant, ticket: Ticket, user: UserView) -> Relations:
    """The ticket's followers count, its original and its duplicates, as `user` may see them."""
    followers, total = await scope.follower_and_duplicate_counts(ticket.id)
    original = None
    master_id = ticket.duplicate_of_id  # type: ignore[attr-defined]
    if master_id is not None:
        master = await scope.tickets().get_or_none(id=master_id)
        if master is not None and sees_ticket(tenant, user, await ticket_view(scope, master)):
            original = master.number
    shown: list[str] = []
    if total:
        rows = list(await scope.tickets().filter(duplicate_of_id=ticket.id).order_by("id").limit(MAX_DUPLICATES))
        views = await ticket_views(scope, rows)  # a fixed number of statements, however many are listed
        shown = [row.number for row in rows if sees_ticket(tenant, user, views[row.id])]
    return Relations(followers, original, tuple(shown), total - len(shown))


@dataclass(frozen=True)
class Candidate:
    """A staff member a task may be handed to, and the units whose tasks they handle."""

    id: str
    name: str
    units: tuple[str, ...]


async def delegation_candidates(scope: TenantScope, tenant: CompiledTenant,
                                users: Sequence[User] | None = None) -> list[Candidate]:
    """Active staff who handle some unit's tasks, by name (two queries, whatever the office's size);
    `users`: the tenant's accounts when the caller has them already."""
    if users is None:
        users = await scope.users().filter(kind="staff", active=True)
    users = [u for u in users if u.kind == "staff" and u.active]
    held: dict[int, list[Membership]] = {}
    for row in await scope.memberships().filter(user_id__in=[u.id for u in users]).order_by("id"):
        held.setdefault(row.user_id, []).append(Membership(row.unit, row.role))  # type: ignore[attr-defined]
    out = []
    for user in users:
        view = UserView(str(user.id), tuple(held.get(user.id, ())), "staff", user.display_name or user.email)
        units = tuple(u for u in tenant.units if handles(tenant, view, u))
        if units:
            out.append(Candidate(view.id, view.name, units))
    return sorted(out, key=lambda c: (c.name.casefold(), c.id))


__all__ = ["MAX_DUPLICATES", "Candidate", "Relations", "delegation_candidates", "relations"]
