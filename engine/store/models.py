"""The database tables (Tortoise models).

Every table but `tenants` carries `tenant_id`, and every index and unique
constraint leads with it (tests/store checks both after migrating). Query
these models only through `komunikator.engine.store.scope.TenantScope`;
nothing outside `engine/store` may call `Model.filter/get/all/create`.

Times are timezone-aware UTC. Changing a model (even the first line of its
docstring, which becomes the table comment; keep semicolons out of it, Tortoise's
SQLite editor splits on them) needs a new migration: see
`engine/store/migrations/README.md`.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

#: The Tortoise app label every model lives in (migrations are recorded under it).
APP = "komunikator"

USER_KINDS = ("staff", "resident")
PUBLIC_STATUSES = ("open", "closed")
COMMENT_VISIBILITIES = ("internal", "public", "to_reporter", "to_unit")
ACTOR_KINDS = ("user", "reporter", "system")
OUTBOX_STATUSES = ("pending", "sent", "failed")
VIEW_SHARING = ("personal", "unit", "office")
TIMER_STATES = ("armed", "fired", "cancelled")
ACCOUNT_TOKEN_PURPOSES = ("verify", "reset", "email", "claim")


def _tenant(related_name: str) -> fields.ForeignKeyRelation[Tenant]:
    # Tenants are retired, never deleted while they own rows.
    return fields.ForeignKeyField(f"{APP}.Tenant", related_name=related_name, on_delete=fields.RESTRICT)


class Tenant(Model):
    """A city (gmina), configured in YAML under `tenants/<slug>/`."""

    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tenants"


class User(Model):
    """A person with an account (staff or resident) in one tenant."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("users")
    kind = fields.CharField(max_length=16, default="staff")  # USER_KINDS
    email = fields.CharField(max_length=254)  # stored lower-cased
    display_name = fields.CharField(max_length=200, default="")
    password_hash = fields.CharField(max_length=255, null=True)  # argon2id; null: cannot log in with a password
    active = fields.BooleanField(default=True)
    locale = fields.CharField(max_length=16, null=True)  # language of messages to them (null: the tenant's)
    #: when a resident opened the link that verified their e-mail (null: not yet, or a staff account)
    email_verified_at = fields.DatetimeField(null=True)
    #: an administrator gave them a temporary password: the staff pages wait until they choose their own
    must_change_password = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "users"
        unique_together = (("tenant", "email"),)
        indexes = (Index(fields=("tenant_id", "kind", "active")),)


class Membership(Model):
    """User × unit × role (unit and role ids come from the tenant's YAML)."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("memberships")
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="memberships", on_delete=fields.CASCADE
    )
    unit = fields.CharField(max_length=64)
    role = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "memberships"
        unique_together = (("tenant", "user", "unit", "role"),)
        indexes = (Index(fields=("tenant_id", "unit", "role")),)


class ApiToken(Model):
    """A bearer token for scripts, stored as a hash."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("api_tokens")
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="api_tokens", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=128)
    name = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_tokens"
        unique_together = (("tenant", "token_hash"),)
        indexes = (Index(fields=("tenant_id", "user_id")),)


class LoginFailure(Model):
    """A refused login (wrong password or unknown e-mail), counted to slow down guessing."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("login_failures")
    email = fields.CharField(max_length=254)  # as typed, lower-cased: unknown addresses count too
    address = fields.CharField(max_length=64, null=True)  # the client's IP address, when known
    failed_at = fields.DatetimeField()

    class Meta:
        table = "login_failures"
        indexes = (Index(fields=("tenant_id", "email", "failed_at")),
                   Index(fields=("tenant_id", "address", "failed_at")))


class RateEvent(Model):
    """One counted request (an anonymous report …) in a rate-limit bucket: the table is the shared counter.

    Kept in the database so that every web process counts the same events
    (`engine/service/rate_limits.py`); rows older than the window are deleted
    as new ones come in.
    """

    id = fields.BigIntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("rate_events")
    bucket = fields.CharField(max_length=300)  # e.g. "submit:address:203.0.113.7", "submit:email:jan@example.pl"
    at = fields.DatetimeField()

    class Meta:
        table = "rate_events"
        indexes = (Index(fields=("tenant_id", "bucket", "at")),)


class Session(Model):
    """A logged-in browser (cookie), its token stored as a hash."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("sessions")
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="sessions", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=128)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "sessions"
        unique_together = (("tenant", "token_hash"),)
        indexes = (Index(fields=("tenant_id", "user_id")), Index(fields=("tenant_id", "expires_at")))


class DefinitionVersion(Model):
    """A compiled configuration a ticket runs on (`CompiledTenant.version`)."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("definition_versions")
    version = fields.CharField(max_length=64)
    # states per process, categories …: enough to migrate live tickets
    summary: dict[str, Any] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "definition_versions"
        unique_together = (("tenant", "version"),)


class TicketCounter(Model):
    """The last ticket number issued for (tenant, year in the tenant's time zone)."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("ticket_counters")
    year = fields.IntField()
    value = fields.IntField(default=0)

    class Meta:
        table = "ticket_counters"
        unique_together = (("tenant", "year"),)


class ReporterContact(Model):
    """How to reach a reporter, kept apart so it can be erased."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("reporter_contacts")
    name = fields.CharField(max_length=200, null=True)
    email = fields.CharField(max_length=254, null=True)
    phone = fields.CharField(max_length=32, null=True)
    locale = fields.CharField(max_length=16, null=True)  # language the report was made in (null: the tenant's)
    created_at = fields.DatetimeField(auto_now_add=True)
    erased_at = fields.DatetimeField(null=True)  # personal fields blanked; the row stays for references
    #: when the reporter opened the confirmation link, until then mail carries only the text of the city
    email_confirmed_at = fields.DatetimeField(null=True)
    #: the secret of the confirmation link, random, null once confirmed or erased
    confirm_token = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "reporter_contacts"
        indexes = (Index(fields=("tenant_id", "email")), Index(fields=("tenant_id", "confirm_token")))


class ReporterLink(Model):
    """A link in an e-mail letting the reporter of one ticket act on it, its secret stored as a hash.

    The link does what the process lets `reporter` do in the ticket's current
    state (`engine/service/reporter_links.py`). It stops working when it
    expires, is revoked, the ticket closes, or the reporter contact is erased.
    """

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("reporter_links")
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        f"{APP}.Ticket", related_name="reporter_links", on_delete=fields.CASCADE
    )
    #: the reporter the link speaks for: a contact (no account) or an account (exactly one is set)
    contact: fields.ForeignKeyNullableRelation[ReporterContact] = fields.ForeignKeyField(
        f"{APP}.ReporterContact", related_name="reporter_links", null=True, on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="reporter_links", null=True, on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64)  # sha256 of the secret in the link, hex
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "reporter_links"
        unique_together = (("tenant", "token_hash"),)
        indexes = (Index(fields=("tenant_id", "ticket_id")),)


class AddressPoint(Model):
    """An address of the city (street, house number, postcode, place) with its point, from its register.

    Imported from a PRG point-address CSV (`komunikator addresses import`,
    engine/service/addresses.py). `street_key` and `number_key` are folded
    (lower case, no diacritics, no ul.) for prefix search.
    """

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("address_points")
    #: the identifier of the point in the register (PRG PA_IIP_IDENTYFIKATOR), kept across imports: Open311 address_id
    ref = fields.CharField(max_length=100, null=True)
    place = fields.CharField(max_length=100)
    street = fields.CharField(max_length=150, null=True)  # null: a village without streets
    number = fields.CharField(max_length=20)
    postcode = fields.CharField(max_length=6, null=True)
    street_key = fields.CharField(max_length=150)
    number_key = fields.CharField(max_length=20)
    lat = fields.FloatField()
    lon = fields.FloatField()
    #: the district (tenant.geography) the point lies in, when the city has districts
    district = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "address_points"
        indexes = (Index(fields=("tenant_id", "street_key", "number_key")), Index(fields=("tenant_id", "lat")),
                   Index(fields=("tenant_id", "ref")))


class Ticket(Model):
    """A report (zgłoszenie) running its category's process."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("tickets")
    number = fields.CharField(max_length=32)  # ZG-2026-000123, unique per tenant
    category = fields.CharField(max_length=64)
    process = fields.CharField(max_length=64)
    state = fields.CharField(max_length=64)
    public_status = fields.CharField(max_length=16, default="open")  # PUBLIC_STATUSES
    responsible_unit = fields.CharField(max_length=64)
    priority = fields.CharField(max_length=16, default="normal")
    step = fields.IntField(default=0)
    description = fields.TextField(default="")
    lat = fields.FloatField(null=True)
    lon = fields.FloatField(null=True)
    address = fields.CharField(max_length=300, null=True)
    channel = fields.CharField(max_length=32)  # public, staff, open311 …
    reporter_user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="reported_tickets", null=True, on_delete=fields.SET_NULL
    )
    reporter_contact: fields.ForeignKeyNullableRelation[ReporterContact] = fields.ForeignKeyField(
        f"{APP}.ReporterContact", related_name="tickets", null=True, on_delete=fields.SET_NULL
    )
    definition_version: fields.ForeignKeyRelation[DefinitionVersion] = fields.ForeignKeyField(
        f"{APP}.DefinitionVersion", related_name="tickets", on_delete=fields.RESTRICT
    )
    state_entered_at = fields.DatetimeField()
    closed_at = fields.DatetimeField(null=True)
    due_at = fields.DatetimeField(null=True)
    sla_paused_at = fields.DatetimeField(null=True)
    #: the state before the current one, where a `to: $previous` transition leads (migration 0009)
    previous_state = fields.CharField(max_length=64, null=True)
    #: the district of the city (tenant.geography) the pin lies in, set on intake and when the pin moves (0017)
    district = fields.CharField(max_length=64, null=True)
    duplicate_of: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        f"{APP}.Ticket", related_name="duplicates", null=True, on_delete=fields.SET_NULL
    )
    #: optimistic concurrency: every write bumps it (`TenantScope.update_ticket`)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "tickets"
        unique_together = (("tenant", "number"),)
        indexes = (
            Index(fields=("tenant_id", "state")),
            Index(fields=("tenant_id", "public_status", "created_at")),
            # a unit's open (or closed) tickets, newest first: the staff list's commonest view
            Index(fields=("tenant_id", "responsible_unit", "public_status", "created_at")),
            Index(fields=("tenant_id", "category")),
            Index(fields=("tenant_id", "created_at")),
            Index(fields=("tenant_id", "due_at")),
            Index(fields=("tenant_id", "reporter_user_id")),
            Index(fields=("tenant_id", "reporter_contact_id")),
            Index(fields=("tenant_id", "duplicate_of_id")),
        )


class TicketAttribute(Model):
    """One category-specific attribute of a ticket (typed by the category's YAML)."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("ticket_attributes")
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        f"{APP}.Ticket", related_name="attributes", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=64)
    value: Any = fields.JSONField(null=True)

    class Meta:
        table = "ticket_attributes"
        unique_together = (("tenant", "ticket", "name"),)


class Follower(Model):
    """Someone notified about a ticket: a user or a reporter contact (exactly one is set)."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("followers")
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        f"{APP}.Ticket", related_name="followers", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="following", null=True, on_delete=fields.CASCADE
    )
    contact: fields.ForeignKeyNullableRelation[ReporterContact] = fields.ForeignKeyField(
        f"{APP}.ReporterContact", related_name="following", null=True, on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "followers"
        # NULLs are distinct in both databases: each pair is unique where it is set
        unique_together = (("tenant", "ticket", "user"), ("tenant", "ticket", "contact"))
        indexes = (Index(fields=("tenant_id", "user_id")), Index(fields=("tenant_id", "contact_id")))


class Task(Model):
    """A piece of work for a unit and maybe a person (engine/runtime/tasks.py)."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("tasks")
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        f"{APP}.Ticket", related_name="tasks", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=16)  # T1, T2 … unique per ticket
    step = fields.IntField()
    created_in = fields.CharField(max_length=64)
    unit = fields.CharField(max_length=64)
    state = fields.CharField(max_length=16, default="open")  # views.TaskState
    assignee: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="assigned_tasks", null=True, on_delete=fields.SET_NULL
    )
    due_at = fields.DatetimeField(null=True)
    title: dict[str, str] | None = fields.JSONField(null=True)  # {locale: text}
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "tasks"
        unique_together = (("tenant", "ticket", "key"),)
        indexes = (
            Index(fields=("tenant_id", "unit", "state")),
            Index(fields=("tenant_id", "assignee_id", "state")),
            Index(fields=("tenant_id", "due_at")),
        )


class TaskAssignment(Model):
    """One hop in a task's history: created, taken, delegated, withdrawn, done, cancelled."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("task_assignments")
    task: fields.ForeignKeyRelation[Task] = fields.ForeignKeyField(
        f"{APP}.Task", related_name="assignments", on_delete=fields.CASCADE
    )
    action = fields.CharField(max_length=32)
    from_unit = fields.CharField(max_length=64, null=True)
    to_unit = fields.CharField(max_length=64, null=True)
    from_assignee: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="delegations_from", null=True, on_delete=fields.SET_NULL
    )
    to_assignee: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="delegations_to", null=True, on_delete=fields.SET_NULL
    )
    reason = fields.TextField(null=True)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="task_actions", null=True, on_delete=fields.SET_NULL
    )  # null: the system
    at = fields.DatetimeField()

    class Meta:
        table = "task_assignments"
        #: (tenant, at): the reports' task events of a period, without reading the whole history (0012)
        indexes = (Index(fields=("tenant_id", "task_id", "at")), Index(fields=("tenant_id", "at")))


class Comment(Model):
    """A note on a ticket (or one of its tasks) with a visibility."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("comments")
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        f"{APP}.Ticket", related_name="comments", on_delete=fields.CASCADE
    )
    task: fields.ForeignKeyNullableRelation[Task] = fields.ForeignKeyField(
        f"{APP}.Task", related_name="comments", null=True, on_delete=fields.SET_NULL
    )
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="comments", null=True, on_delete=fields.SET_NULL
    )  # null: the system or the reporter (see `author_contact`)
    author_contact: fields.ForeignKeyNullableRelation[ReporterContact] = fields.ForeignKeyField(
        f"{APP}.ReporterContact", related_name="comments", null=True, on_delete=fields.SET_NULL
    )
    visibility = fields.CharField(max_length=16)  # COMMENT_VISIBILITIES
    target_unit = fields.CharField(max_length=64, null=True)  # for to_unit
    body = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "comments"
        indexes = (Index(fields=("tenant_id", "ticket_id", "created_at")),)


class AuditEvent(Model):
    """One line of history, append-only (database triggers reject UPDATE and DELETE).

    Personal data is referenced (`reporter_contact`), never copied into
    `before`/`after`, so erasing a contact leaves history intact.
    """

    id = fields.BigIntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("audit_events")
    ticket: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        f"{APP}.Ticket", related_name="audit_events", null=True, on_delete=fields.RESTRICT
    )
    actor_kind = fields.CharField(max_length=16)  # ACTOR_KINDS
    actor_user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="audit_events", null=True, on_delete=fields.RESTRICT
    )
    reporter_contact: fields.ForeignKeyNullableRelation[ReporterContact] = fields.ForeignKeyField(
        f"{APP}.ReporterContact", related_name="audit_events", null=True, on_delete=fields.RESTRICT
    )
    action = fields.CharField(max_length=64)
    before: dict[str, Any] = fields.JSONField(default=dict)
    after: dict[str, Any] = fields.JSONField(default=dict)
    reason = fields.TextField(null=True)
    at = fields.DatetimeField()

    class Meta:
        table = "audit_events"
        indexes = (
            Index(fields=("tenant_id", "ticket_id", "at")),
            Index(fields=("tenant_id", "at")),
            Index(fields=("tenant_id", "actor_user_id")),
        )


class OutboxMessage(Model):
    """A message to deliver after commit: the table is the queue."""

    id = fields.BigIntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("outbox")
    ticket: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        f"{APP}.Ticket", related_name="outbox", null=True, on_delete=fields.SET_NULL
    )
    kind = fields.CharField(max_length=64)  # template or event name
    channel = fields.CharField(max_length=16)  # email, push, inbox
    dedupe_key = fields.CharField(max_length=200)
    payload: dict[str, Any] = fields.JSONField(default=dict)
    status = fields.CharField(max_length=16, default="pending")  # OUTBOX_STATUSES
    attempts = fields.IntField(default=0)
    claimed_until = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)
    #: not before this moment (back-off after a failed attempt), NULL means at once
    next_attempt_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox"
        unique_together = (("tenant", "dedupe_key"),)
        indexes = (
            Index(fields=("tenant_id", "status", "claimed_until")),
            Index(fields=("tenant_id", "status", "next_attempt_at")),
        )


class Attachment(Model):
    """A photo or file on a ticket, a task or a comment (re-encoded, EXIF stripped).

    `storage_key`/`thumb_key` name the blobs in the storage backend; hidden
    attachments (a face, a number plate) are never served publicly.
    """

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("attachments")
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        f"{APP}.Ticket", related_name="attachments", on_delete=fields.CASCADE
    )
    task: fields.ForeignKeyNullableRelation[Task] = fields.ForeignKeyField(
        f"{APP}.Task", related_name="attachments", null=True, on_delete=fields.SET_NULL
    )
    comment: fields.ForeignKeyNullableRelation[Comment] = fields.ForeignKeyField(
        f"{APP}.Comment", related_name="attachments", null=True, on_delete=fields.SET_NULL
    )
    uploaded_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="uploaded_attachments", null=True, on_delete=fields.SET_NULL
    )  # null: the reporter without an account
    visibility = fields.CharField(max_length=16, default="internal")  # internal | public
    content_type = fields.CharField(max_length=64)
    original_name = fields.CharField(max_length=255, default="")
    size = fields.IntField()  # bytes of the stored (re-encoded) file
    width = fields.IntField(null=True)
    height = fields.IntField(null=True)
    sha256 = fields.CharField(max_length=64)  # of the stored file
    storage_key = fields.CharField(max_length=255)
    thumb_key = fields.CharField(max_length=255, null=True)
    hidden_at = fields.DatetimeField(null=True)
    hidden_reason = fields.TextField(null=True)
    hidden_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="hidden_attachments", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "attachments"
        indexes = (Index(fields=("tenant_id", "ticket_id", "created_at")),)


class TicketSearch(Model):
    """The searchable text of a ticket, rewritten in the transaction that changes it.

    The full-text indexes over `document` are not modelled by the ORM: PostgreSQL
    (`simple` configuration + `unaccent`) and SQLite (FTS5, `remove_diacritics 2`)
    get theirs from `engine/store/extras.py`.
    """

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("ticket_search")
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        f"{APP}.Ticket", related_name="search", on_delete=fields.CASCADE
    )
    document = fields.TextField(default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "ticket_search"
        unique_together = (("tenant", "ticket"),)


class Open311Client(Model):
    """An application allowed to post Open311 requests to one city, its api_key stored as a hash.

    Keys are issued and revoked by operators (`komunikator open311 keys`),
    every change audited. The raw key is shown once and never stored.
    """

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("open311_clients")
    name = fields.CharField(max_length=200)  # the application, as the operator names it
    contact = fields.CharField(max_length=254, null=True)  # who to ask about it (an e-mail address)
    key_hash = fields.CharField(max_length=64)  # SHA-256 of the api_key, hex
    created_at = fields.DatetimeField()
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "open311_clients"
        unique_together = (("tenant", "key_hash"),)


class Open311Token(Model):
    """The token an Open311 POST answered with, naming the report it made (GET tokens)."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("open311_tokens")
    token = fields.CharField(max_length=64)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        f"{APP}.Ticket", related_name="open311_tokens", on_delete=fields.CASCADE
    )
    client: fields.ForeignKeyNullableRelation[Open311Client] = fields.ForeignKeyField(
        f"{APP}.Open311Client", related_name="tokens", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()

    class Meta:
        table = "open311_tokens"
        unique_together = (("tenant", "token"),)
        indexes = (Index(fields=("tenant_id", "ticket_id")),)


class Open311Dispatch(Model):
    """A task handed to an external unit over Open311, and what the remote system says of it.

    `marker` is the stable idempotency key sent with every POST of this task,
    `remote_id`/`remote_token` what the remote answered (a retry after a crash
    resolves them instead of posting again).
    """

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("open311_dispatches")
    task: fields.ForeignKeyRelation[Task] = fields.ForeignKeyField(
        f"{APP}.Task", related_name="open311_dispatches", on_delete=fields.CASCADE
    )
    unit = fields.CharField(max_length=64)
    endpoint = fields.CharField(max_length=500)
    service_code = fields.CharField(max_length=64)
    marker = fields.CharField(max_length=64)
    status = fields.CharField(max_length=16, default="pending")  # pending, sent, closed, gone
    remote_id = fields.CharField(max_length=128, null=True)
    remote_token = fields.CharField(max_length=128, null=True)
    remote_status = fields.CharField(max_length=16, null=True)  # open or closed, as the remote last said
    remote_updated_at = fields.DatetimeField(null=True)
    remote_notes: list[Any] = fields.JSONField(default=list)  # status notes already in the timeline
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    polled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "open311_dispatches"
        unique_together = (("tenant", "marker"),)
        indexes = (Index(fields=("tenant_id", "status", "polled_at")), Index(fields=("tenant_id", "task_id")))


class Timer(Model):
    """A process timer armed for a ticket (`SetTimer`), fired or cancelled later."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("timers")
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        f"{APP}.Ticket", related_name="timers", on_delete=fields.CASCADE
    )
    timer_name = fields.CharField(max_length=64, default="")  # its key in the process's `timers:`
    #: before migration 0006 timers were keyed by their position in a list; kept for those rows only
    timer_index = fields.IntField(null=True)
    state = fields.CharField(max_length=64)  # the ticket state it watches
    status = fields.CharField(max_length=16, default="armed")  # TIMER_STATES
    fire_at = fields.DatetimeField()
    fired_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "timers"
        indexes = (Index(fields=("tenant_id", "status", "fire_at")), Index(fields=("tenant_id", "ticket_id")))


class IdempotencyKey(Model):
    """The first response to a request carrying an `Idempotency-Key`."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("idempotency_keys")
    key = fields.CharField(max_length=200)
    request_hash = fields.CharField(max_length=64)
    response: Any = fields.JSONField(null=True)
    status_code = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "idempotency_keys"
        unique_together = (("tenant", "key"),)
        indexes = (Index(fields=("tenant_id", "created_at")),)


class PushSubscription(Model):
    """A browser or device a resident receives Web Push on: its push service endpoint and RFC 8291 keys."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("push_subscriptions")
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="push_subscriptions", on_delete=fields.CASCADE
    )
    endpoint = fields.TextField()  # the push service URL (RFC 8030), a capability: treated as a secret
    endpoint_hash = fields.CharField(max_length=64)  # SHA-256 of the endpoint, hex (the unique key)
    p256dh = fields.CharField(max_length=128)  # the browser public key, base64url
    auth = fields.CharField(max_length=64)  # the auth secret, base64url
    label = fields.CharField(max_length=200, default="")  # the device as the resident sees it in settings
    created_at = fields.DatetimeField(auto_now_add=True)
    last_sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "push_subscriptions"
        unique_together = (("tenant", "endpoint_hash"),)
        indexes = (Index(fields=("tenant_id", "user_id")),)


class ResidentSettings(Model):
    """What a resident wants to hear and how: channels, topics and areas (plugins read them)."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("resident_settings")
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="resident_settings", on_delete=fields.CASCADE
    )
    channels: dict[str, Any] = fields.JSONField(default=dict)  # channel name to on or off (missing: on)
    topics: list[Any] = fields.JSONField(default=list)  # topic ids plugins define
    areas: list[Any] = fields.JSONField(default=list)  # district ids or points with a radius
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "resident_settings"
        unique_together = (("tenant", "user"),)


class AccountToken(Model):
    """A one-time link sent by e-mail: verify an address, reset a password, change the e-mail, claim a report."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("account_tokens")
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="account_tokens", on_delete=fields.CASCADE
    )
    purpose = fields.CharField(max_length=16)  # ACCOUNT_TOKEN_PURPOSES
    token_hash = fields.CharField(max_length=64)  # SHA-256 of the secret in the link, hex
    email = fields.CharField(max_length=254)  # where the link was sent (the new address for a change)
    ticket: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        f"{APP}.Ticket", related_name="account_tokens", null=True, on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "account_tokens"
        unique_together = (("tenant", "token_hash"),)
        indexes = (Index(fields=("tenant_id", "user_id", "purpose")),)


class SavedView(Model):
    """A named view of a universal list: filter, sort and columns, for its owner, their unit or the office."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("saved_views")
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="saved_views", on_delete=fields.CASCADE
    )
    list_name = fields.CharField(max_length=32)  # engine/lists/declared.py LISTS
    name = fields.CharField(max_length=100)
    filter_document: dict[str, Any] = fields.JSONField(default=dict)
    sort = fields.CharField(max_length=300, default="")
    columns = fields.TextField(default="")
    sharing = fields.CharField(max_length=16, default="personal")  # VIEW_SHARING
    #: the unit a view shared with a unit is shared with (its members and those of units below see it)
    unit = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "saved_views"
        indexes = (Index(fields=("tenant_id", "list_name", "sharing")), Index(fields=("tenant_id", "owner_id")))


class DefaultView(Model):
    """The saved view a user opens a list with (one per user and list)."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("default_views")
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="default_views", on_delete=fields.CASCADE
    )
    list_name = fields.CharField(max_length=32)
    view: fields.ForeignKeyRelation[SavedView] = fields.ForeignKeyField(
        f"{APP}.SavedView", related_name="defaults", on_delete=fields.CASCADE
    )

    class Meta:
        table = "default_views"
        unique_together = (("tenant", "user", "list_name"),)


#: Where a background export is (engine/lists/jobs.py).
EXPORT_STATUSES = ("pending", "running", "done", "failed")


class ListExport(Model):
    """A big export of a universal list's view, written by a background job for the user who asked for it."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = _tenant("list_exports")
    requester: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        f"{APP}.User", related_name="list_exports", on_delete=fields.CASCADE
    )
    list_name = fields.CharField(max_length=32)  # engine/lists/declared.py LISTS
    format = fields.CharField(max_length=8)  # csv, xlsx
    filter_document: dict[str, Any] = fields.JSONField(default=dict)
    sort = fields.CharField(max_length=300, default="")
    columns = fields.TextField(default="")
    language = fields.CharField(max_length=8, default="pl")
    status = fields.CharField(max_length=16, default="pending")  # EXPORT_STATUSES
    #: rows written so far, and the view's count when it was asked for (maybe the planner's estimate)
    rows = fields.IntField(default=0)
    total = fields.IntField(null=True)
    #: the file's name in the exports folder (KOMUNIKATOR_EXPORT_DIR), once written
    file_name = fields.CharField(max_length=200, null=True)
    error = fields.TextField(null=True)
    #: how many times a worker started writing it (an unexpected failure is retried up to a bound)
    attempts = fields.IntField(default=0)
    #: a worker writing it holds it until then (a lapsed lease lets another start again)
    lease_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)
    #: the file is deleted, and the link answers 410, from then on
    expires_at = fields.DatetimeField(null=True)

    class Meta:
        table = "list_exports"
        indexes = (Index(fields=("tenant_id", "status")), Index(fields=("tenant_id", "requester_id")))


#: Every model, in dependency order; `tenants` is the only table without `tenant_id`.
ALL_MODELS: tuple[type[Model], ...] = (
    Tenant, User, Membership, ApiToken, LoginFailure, RateEvent, Session, DefinitionVersion, TicketCounter,
    ReporterContact, ReporterLink, AddressPoint, Ticket, TicketAttribute, Follower, Task, TaskAssignment, Comment,
    AuditEvent, OutboxMessage, Timer, IdempotencyKey, Attachment, TicketSearch,
    Open311Client, Open311Token, Open311Dispatch, PushSubscription, ResidentSettings, AccountToken,
    SavedView, DefaultView, ListExport,
)
TENANT_OWNED: tuple[type[Model], ...] = ALL_MODELS[1:]
