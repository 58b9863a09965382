"""Who may do what: scoped roles resolved against a ticket.

One rule covers every scope: a membership (unit M, role R) covers a unit U
when U is M or lies below M. So a unit head of a department covers the
department's teams. Memberships in external units only ever count for the
tasks addressed to their unit (`ROLE@task_unit`): an external body sees and
acts on its own tasks, nothing else.

The unit tree has an implicit root, `city` (`CITY_UNIT`): a membership
there covers every unit, so `city:management` is an office-wide role (the
mayor's overview) and counts as an internal membership everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

from komunikator.engine.compiled import CITY_UNIT, CompiledTenant
from komunikator.engine.runtime.views import Membership, TaskView, TicketView, UserView
from komunikator.engine.schema.refs import ActorRef


def covers(tenant: CompiledTenant, membership: Membership, unit: str) -> bool:
    """Whether a membership's unit is `unit` or one of its ancestors."""
    return unit in tenant.unit_subtree.get(membership.unit, frozenset())


def _internal(tenant: CompiledTenant, memberships: Iterable[Membership]) -> list[Membership]:
    units = tenant.units
    return [m for m in memberships if m.unit == CITY_UNIT or (m.unit in units and not units[m.unit].external)]


def actor_allows(tenant: CompiledTenant, actor: ActorRef, ticket: TicketView, user: UserView) -> bool:
    """Whether `user` is who `actor` names, for this ticket now."""
    if actor.scope == "reporter":
        return is_reporter(ticket, user)
    if user.kind != "staff":
        return False
    if actor.scope == "task_unit":
        units = {t.unit for t in ticket.current_tasks() if t.active}
        return any(m.role == actor.role and any(covers(tenant, m, u) for u in units) for m in user.memberships)
    internal = _internal(tenant, user.memberships)
    if actor.scope == "any":
        return any(m.role == actor.role for m in internal)
    target = ticket.responsible_unit if actor.scope == "responsible_unit" else actor.unit
    return target is not None and any(m.role == actor.role and covers(tenant, m, target) for m in internal)


def is_reporter(ticket: TicketView, user: UserView) -> bool:
    """Whether `user` is the ticket's reporter: their resident account, or the reporter contact's link holder."""
    return user.kind == "resident" and user.id in {ref for ref in (ticket.reporter_id, ticket.reporter_contact) if ref}


def edits_tickets(tenant: CompiledTenant, user: UserView) -> bool:
    """Whether the user holds a role that verifies and edits tickets."""
    return user.kind == "staff" and any(
        tenant.roles[m.role].edits_tickets for m in _internal(tenant, user.memberships) if m.role in tenant.roles
    )


def handles(tenant: CompiledTenant, user: UserView, unit: str, action: str | None = None) -> bool:
    """Whether the user holds a task-handling role in `unit` (or above it); with `action`, one granting it."""
    return user.kind == "staff" and any(
        m.role in tenant.roles and covers(tenant, m, unit)
        and (action in tenant.roles[m.role].task_rights if action else bool(tenant.roles[m.role].task_rights))
        for m in user.memberships
    )


def records_for_external(tenant: CompiledTenant, user: UserView, task: TaskView) -> bool:
    """A dispatcher records the outcome of a task sent by e-mail to an external unit."""
    unit = tenant.units.get(task.unit)
    return unit is not None and unit.external and not unit.accounts and edits_tickets(tenant, user)


def sees_ticket(tenant: CompiledTenant, user: UserView, ticket: TicketView) -> bool:
    """Whether the user may read the ticket at all (unit scope of their roles)."""
    if user.kind == "system":
        return True
    if user.kind == "resident":
        return is_reporter(ticket, user)
    return bool(seeing_memberships(tenant, user, ticket))


def seeing_memberships(tenant: CompiledTenant, user: UserView, ticket: TicketView) -> list[tuple[Membership, bool]]:
    """The memberships through which a staff member sees the ticket, each with whether it acts through tasks only.

    A role that sees `tasks` (and any membership of an external unit) sees the tickets whose live tasks its
    unit covers; any other role also sees those its unit is responsible for, and `sees: all` every ticket.
    """
    task_units = {t.unit for t in ticket.tasks if t.state != "cancelled"}
    out = []
    for m in user.memberships:
        role = tenant.roles.get(m.role)
        if role is None:
            continue
        external = m.unit in tenant.units and tenant.units[m.unit].external
        if external or role.sees == "tasks":
            if any(covers(tenant, m, u) for u in task_units):
                out.append((m, True))
        elif role.sees == "all" or covers(tenant, m, ticket.responsible_unit) or any(
            covers(tenant, m, u) for u in task_units
        ):
            out.append((m, False))
    return out


def manages_users(tenant: CompiledTenant, user: UserView) -> bool:
    """Whether the user administers the city: a role with `manages_users` in any unit (or `city`).

    An administrator manages every staff account and reads the compiled configuration; the
    unit of the membership does not narrow it (accounts belong to the city, not to a unit).
    """
    return user.kind == "staff" and any(
        m.role in tenant.roles and tenant.roles[m.role].manages_users for m in user.memberships
    )


def has_permission(tenant: CompiledTenant, user: UserView, permission: str) -> bool:
    """Whether one of the user's roles grants a plugin's `permission` (`lost_and_found.manage`), in any unit."""
    return any(permission in tenant.roles[m.role].permissions for m in user.memberships if m.role in tenant.roles)
