"""The declared lists: tickets (with the city's category attributes), tasks, comments, audit events,
outgoing messages and users.

Each is a `ListSpec`: what it reads (FROM), its columns and filterable
fields, who opens it and which rows each reader sees. Row visibility is
`runtime.access` written in SQL (`ticket_list.visible_units`), and for rows
about a ticket the same reading rights `runtime.capabilities` grants:

- tickets: the tickets the user sees (`sees_ticket`);
- tasks: of those tickets, the tasks of the user's units, and every task
  where a role with `sees_other_tasks` sees the ticket (`Capabilities.tasks`);
- comments: public ones, one's own, those about the user's units' tasks or
  sent to their units, and all where a role with `sees_internal_comments`
  sees the ticket (`Capabilities.sees_comment`);
- audit events and outgoing messages: of tickets whose full history a role
  of the user reads (`sees_full_history`); rows about no ticket only for
  user managers (`manages_users`);
- users: staff accounts, for user managers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.lists.spec import Column, ListField, ListSpec, Sql, Text, const
from komunikator.engine.runtime.views import UserView
from komunikator.engine.schema.categories import PRIORITIES
from komunikator.engine.schema.org import Role
from komunikator.engine.service.ticket_list import (
    matching_condition,
    overdue_condition,
    task_overdue_condition,
    visible_condition,
    visible_units,
)
from komunikator.engine.store.models import COMMENT_VISIBILITIES, OUTBOX_STATUSES

_SAFE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _t(pl: str, en: str) -> Text:
    return {"pl": pl, "en": en}


def texts(given: Mapping[Any, str]) -> Text:
    """A YAML text (`{pl: …, en: …}`) as a label."""
    return {str(k): v for k, v in given.items()}


def _fixed(options: Mapping[str, Text]) -> Callable[[CompiledTenant], Mapping[str, Text]]:
    return lambda _tenant: options


PRIORITY_LABELS = {"low": _t("niski", "low"), "normal": _t("normalny", "normal"), "high": _t("wysoki", "high"),
                   "urgent": _t("pilny", "urgent")}
PUBLIC_STATUS_LABELS = {"open": _t("otwarte", "open"), "closed": _t("zamknięte", "closed")}
CHANNEL_LABELS = {"public": _t("portal", "portal"), "staff": _t("urząd", "office"), "open311": _t("Open311", "Open311")}
TASK_STATE_LABELS = {"open": _t("otwarte", "open"), "in_progress": _t("w realizacji", "in progress"),
                     "done": _t("wykonane", "done"), "withdrawn": _t("wycofane", "withdrawn"),
                     "cancelled": _t("anulowane", "cancelled")}
VISIBILITY_LABELS = {"internal": _t("wewnętrzny", "internal"), "public": _t("publiczny", "public"),
                     "to_reporter": _t("do zgłaszającego", "to the reporter"),
                     "to_unit": _t("do komórki", "to a unit")}
OUTBOX_STATUS_LABELS = {"pending": _t("oczekuje", "pending"), "sent": _t("wysłana", "sent"),
                        "failed": _t("nieudana", "failed")}
OUTBOX_CHANNEL_LABELS = {"email": _t("e-mail", "e-mail"), "push": _t("push", "push"), "inbox": _t("skrzynka", "inbox")}
ACTOR_LABELS = {"user": _t("pracownik", "staff member"), "reporter": _t("zgłaszający", "reporter"),
                "system": _t("system", "system")}
assert set(PRIORITY_LABELS) == set(PRIORITIES) and set(VISIBILITY_LABELS) == set(COMMENT_VISIBILITIES)  # noqa: S101
assert set(OUTBOX_STATUS_LABELS) == set(OUTBOX_STATUSES)  # noqa: S101


def units_of(tenant: CompiledTenant) -> Mapping[str, Text]:
    """The city's units by code."""
    return {code: texts(unit.name) for code, unit in tenant.units.items()}


def categories_of(tenant: CompiledTenant) -> Mapping[str, Text]:
    """The city's categories by code."""
    return {code: texts(c.spec.name) for code, c in tenant.categories.items()}


def states_of(tenant: CompiledTenant) -> Mapping[str, Text]:
    """Every process state by code (the first process naming a state gives its label)."""
    out: dict[str, Text] = {}
    for process in tenant.processes.values():
        for code, state in process.states.items():
            out.setdefault(code, texts(state.label))
    return out


# -- who sees what ------------------------------------------------------------------------------


def _with_roles(tenant: CompiledTenant, user: UserView, right: Callable[[Role], bool]) -> UserView:
    """The user with only the memberships whose role grants `right`."""
    kept = tuple(m for m in user.memberships if m.role in tenant.roles and right(tenant.roles[m.role]))
    return replace(user, memberships=kept)


def ticket_visible(q: Sql, user: UserView, right: Callable[[Role], bool] | None = None) -> str:
    """The condition on the ticket `t` that `user` (counting only roles granting `right`) sees it."""
    view = user if right is None else _with_roles(q.tenant, user, right)
    if view.kind != "staff":
        return "1 = 0"
    return visible_condition(q.s, visible_units(q.tenant, view)) or "1 = 1"


def own_units(tenant: CompiledTenant, user: UserView) -> list[str]:
    """The units the user's memberships cover (`Capabilities.own_units`)."""
    return sorted({u for m in user.memberships for u in tenant.unit_subtree.get(m.unit, frozenset())})


def _in(q: Sql, expression: str, values: list[str]) -> str:
    return f"{expression} IN {q.s.values(values)}" if values else "1 = 0"


def _tasks_visible(q: Sql, user: UserView) -> str:
    mine = _in(q, "k.unit", own_units(q.tenant, user))
    others = ticket_visible(q, user, lambda r: r.sees_other_tasks)
    return f"({ticket_visible(q, user)} AND ({mine} OR {others}))"


def _comments_visible(q: Sql, user: UserView) -> str:
    units = own_units(q.tenant, user)
    author = q.s.value(int(user.id)) if user.id.isdigit() else "NULL"
    about = (f"c.task_id IN (SELECT id FROM tasks WHERE tenant_id = {q.s.tenant()} AND {_in(q, 'unit', units)})"  # noqa: S608
             if units else "1 = 0")
    either = [
        "c.visibility = 'public'",
        f"c.author_id = {author}",
        about,
        f"(c.visibility = 'to_unit' AND {_in(q, 'c.target_unit', units)})",
        ticket_visible(q, user, lambda r: r.sees_internal_comments),
    ]
    return f"({ticket_visible(q, user)} AND ({' OR '.join(either)}))"


def manages_users(tenant: CompiledTenant, user: UserView) -> bool:
    """Whether one of the user's roles manages users."""
    return user.kind == "staff" and any(
        tenant.roles[m.role].manages_users for m in user.memberships if m.role in tenant.roles)


def _history_visible(q: Sql, user: UserView) -> str:
    about = f"(t.id IS NOT NULL AND {ticket_visible(q, user, lambda r: r.sees_full_history)})"
    return f"({about} OR t.id IS NULL)" if manages_users(q.tenant, user) else about


def any_staff(_tenant: CompiledTenant, user: UserView) -> bool:
    """Every staff member opens the list (rows are narrowed per user)."""
    return user.kind == "staff"


def history_readers(tenant: CompiledTenant, user: UserView) -> bool:
    """Staff with a role that reads the full history or manages users."""
    return manages_users(tenant, user) or (user.kind == "staff" and any(
        tenant.roles[m.role].sees_full_history for m in user.memberships if m.role in tenant.roles))


# -- shared expressions -------------------------------------------------------------------------


def _user_name(column: str) -> str:
    return (f"(SELECT CASE WHEN un.display_name = '' THEN un.email ELSE un.display_name END "  # noqa: S608
            f"FROM users un WHERE un.id = {column})")


def _search(q: Sql, text: str) -> str:
    return matching_condition(q.s, text)


def _overdue_ticket(q: Sql) -> str:
    return overdue_condition(q.s, q.now)


def _priority_rank(_q: Sql) -> str:
    return "CASE t.priority " + " ".join(f"WHEN '{p}' THEN {n}" for n, p in enumerate(PRIORITIES)) + " END"


def _ticket_number() -> Column:
    return Column("ticket", _t("Zgłoszenie", "Ticket"), "ticket_link", const("t.number"))  # NULL: about no ticket


def _ticket_field() -> ListField:
    return ListField("ticket", _t("Numer zgłoszenia", "Ticket number"), "text", const("t.number"))


def _category(default: bool = True) -> tuple[Column, ListField]:
    label = _t("Kategoria", "Category")
    return (Column("category", label, "choice", const("t.category"), nullable=False, default=default,
                   choices=categories_of),
            ListField("category", label, "choice", const("t.category"), choices=categories_of))


# -- category attributes ------------------------------------------------------------------------


def _attribute(name: str, extract: Callable[[Sql], str]) -> Callable[[Sql], str]:
    def sql(q: Sql) -> str:
        return (f"(SELECT {extract(q)} FROM ticket_attributes a WHERE a.tenant_id = t.tenant_id "  # noqa: S608
                f"AND a.ticket_id = t.id AND a.name = '{name}')")
    return sql


def _as_text(q: Sql) -> str:
    return "a.value->>'value'" if q.postgres else "json_extract(a.value, '$.value')"


def _as_number(q: Sql) -> str:
    if q.postgres:
        return "CASE WHEN jsonb_typeof(a.value->'value') = 'number' THEN (a.value->>'value')::float8 END"
    return "CASE WHEN json_type(a.value, '$.value') IN ('integer', 'real') THEN json_extract(a.value, '$.value') END"


def attribute_holds(name: str) -> Callable[[Sql, list[str]], str]:
    """The condition that the multichoice attribute `name` holds one of `values`."""
    def sql(q: Sql, values: list[str]) -> str:
        if q.postgres:
            elements = ("jsonb_array_elements_text(CASE WHEN jsonb_typeof(a.value->'value') = 'array' "
                        "THEN a.value->'value' ELSE '[]'::jsonb END) e(v)")
            item = "e.v"
        else:
            elements, item = "json_each(a.value, '$.value') e", "e.value"
        return (f"EXISTS (SELECT 1 FROM ticket_attributes a, {elements} WHERE a.tenant_id = t.tenant_id "  # noqa: S608
                f"AND a.ticket_id = t.id AND a.name = '{name}' AND {item} IN {q.s.values(values)})")
    return sql


def attribute_items(tenant: CompiledTenant) -> tuple[list[Column], list[ListField]]:
    """A column and a field per category attribute of the city (`attr.<name>`).

    An attribute name the categories give different types is left out (its
    values could not be compared); datetime attributes filter as text.
    """
    seen: dict[str, tuple[str, Text, dict[str, Text]]] = {}
    clashing: set[str] = set()
    for category in tenant.categories.values():
        for name, spec in category.spec.attributes.items():
            if not _SAFE_NAME.match(name):
                continue
            options = {code: texts(label) for code, label in (spec.values or {}).items()}
            if name in seen:
                if seen[name][0] != spec.type:
                    clashing.add(name)
                else:
                    seen[name][2].update({k: v for k, v in options.items() if k not in seen[name][2]})
                continue
            seen[name] = (spec.type, texts(spec.label), options)
    columns: list[Column] = []
    fields: list[ListField] = []
    for name, (kind, label, options) in sorted(seen.items()):
        if name in clashing:
            continue
        key = f"attr.{name}"
        if kind in ("choice", "multichoice"):
            multi = kind == "multichoice"
            choices = _fixed(options)
            sql = _attribute(name, _as_text)
            columns.append(Column(key, label, "choice", sql, default=False, choices=choices, sortable=not multi,
                                  multi=multi))
            fields.append(ListField(key, label, "choice", sql, choices=choices, multi=multi,
                                    holds=attribute_holds(name) if multi else None))
        elif kind == "number":
            sql = _attribute(name, _as_number)
            columns.append(Column(key, label, "number", sql, default=False))
            fields.append(ListField(key, label, "number", sql))
        else:
            sql = _attribute(name, _as_text)
            columns.append(Column(key, label, "text", sql, default=False))
            fields.append(ListField(key, label, "text", sql))
    return columns, fields


# -- the lists ----------------------------------------------------------------------------------


def tickets_list(tenant: CompiledTenant) -> ListSpec:
    """Tickets, with the city's category attributes."""
    category_column, category_field = _category()
    unit = _t("Jednostka", "Unit")
    state = _t("Stan", "State")
    columns = [
        Column("number", _t("Numer", "Number"), "ticket_link", const("t.number"), nullable=False),
        category_column,
        Column("state", state, "choice", const("t.state"), nullable=False, choices=states_of),
        Column("public_status", _t("Status publiczny", "Public status"), "choice", const("t.public_status"),
               nullable=False, default=False, choices=_fixed(PUBLIC_STATUS_LABELS)),
        Column("unit", unit, "choice", const("t.responsible_unit"), nullable=False, choices=units_of),
        Column("priority", _t("Priorytet", "Priority"), "choice", const("t.priority"), nullable=False,
               choices=_fixed(PRIORITY_LABELS), sort_sql=_priority_rank),
        Column("channel", _t("Kanał", "Channel"), "choice", const("t.channel"), nullable=False, default=False,
               choices=_fixed(CHANNEL_LABELS)),
        Column("created_at", _t("Przyjęto", "Received"), "datetime", const("t.created_at"), nullable=False),
        Column("due_at", _t("Termin", "Deadline"), "datetime", const("t.due_at")),
        Column("closed_at", _t("Zamknięto", "Closed"), "datetime", const("t.closed_at"), default=False),
        Column("overdue", _t("Po terminie", "Overdue"), "bool", _overdue_ticket, sortable=False, default=False),
        Column("address", _t("Adres", "Address"), "text", const("t.address")),
        Column("description", _t("Opis", "Description"), "text", const("t.description"), sortable=False,
               default=False),
    ]
    fields = [
        ListField("number", _t("Numer", "Number"), "text", const("t.number")),
        category_field,
        ListField("state", state, "choice", const("t.state"), choices=states_of),
        ListField("public_status", _t("Status publiczny", "Public status"), "choice", const("t.public_status"),
                  choices=_fixed(PUBLIC_STATUS_LABELS)),
        ListField("unit", unit, "reference", const("t.responsible_unit"), choices=units_of),
        ListField("priority", _t("Priorytet", "Priority"), "choice", const("t.priority"),
                  choices=_fixed(PRIORITY_LABELS)),
        ListField("channel", _t("Kanał", "Channel"), "choice", const("t.channel"), choices=_fixed(CHANNEL_LABELS)),
        ListField("created_at", _t("Przyjęto", "Received"), "date", const("t.created_at")),
        ListField("due_at", _t("Termin", "Deadline"), "date", const("t.due_at")),
        ListField("closed_at", _t("Zamknięto", "Closed"), "date", const("t.closed_at")),
        ListField("overdue", _t("Po terminie", "Overdue"), "bool", _overdue_ticket),
        ListField("address", _t("Adres", "Address"), "text", const("t.address")),
        ListField("description", _t("Opis", "Description"), "text", const("t.description")),
    ]
    attribute_columns, attribute_fields = attribute_items(tenant)
    return ListSpec(
        "tickets", _t("Zgłoszenia", "Tickets"), "tickets t", "t", tuple(columns + attribute_columns),
        tuple(fields + attribute_fields), any_staff, (("created_at", True),),
        lambda q, user: ticket_visible(q, user), _search,
    )


def tasks_list(_tenant: CompiledTenant) -> ListSpec:
    """Tasks, with their tickets' number and category."""
    category_column, category_field = _category(default=False)
    unit, state, due = _t("Komórka", "Unit"), _t("Stan zadania", "Task state"), _t("Termin", "Deadline")
    assignee = _t("Wykonawca", "Assignee")

    def overdue(q: Sql) -> str:  # runtime.overdue.task_overdue: active, its ticket's clock runs, deadline come
        return task_overdue_condition(q.s, q.now)

    return ListSpec(
        "tasks", _t("Zadania", "Tasks"), "tasks k JOIN tickets t ON t.id = k.ticket_id", "k",
        (
            _ticket_number(),
            Column("key", _t("Zadanie", "Task"), "text", const("k.key"), nullable=False),
            Column("unit", unit, "choice", const("k.unit"), nullable=False, choices=units_of),
            Column("state", state, "choice", const("k.state"), nullable=False, choices=_fixed(TASK_STATE_LABELS)),
            Column("assignee", assignee, "text", const(_user_name("k.assignee_id"))),
            Column("due_at", due, "datetime", const("k.due_at")),
            Column("created_at", _t("Utworzono", "Created"), "datetime", const("k.created_at"), nullable=False),
            Column("overdue", _t("Po terminie", "Overdue"), "bool", overdue, sortable=False, default=False),
            category_column,
        ),
        (
            _ticket_field(),
            ListField("unit", unit, "reference", const("k.unit"), choices=units_of),
            ListField("state", state, "choice", const("k.state"), choices=_fixed(TASK_STATE_LABELS)),
            ListField("assignee", assignee, "reference", const("k.assignee_id")),
            ListField("due_at", due, "date", const("k.due_at")),
            ListField("created_at", _t("Utworzono", "Created"), "date", const("k.created_at")),
            ListField("overdue", _t("Po terminie", "Overdue"), "bool", overdue),
            ListField("ticket_unit", _t("Jednostka zgłoszenia", "Ticket's unit"), "reference",
                      const("t.responsible_unit"), choices=units_of),
            category_field,
        ),
        any_staff, (("due_at", False),), _tasks_visible, _search,
    )


def comments_list(_tenant: CompiledTenant) -> ListSpec:
    """Comments on tickets."""
    kind, author, written = _t("Rodzaj", "Kind"), _t("Autor", "Author"), _t("Dodano", "Added")
    target = _t("Do komórki", "To unit")
    return ListSpec(
        "comments", _t("Komentarze", "Comments"), "comments c JOIN tickets t ON t.id = c.ticket_id", "c",
        (
            _ticket_number(),
            Column("created_at", written, "datetime", const("c.created_at"), nullable=False),
            Column("visibility", kind, "choice", const("c.visibility"), nullable=False,
                   choices=_fixed(VISIBILITY_LABELS)),
            Column("author", author, "text", const(_user_name("c.author_id"))),
            Column("target_unit", target, "choice", const("c.target_unit"), default=False, choices=units_of),
            Column("body", _t("Treść", "Text"), "text", const("c.body"), sortable=False),
        ),
        (
            _ticket_field(),
            ListField("created_at", written, "date", const("c.created_at")),
            ListField("visibility", kind, "choice", const("c.visibility"), choices=_fixed(VISIBILITY_LABELS)),
            ListField("author", author, "reference", const("c.author_id")),
            ListField("target_unit", target, "reference", const("c.target_unit"), choices=units_of),
            ListField("body", _t("Treść", "Text"), "text", const("c.body")),
            ListField("ticket_unit", _t("Jednostka zgłoszenia", "Ticket's unit"), "reference",
                      const("t.responsible_unit"), choices=units_of),
        ),
        any_staff, (("created_at", True),), _comments_visible, _search,
    )


def audit_list(_tenant: CompiledTenant) -> ListSpec:
    """The audit history."""
    at, action, actor = _t("Kiedy", "When"), _t("Działanie", "Action"), _t("Kto", "Who")
    kind = _t("Rodzaj wykonawcy", "Actor kind")
    return ListSpec(
        "audit", _t("Historia zmian", "Audit events"), "audit_events e LEFT JOIN tickets t ON t.id = e.ticket_id",
        "e",
        (
            Column("at", at, "datetime", const("e.at"), nullable=False),
            _ticket_number(),
            Column("action", action, "text", const("e.action"), nullable=False),
            Column("actor_kind", kind, "choice", const("e.actor_kind"), nullable=False, default=False,
                   choices=_fixed(ACTOR_LABELS)),
            Column("actor", actor, "text", const(_user_name("e.actor_user_id"))),
            Column("reason", _t("Uzasadnienie", "Reason"), "text", const("e.reason"), sortable=False),
        ),
        (
            ListField("at", at, "date", const("e.at")),
            _ticket_field(),
            ListField("action", action, "text", const("e.action")),
            ListField("actor_kind", kind, "choice", const("e.actor_kind"), choices=_fixed(ACTOR_LABELS)),
            ListField("actor", actor, "reference", const("e.actor_user_id")),
            ListField("reason", _t("Uzasadnienie", "Reason"), "text", const("e.reason")),
        ),
        history_readers, (("at", True),), _history_visible, _search,
    )


def outbox_list(_tenant: CompiledTenant) -> ListSpec:
    """Outgoing messages (without their content and recipients)."""
    created, kind, channel, status = (_t("Utworzono", "Created"), _t("Wiadomość", "Message"), _t("Kanał", "Channel"),
                                      _t("Status", "Status"))
    return ListSpec(
        "outbox", _t("Wiadomości wychodzące", "Outgoing messages"),
        "outbox o LEFT JOIN tickets t ON t.id = o.ticket_id", "o",
        (
            Column("created_at", created, "datetime", const("o.created_at"), nullable=False),
            _ticket_number(),
            Column("kind", kind, "text", const("o.kind"), nullable=False),
            Column("channel", channel, "choice", const("o.channel"), nullable=False,
                   choices=_fixed(OUTBOX_CHANNEL_LABELS)),
            Column("status", status, "choice", const("o.status"), nullable=False, choices=_fixed(OUTBOX_STATUS_LABELS)),
            Column("attempts", _t("Próby", "Attempts"), "number", const("o.attempts"), nullable=False),
            Column("sent_at", _t("Wysłano", "Sent"), "datetime", const("o.sent_at")),
            Column("last_error", _t("Ostatni błąd", "Last error"), "text", const("o.last_error"), sortable=False,
                   default=False),
        ),
        (
            ListField("created_at", created, "date", const("o.created_at")),
            _ticket_field(),
            ListField("kind", kind, "text", const("o.kind")),
            ListField("channel", channel, "choice", const("o.channel"), choices=_fixed(OUTBOX_CHANNEL_LABELS)),
            ListField("status", status, "choice", const("o.status"), choices=_fixed(OUTBOX_STATUS_LABELS)),
            ListField("attempts", _t("Próby", "Attempts"), "number", const("o.attempts")),
            ListField("sent_at", _t("Wysłano", "Sent"), "date", const("o.sent_at")),
        ),
        history_readers, (("created_at", True),), _history_visible, _search,
    )


def _memberships(q: Sql) -> str:
    joined = ("string_agg(m.unit || ':' || m.role, ', ' ORDER BY m.unit, m.role)" if q.postgres
              else "group_concat(m.unit || ':' || m.role, ', ')")
    return f"(SELECT {joined} FROM memberships m WHERE m.user_id = u.id)"  # noqa: S608


def _users_search(q: Sql, text: str) -> str:
    value = q.s.value(text.strip().lower())
    find = "strpos" if q.postgres else "instr"
    return f"({find}(lower(u.email), {value}) > 0 OR {find}(lower(u.display_name), {value}) > 0)"


def users_list(_tenant: CompiledTenant) -> ListSpec:
    """Staff accounts, for user managers."""
    email, name, active = _t("E-mail", "E-mail"), _t("Imię i nazwisko", "Name"), _t("Aktywne", "Active")
    return ListSpec(
        "users", _t("Użytkownicy", "Users"), "users u", "u",
        (
            Column("display_name", name, "text", const("u.display_name"), nullable=False),
            Column("email", email, "text", const("u.email"), nullable=False),
            Column("active", active, "bool", const("u.active"), sortable=False),
            Column("memberships", _t("Role", "Roles"), "text", _memberships, sortable=False),
            Column("created_at", _t("Utworzono", "Created"), "datetime", const("u.created_at"), default=False),
        ),
        (
            ListField("display_name", name, "text", const("u.display_name")),
            ListField("email", email, "text", const("u.email")),
            ListField("active", active, "bool", const("u.active")),
            ListField("created_at", _t("Utworzono", "Created"), "date", const("u.created_at")),
        ),
        manages_users, (("display_name", False),), lambda _q, _user: "1 = 1", _users_search,
        where="u.kind = 'staff'",
    )


#: Every declared list, by name, in the navigation's order.
LISTS: Mapping[str, Callable[[CompiledTenant], ListSpec]] = {
    "tickets": tickets_list, "tasks": tasks_list, "comments": comments_list, "audit": audit_list,
    "outbox": outbox_list, "users": users_list,
}
_CACHE: dict[tuple[str, str, str], ListSpec] = {}


def list_spec(tenant: CompiledTenant, name: str) -> ListSpec | None:
    """The declared list `name` for this city (built once per configuration version), or None."""
    build = LISTS.get(name)
    if build is None:
        return None
    key = (tenant.slug, tenant.version, name)
    spec = _CACHE.get(key)
    if spec is None:
        if len(_CACHE) > 256:  # old configuration versions
            _CACHE.clear()
        spec = _CACHE[key] = build(tenant)
    return spec


__all__ = ["LISTS", "attribute_items", "list_spec", "manages_users", "own_units", "ticket_visible"]
