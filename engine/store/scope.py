"""The one way to the tenant-owned tables: every query passes through a `TenantScope`.

Tortoise has no global query filter, so isolation between cities is this
module's job: `scope.query(Model)` is already filtered by tenant,
`scope.create(Model, …)` stamps `tenant_id` and refuses references to
another tenant's rows. Nothing outside `engine/store` calls
`Model.filter/get/all/create` (tests/store/test_store_boundary.py).

    scope = await TenantScope.for_slug("zgierz")
    ticket = await scope.get_ticket("ZG-2026-000123")
    open_tasks = await scope.tasks().filter(ticket_id=ticket.id, state="open")

Queries run in the caller's transaction when inside `in_transaction()`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.expressions import RawSQL
from tortoise.models import Model
from tortoise.queryset import QuerySet

from komunikator.engine.store.errors import CrossTenant, NotFound, StaleVersion
from komunikator.engine.store.models import (
    ApiToken,
    AuditEvent,
    Comment,
    DefinitionVersion,
    Follower,
    IdempotencyKey,
    LoginFailure,
    Membership,
    OutboxMessage,
    RateEvent,
    ReporterContact,
    Session,
    Task,
    TaskAssignment,
    Tenant,
    Ticket,
    TicketAttribute,
    Timer,
    User,
)

M = TypeVar("M", bound=Model)

#: A public ticket number: PREFIX-YYYY-NNNNNN.
TICKET_NUMBER = re.compile(r"^[A-Z]{2,4}-\d{4}-\d{6,}$")
#: Ids looked up per query when `bulk_create` checks references (below every database's parameter limit).
_ID_CHUNK = 900
#: Ticket columns `update_ticket` never touches.
_FIXED_TICKET_FIELDS = frozenset({"id", "tenant", "tenant_id", "number", "version", "created_at"})


# -- tenants (the only table without a tenant scope) ------------------------------------------


async def create_tenant(slug: str, name: str = "") -> Tenant:
    """Add a tenant; fails (IntegrityError) if the slug exists."""
    return await Tenant.create(slug=slug, name=name)


async def ensure_tenant(slug: str, name: str = "") -> Tenant:
    """The tenant with `slug`, created if missing (its name is set only on creation)."""
    tenant = await Tenant.get_or_none(slug=slug)
    if tenant is not None:
        return tenant
    try:
        return await Tenant.create(slug=slug, name=name)
    except IntegrityError:  # created meanwhile by someone else
        return await Tenant.get(slug=slug)


async def tenant_by_slug(slug: str) -> Tenant | None:
    """The tenant with `slug`, if any."""
    return await Tenant.get_or_none(slug=slug)


async def list_tenants() -> list[Tenant]:
    """Every tenant, by slug."""
    return await Tenant.all().order_by("slug")


# -- ordering ---------------------------------------------------------------------------------


def order_nulls(queryset: QuerySet[M], *orderings: str, nulls: str = "last") -> QuerySet[M]:
    """Order by `orderings` ("due_at", "-created_at") with NULLs `last` or `first` in each.

    SQLite and PostgreSQL disagree where NULLs go by default; lists that sort
    on a nullable column use this so both databases return the same order.
    """
    if nulls not in ("first", "last"):
        raise ValueError("nulls must be 'first' or 'last'")
    meta = queryset.model._meta
    keys: list[str] = []
    annotations: dict[str, Any] = {}
    for ordering in orderings:
        field = ordering.lstrip("-")
        column = meta.fields_db_projection[field]
        alias = f"_null_{field}"
        # false < true on both databases (SQLite: 0 < 1)
        annotations[alias] = RawSQL(f'"{meta.db_table}"."{column}" IS NULL')
        keys += [alias if nulls == "last" else f"-{alias}", ordering]
    return queryset.annotate(**annotations).order_by(*keys)


# -- the scope --------------------------------------------------------------------------------


class TenantScope:
    """Reads and writes of one tenant's rows."""

    __slots__ = ("tenant_id",)

    def __init__(self, tenant_id: int) -> None:
        self.tenant_id = tenant_id

    def __repr__(self) -> str:
        return f"TenantScope({self.tenant_id})"

    @classmethod
    async def for_slug(cls, slug: str) -> TenantScope:
        """The scope of the tenant with `slug`; `NotFound` if there is none."""
        tenant = await tenant_by_slug(slug)
        if tenant is None:
            raise NotFound(f"no tenant {slug!r}")
        return cls(tenant.id)

    async def tenant(self) -> Tenant:
        """This scope's tenant row."""
        return await Tenant.get(id=self.tenant_id)

    # generic access

    def query(self, model: type[M]) -> QuerySet[M]:
        """Every row of `model` in this tenant, as a queryset to refine."""
        _check_owned(model)
        return model.filter(tenant_id=self.tenant_id)

    async def get(self, model: type[M], **filters: Any) -> M:
        """The one row of `model` matching `filters` in this tenant; `NotFound` otherwise."""
        row = await self.query(model).get_or_none(**filters)
        if row is None:
            raise NotFound(f"no {model.__name__} {_describe(filters)}")
        return row

    async def find(self, model: type[M], **filters: Any) -> M | None:
        """The one row of `model` matching `filters` in this tenant, or None."""
        return await self.query(model).get_or_none(**filters)

    async def create(self, model: type[M], **values: Any) -> M:
        """Insert a row of `model` stamped with this tenant.

        Related rows may be given as instances or as `<field>_id`; either must
        belong to this tenant (`CrossTenant` otherwise).
        """
        _check_owned(model)
        await self._check_values(model, values)
        values.pop("tenant", None)
        values["tenant_id"] = self.tenant_id
        return await model.create(**values)

    async def bulk_create(self, model: type[M], rows: Sequence[Mapping[str, Any]], batch_size: int = 1000) -> int:
        """Insert many rows of `model` stamped with this tenant; how many.

        For data-heavy imports (a GTFS feed, a street register): where
        `create` checks each row's references one by one, this checks every
        distinct id a foreign key names with one query per key and chunk, then
        inserts in batches. References are given as `<field>_id`; any that is
        not this tenant's row refuses the whole lot (`CrossTenant`) before
        anything is written.
        """
        _check_owned(model)
        meta = model._meta
        for name in sorted(meta.fk_fields - {"tenant"}):
            if any(name in row for row in rows):
                raise ValueError(f"bulk_create takes references as `{name}_id`, not instances")
            wanted = {row[f"{name}_id"] for row in rows if row.get(f"{name}_id") is not None}
            related: type[Model] = meta.fields_map[name].related_model  # type: ignore[attr-defined]
            found: set[Any] = set()
            ordered = sorted(wanted, key=str)
            for start in range(0, len(ordered), _ID_CHUNK):
                chunk = ordered[start:start + _ID_CHUNK]
                found.update(await self.query(related).filter(id__in=chunk).values_list("id", flat=True))
            if missing := wanted - found:
                raise CrossTenant(f"{model.__name__}.{name}_id: {sorted(missing, key=str)[:5]!r} are not "
                                  f"{related.__name__} rows of this tenant")
        for row in rows:
            given = row.get("tenant_id", row.get("tenant"))
            if given is not None and getattr(given, "id", given) != self.tenant_id:
                raise CrossTenant(f"{model.__name__} rows would be created in tenant {given!r}, not {self.tenant_id}")
        objects = [model(**{k: v for k, v in row.items() if k not in ("tenant", "tenant_id")}, tenant_id=self.tenant_id)
                   for row in rows]
        await model.bulk_create(objects, batch_size=batch_size)
        return len(objects)

    async def _check_values(self, model: type[Model], values: dict[str, Any]) -> None:
        given = values.get("tenant_id", values.get("tenant"))
        if given is not None and getattr(given, "id", given) != self.tenant_id:
            raise CrossTenant(f"{model.__name__} would be created in tenant {given!r}, not {self.tenant_id}")
        meta = model._meta
        for name in meta.fk_fields:
            if name == "tenant":
                continue
            related: type[Model] = meta.fields_map[name].related_model  # type: ignore[attr-defined]
            if name in values and values[name] is not None:
                owner = getattr(values[name], "tenant_id", None)
                if owner != self.tenant_id:
                    raise CrossTenant(f"{model.__name__}.{name} points at a row of another tenant")
            raw = values.get(f"{name}_id")
            if raw is not None and not await self.query(related).filter(id=raw).exists():
                raise CrossTenant(f"{model.__name__}.{name}_id={raw!r} is not a {related.__name__} of this tenant")

    # the tables, by name

    def users(self) -> QuerySet[User]:
        """Staff and resident accounts."""
        return self.query(User)

    def memberships(self) -> QuerySet[Membership]:
        """User × unit × role."""
        return self.query(Membership)

    def api_tokens(self) -> QuerySet[ApiToken]:
        """API tokens (hashed)."""
        return self.query(ApiToken)

    def login_failures(self) -> QuerySet[LoginFailure]:
        """Refused logins of the last minutes (`accounts.LoginLimits`)."""
        return self.query(LoginFailure)

    def rate_events(self) -> QuerySet[RateEvent]:
        """Counted requests of rate-limit buckets (`service/rate_limits.py`)."""
        return self.query(RateEvent)

    def sessions(self) -> QuerySet[Session]:
        """Browser sessions (hashed)."""
        return self.query(Session)

    def definition_versions(self) -> QuerySet[DefinitionVersion]:
        """Compiled configurations tickets run on."""
        return self.query(DefinitionVersion)

    def reporter_contacts(self) -> QuerySet[ReporterContact]:
        """Reporters' personal data."""
        return self.query(ReporterContact)

    def tickets(self) -> QuerySet[Ticket]:
        """Tickets."""
        return self.query(Ticket)

    def ticket_attributes(self) -> QuerySet[TicketAttribute]:
        """Category-specific ticket attributes."""
        return self.query(TicketAttribute)

    def followers(self) -> QuerySet[Follower]:
        """Who follows which ticket."""
        return self.query(Follower)

    def tasks(self) -> QuerySet[Task]:
        """Tasks."""
        return self.query(Task)

    def task_assignments(self) -> QuerySet[TaskAssignment]:
        """Tasks' delegation history."""
        return self.query(TaskAssignment)

    def comments(self) -> QuerySet[Comment]:
        """Comments."""
        return self.query(Comment)

    def audit_events(self) -> QuerySet[AuditEvent]:
        """History (append-only)."""
        return self.query(AuditEvent)

    def outbox(self) -> QuerySet[OutboxMessage]:
        """Messages waiting for (or done with) delivery."""
        return self.query(OutboxMessage)

    def timers(self) -> QuerySet[Timer]:
        """Process timers."""
        return self.query(Timer)

    def idempotency_keys(self) -> QuerySet[IdempotencyKey]:
        """Stored first responses to idempotent requests."""
        return self.query(IdempotencyKey)

    # tickets

    async def get_ticket(self, number_or_id: str | int, *, counted: bool = False) -> Ticket:
        """A ticket by public number (`ZG-2026-000123`) or database id; `NotFound` otherwise. `counted`: with
        `followers_count` and `duplicates_count` read in the same statement (the staff page shows them)."""
        if isinstance(number_or_id, int) or number_or_id.isdigit():
            filters: dict[str, Any] = {"id": int(number_or_id)}
        else:
            number = number_or_id.strip().upper()
            if not TICKET_NUMBER.match(number):
                raise NotFound(f"no Ticket {number_or_id!r}")
            filters = {"number": number}
        if not counted:
            return await self.get(Ticket, **filters)
        found = await self.tickets().filter(**filters).annotate(**_relation_counts()).first()
        if found is None:
            raise NotFound(f"no Ticket {_describe(filters)}")
        return found

    async def follower_and_duplicate_counts(self, ticket_id: int) -> tuple[int, int]:
        """How many people follow the ticket and how many tickets are marked its duplicates (one statement)."""
        rows = await self.tickets().filter(id=ticket_id).annotate(**_relation_counts()).values(
            "followers_count", "duplicates_count")
        return (int(rows[0]["followers_count"]), int(rows[0]["duplicates_count"])) if rows else (0, 0)

    async def update_ticket(self, ticket: Ticket, expected_version: int, **changes: Any) -> Ticket:
        """Write `changes` if the ticket is still at `expected_version`; bump the version.

        `StaleVersion` if someone changed it meanwhile. `ticket` is updated in
        place (fields and version) and returned.
        """
        fixed = _FIXED_TICKET_FIELDS.intersection(changes)
        if fixed:
            raise ValueError(f"update_ticket cannot change {', '.join(sorted(fixed))}")
        await self._check_values(Ticket, changes)
        changes["updated_at"] = datetime.now(UTC)
        updated = await self.tickets().filter(id=ticket.id, version=expected_version).update(
            version=expected_version + 1, **changes
        )
        if not updated:
            if not await self.tickets().filter(id=ticket.id).exists():
                raise NotFound(f"no Ticket {ticket.id}")
            raise StaleVersion(f"ticket {ticket.number}", expected_version)
        for name, value in changes.items():
            setattr(ticket, name, value)
        ticket.version = expected_version + 1
        return ticket

    # definition versions

    async def ensure_definition_version(self, version: str, summary: dict[str, Any]) -> DefinitionVersion:
        """The row for compiled version `version`, inserted if missing (race-safe)."""
        row = DefinitionVersion(tenant_id=self.tenant_id, version=version, summary=summary)
        await DefinitionVersion.bulk_create([row], ignore_conflicts=True)
        return await self.get(DefinitionVersion, version=version)


def _relation_counts() -> dict[str, RawSQL]:
    # subqueries over the ticket's own id: followers and duplicates belong to the ticket's tenant
    return {
        "followers_count": RawSQL('(SELECT COUNT(*) FROM "followers" WHERE "followers"."ticket_id"="tickets"."id")'),
        "duplicates_count": RawSQL('(SELECT COUNT(*) FROM "tickets" "copies" '
                                   'WHERE "copies"."duplicate_of_id"="tickets"."id")'),
    }


def _check_owned(model: type[Model]) -> None:
    if model is Tenant or "tenant" not in model._meta.fk_fields:
        raise TypeError(f"{model.__name__} is not a tenant-owned table")


def _describe(filters: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in filters.items()) or "(any)"
