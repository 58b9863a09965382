"""What surrounds a ticket on the staff page: its followers, the duplicates, the people a task may go to.

`relations` answers how many follow the ticket, which report it duplicates and which were
marked as its duplicates — numbers only of tickets the user may see (`sees_ticket`), so a
number of another unit's report is never shown. `staff_directory` names the staff and lists the
active ones with the units whose tasks each handles (`access.handles`, the rule `delegate` checks),
so a page can offer a unit's people for a task handed to that unit.
"""

from __future__ import annotations

from dataclasses import dataclass

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime.access import handles, sees_ticket
from komunikator.engine.runtime.views import Membership, UserView
from komunikator.engine.service.row_views import ticket_view, ticket_views
from komunikator.engine.store.models import Ticket
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
    if hasattr(ticket, "followers_count"):  # counted with the ticket, loaded `counted` (the staff page)
        followers, total = int(ticket.followers_count), int(ticket.duplicates_count)  # type: ignore[attr-defined]
    else:
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


@dataclass(frozen=True)
class StaffDirectory:
    """The office's staff accounts (their names) and those a task may be handed to."""

    #: display names by account id, as the API's history gives them (None where an account has none)
    display_names: dict[int, str | None]
    #: the words a page shows for an account: its display name, else its e-mail address
    names: dict[int, str]
    #: active staff who handle some unit's tasks, by name
    candidates: list[Candidate]


async def staff_directory(scope: TenantScope, tenant: CompiledTenant) -> StaffDirectory:
    """Every staff account's name and the delegation candidates, in one statement whatever the office's size
    (the accounts left-joined with their memberships): the ticket page asks it on every view."""
    display_names: dict[int, str | None] = {}
    names: dict[int, str] = {}
    held: dict[int, list[Membership]] = {}
    active: list[int] = []
    for row in await scope.users().filter(kind="staff").order_by("id").values(
            "id", "display_name", "email", "active", "memberships__unit", "memberships__role"):
        user_id = row["id"]
        if user_id not in names:
            display_names[user_id] = row["display_name"]
            names[user_id] = row["display_name"] or row["email"]
            if row["active"]:
                active.append(user_id)
        if row["memberships__unit"] is not None:
            held.setdefault(user_id, []).append(Membership(row["memberships__unit"], row["memberships__role"]))
    return StaffDirectory(display_names, names, _candidates(tenant, [(i, names[i], held.get(i, [])) for i in active]))


def _candidates(tenant: CompiledTenant, staff: list[tuple[int, str, list[Membership]]]) -> list[Candidate]:
    out = []
    for user_id, name, memberships in staff:
        view = UserView(str(user_id), tuple(memberships), "staff", name)
        units = tuple(u for u in tenant.units if handles(tenant, view, u))
        if units:
            out.append(Candidate(view.id, view.name, units))
    return sorted(out, key=lambda c: (c.name.casefold(), c.id))


__all__ = ["MAX_DUPLICATES", "Candidate", "Relations", "StaffDirectory", "relations", "staff_directory"]
