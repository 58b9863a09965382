"""Who a notification reaches: recipient references resolved at delivery time.

Outbox rows name their recipients with the reference forms of
`engine/schema/refs.py` (plus `user:ID` for jobs that address one person,
such as the staff digest). They are resolved when the row is delivered, for
the ticket's tenant, so a message reaches whoever holds the role or the task
then:

| reference | reaches |
| --- | --- |
| `reporter` | the reporter contact's e-mail (unless erased), else the reporter's account |
| `followers` | every follower (account or contact) with an e-mail |
| `assignee` | the person the row's task is assigned to (nobody if the task is the unit's) |
| `task_unit` | the row's task's unit (see "a unit" below) |
| `category.unit` | the ticket's responsible unit (see "a unit" below) |
| `unit:UNIT` | that unit (see "a unit" below) |
| `role:ROLE` | active members holding ROLE in any internal unit or the whole office (`city`) |
| `role:ROLE@unit:UNIT` | active members holding ROLE in UNIT or a unit below it |
| `role:ROLE@responsible_unit` | the same, for the ticket's responsible unit |
| `role:ROLE@task_unit` | active holders of ROLE in the task's unit, else in the nearest unit above with one |
| `user:ID` | that account, if active |
| `account_token:ID` | the address a resident's one-time link (verify, reset, change, claim) goes to, while unused |
| `contact:ID` | that reporter or follower contact's e-mail (unless erased; flagged while unconfirmed) |

A unit: an external unit without accounts gets its e-mail address from the
YAML; any other unit reaches its active members who hold a task-handling
role in it, or, when it has none, its e-mail address from the YAML.

Addresses are de-duplicated (case-insensitively) across the references of
one row; an erased contact or an inactive account reaches no one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

from komunikator.engine.compiled import CITY_UNIT, CompiledTenant
from komunikator.engine.schema.base import text_for
from komunikator.engine.schema.refs import Recipient, parse_recipient
from komunikator.engine.store.models import AccountToken, Membership, ReporterContact, Task, Ticket, User
from komunikator.engine.store.scope import TenantScope


@dataclass(frozen=True)
class ResolveContext:
    """What a plugin's recipient form (`RecipientDef.resolve`) works with at delivery time."""

    scope: TenantScope
    tenant: CompiledTenant
    ticket: Ticket | None
    task: Task | None
    resolver: RecipientResolver


class UnknownReference(ValueError):
    """A recipient reference that is none of the known forms."""


@dataclass(frozen=True)
class Addressee:
    """One resolved recipient."""

    address: str
    name: str = ""
    #: the recipient's own locale, when known (an account's, or the language a report was made in)
    locale: str | None = None
    user_id: int | None = None
    #: a reporter's address nobody has confirmed yet: they get only the confirmation request (`jobs.py`)
    unconfirmed: bool = False
    #: the secret of that address's confirmation link (None once confirmed)
    confirm_token: str | None = None
    #: reached as the ticket's reporter (mail to them may carry the reporter's link, `ticket.reporter_url`)
    reporter: bool = False


def _contact_addressee(contact: ReporterContact) -> Addressee:
    """A reporter without an account, flagged while their address is unconfirmed."""
    unconfirmed = contact.email_confirmed_at is None
    return Addressee(contact.email or "", contact.name or "", contact.locale, unconfirmed=unconfirmed,
                     confirm_token=contact.confirm_token if unconfirmed else None)


def _holds(role: str, unit: str, membership: Membership) -> bool:
    """Whether a membership is `role` in exactly `unit`."""
    return membership.role == role and membership.unit == unit


class RecipientResolver:
    """Resolves references for one tenant; caches what it reads (use one per delivery batch)."""

    def __init__(self, scope: TenantScope, tenant: CompiledTenant) -> None:
        self.scope = scope
        self.tenant = tenant
        self._users: dict[int, User | None] = {}
        self._contacts: dict[int, ReporterContact | None] = {}
        self._memberships: list[Membership] | None = None

    async def resolve(self, refs: Sequence[str], ticket: Ticket | None, task: Task | None) -> list[Addressee]:
        """Everyone `refs` name for `ticket` (and `task`), each address once, in reference order."""
        found: dict[str, Addressee] = {}
        for ref in refs:
            for person in await self._one(ref, ticket, task):
                seen = found.setdefault(person.address.lower(), person)
                if person.reporter and not seen.reporter:  # the reporter also follows: still reached as reporter
                    found[person.address.lower()] = replace(seen, reporter=True)
        return list(found.values())

    async def _one(self, ref: str, ticket: Ticket | None, task: Task | None) -> list[Addressee]:
        if ref.startswith("account_token:"):
            return await self._account_link(ref)
        if ref.startswith("contact:"):
            contact_id = ref.removeprefix("contact:")
            if not contact_id.isdigit():
                raise UnknownReference(f"{ref!r} is not a recipient: write contact:ID")
            contact = await self._contact(int(contact_id))
            return [_contact_addressee(contact)] if contact is not None and contact.email and \
                contact.erased_at is None else []
        if ref.startswith("user:"):
            user_id = ref.removeprefix("user:")
            if not user_id.isdigit():
                raise UnknownReference(f"{ref!r} is not a recipient: write user:ID")
            return self._people([await self.user(int(user_id))])
        try:
            recipient = parse_recipient(ref)
        except ValueError as error:
            raise UnknownReference(str(error)) from None
        return await self._recipient(recipient, ticket, task)

    async def _account_link(self, ref: str) -> list[Addressee]:
        """`account_token:ID`: the address a resident's one-time link goes to (a new address, for a change)."""
        token_id = ref.removeprefix("account_token:")
        if not token_id.isdigit():
            raise UnknownReference(f"{ref!r} is not a recipient: write account_token:ID")
        token = await self.scope.query(AccountToken).get_or_none(id=int(token_id))
        user = await self.user(token.user_id) if token is not None else None  # type: ignore[attr-defined]
        if token is None or token.used_at is not None or user is None or not user.active:
            return []  # a link already used (or its account gone) is not worth sending
        return [Addressee(token.email, user.display_name, user.locale, user.id)]

    async def _recipient(self, r: Recipient, ticket: Ticket | None, task: Task | None) -> list[Addressee]:
        if r.kind == "plugin":
            return await self._plugin(r, ticket, task)
        if r.kind == "reporter":
            return await self._reporter(ticket) if ticket is not None else []
        if r.kind == "followers":
            return await self._followers(ticket) if ticket is not None else []
        if r.kind == "assignee":
            assignee_id = task.assignee_id if task is not None else None  # type: ignore[attr-defined]
            return self._people([await self.user(assignee_id)]) if assignee_id is not None else []
        if r.kind == "task_unit":
            return await self.unit(task.unit) if task is not None else []
        if r.kind == "responsible_unit":
            return await self.unit(ticket.responsible_unit) if ticket is not None else []
        if r.kind == "unit":
            return await self.unit(r.unit or "")
        # role:
        if r.scope == "task_unit":
            return await self._role_at_task_unit(str(r.role), task)
        if r.scope == "any":  # every internal unit, and the whole office (`city:ROLE`)
            units = {u for u, spec in self.tenant.units.items() if not spec.external} | {CITY_UNIT}
        else:
            target = r.unit if r.scope == "unit" else (ticket.responsible_unit if ticket is not None else None)
            if target is None:
                return []
            units = set(self.tenant.unit_subtree.get(target, frozenset({target})))
        return await self._members(lambda m: m.role == r.role and m.unit in units)

    async def _role_at_task_unit(self, role: str, task: Task | None) -> list[Addressee]:
        """ROLE in the task's unit, else in the nearest unit above it where someone holds it."""
        unit: str | None = task.unit if task is not None else None
        seen: set[str] = set()
        while unit is not None and unit not in seen and unit in self.tenant.units:
            seen.add(unit)
            found = await self._members(partial(_holds, role, unit))
            if found:
                return found
            unit = self.tenant.units[unit].parent
        return []

    async def _plugin(self, r: Recipient, ticket: Ticket | None, task: Task | None) -> list[Addressee]:
        from komunikator.engine.config.builtins import default_registry  # the installed plugins

        form = default_registry().recipients.get(r.form or "")
        if form is None:
            raise UnknownReference(f"no installed plugin has the recipient form {r.form!r}")
        return list(await form.resolve(ResolveContext(self.scope, self.tenant, ticket, task, self), r.argument))

    async def members_with(self, wanted: Callable[[Membership], bool]) -> list[Addressee]:
        """Active staff holding a membership `wanted` accepts (what a plugin's recipient form asks)."""
        return await self._members(wanted)

    async def unit(self, unit_id: str) -> list[Addressee]:
        """A unit's task handlers, or its e-mail address (external without accounts, or nobody inside)."""
        spec = self.tenant.units.get(unit_id)
        if spec is None:
            return []
        by_mail = [Addressee(spec.email, text_for(dict(spec.name), self.tenant.config.locale))] if spec.email else []
        if spec.external and not spec.accounts:
            return by_mail
        roles = self.tenant.roles
        members = await self._members(
            lambda m: m.unit == unit_id and m.role in roles and bool(roles[m.role].task_rights)
        )
        return members or by_mail

    # -- people ---------------------------------------------------------------------------------

    async def _reporter(self, ticket: Ticket) -> list[Addressee]:
        contact = await self._contact(ticket.reporter_contact_id)  # type: ignore[attr-defined]
        if contact is not None and contact.email and contact.erased_at is None:
            # a signed-in (or claimed) report: the account's devices and channel switches count too
            user_id = ticket.reporter_user_id  # type: ignore[attr-defined]
            return [replace(_contact_addressee(contact), reporter=True, user_id=user_id)]
        people = self._people([await self.user(ticket.reporter_user_id)])  # type: ignore[attr-defined]
        return [replace(person, reporter=True) for person in people]

    async def _followers(self, ticket: Ticket) -> list[Addressee]:
        found: list[Addressee] = []
        for follower in await self.scope.followers().filter(ticket_id=ticket.id).order_by("id"):
            if follower.user_id is not None:  # type: ignore[attr-defined]
                found += self._people([await self.user(follower.user_id)])  # type: ignore[attr-defined]
            else:
                contact = await self._contact(follower.contact_id)  # type: ignore[attr-defined]
                if contact is not None and contact.email and contact.erased_at is None:
                    found.append(_contact_addressee(contact))
        return found

    async def _members(self, wanted: Callable[[Membership], bool]) -> list[Addressee]:
        if self._memberships is None:
            self._memberships = list(await self.scope.memberships().order_by("id"))
            ids = {m.user_id for m in self._memberships}  # type: ignore[attr-defined]
            missing = ids - self._users.keys()
            if missing:
                for user in await self.scope.users().filter(id__in=missing):
                    self._users[user.id] = user
        users = [self._users.get(m.user_id) for m in self._memberships if wanted(m)]  # type: ignore[attr-defined]
        return self._people(users)

    @staticmethod
    def _people(users: Sequence[User | None]) -> list[Addressee]:
        return [
            Addressee(u.email, u.display_name, u.locale, u.id) for u in users if u is not None and u.active and u.email
        ]

    async def user(self, user_id: int | None) -> User | None:
        """The account with this id (cached), or None."""
        if user_id is None:
            return None
        if user_id not in self._users:
            self._users[user_id] = await self.scope.users().get_or_none(id=user_id)
        return self._users[user_id]

    async def _contact(self, contact_id: int | None) -> ReporterContact | None:
        if contact_id is None:
            return None
        if contact_id not in self._contacts:
            self._contacts[contact_id] = await self.scope.reporter_contacts().get_or_none(id=contact_id)
        return self._contacts[contact_id]
