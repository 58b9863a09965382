"""Ticket search: the search document, the user's query, and keyset pages over the ticket list.

One search row per ticket (`ticket_search.document`), rewritten by
`index_ticket` in the transaction of every change that affects it. Both
databases index it: PostgreSQL `to_tsvector('simple', komunikator_unaccent(document))`
(a stored generated column with a GIN index, `engine/store/extras.py`), SQLite FTS5
(`unicode61 remove_diacritics 2`).

Folding happens in three places that must agree:

- the document (`document_text`) keeps words only, one space apart, so
  PostgreSQL's parser (which knows hosts, e-mails, signed numbers, versions)
  and FTS5's unicode61 split it into the same tokens; `ł`/`Ł` (and a few other
  letters without a Unicode decomposition) are written as `l`/`L`, because
  `remove_diacritics` leaves ł alone while `unaccent` folds it;
- the databases fold case and diacritics (`unaccent` / `remove_diacritics 2`);
- the query (`query_tokens`) is folded here: NFKD without combining marks,
  the same extra letters, lower case.

Every token of a query is a prefix and all must match (AND); a query that looks
like a ticket number (`zg-2026-123`) is an exact lookup instead.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pypika_tortoise.terms import Term, ValueWrapper
from pypika_tortoise.utils import format_alias_sql
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.service.errors import invalid
from komunikator.engine.service.views import unpack_attribute
from komunikator.engine.store import db
from komunikator.engine.store.extras import FTS_TABLE, PG_DOCUMENT_VECTOR, PG_UNACCENT, SEARCH_TABLE
from komunikator.engine.store.models import Comment, Ticket, TicketAttribute, TicketSearch
from komunikator.engine.store.scope import TenantScope, order_nulls

Sort = Literal["created", "due"]
SORTS: tuple[Sort, ...] = ("created", "due")

#: Letters that neither NFKD nor FTS5's remove_diacritics fold, but PostgreSQL's unaccent does.
_EXTRA_FOLDS = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss",
                              "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ħ": "h", "Ħ": "H"})
#: A word: letters and digits (no underscore: both databases split on it).
_WORD = re.compile(r"[^\W_]+")
#: `ZG-2026-000123`, any case, with or without the zero padding.
_NUMBER = re.compile(r"^\s*([A-Za-z]{2,4})\s*-\s*(\d{4})\s*-\s*(\d{1,9})\s*$")
#: Bounds on a query: more words than this only slow the database down.
MAX_TOKENS = 12
MAX_TOKEN_LENGTH = 64


# -- the document -----------------------------------------------------------------------------


def document_text(parts: Iterable[str | None]) -> str:
    """The search document of `parts`: their words, one space apart, ł written as l."""
    words: list[str] = []
    for part in parts:
        if part:
            words += _WORD.findall(unicodedata.normalize("NFKC", part).translate(_EXTRA_FOLDS))
    return " ".join(words)


def _attribute_words(tenant: CompiledTenant, category: str, name: str, value: Any) -> list[str]:
    """An attribute's value; a choice also by every label of the chosen option."""
    spec_category = tenant.categories.get(category)
    spec = spec_category.spec.attributes.get(name) if spec_category else None
    values = value if isinstance(value, list) else [value]
    words: list[str] = []
    for item in values:
        if item is None or isinstance(item, dict):
            continue
        words.append(str(item))
        options = spec.values if spec is not None else None
        if options and isinstance(item, str) and item in options:
            words += [label for _, label in sorted(dict(options[item]).items())]
    return words


def ticket_document(
    tenant: CompiledTenant, ticket: Ticket, attributes: dict[str, Any], public_comments: Iterable[str]
) -> str:
    """What a ticket is found by: number, category name (every locale), description, address,
    attribute values (choices by code and labels) and public comments.

    Never internal notes, messages, or the reporter's contact data.
    """
    number = ticket.number
    parts: list[str | None] = [number]
    if match := _NUMBER.match(number):
        parts.append(str(int(match.group(3))))  # `123` finds ZG-2026-000123
    category = tenant.categories.get(ticket.category)
    if category is not None:
        parts += [name for _, name in sorted(dict(category.spec.name).items())]
    parts += [ticket.description, ticket.address]
    for name in sorted(attributes):
        parts += _attribute_words(tenant, ticket.category, name, attributes[name])
    parts += list(public_comments)
    return document_text(parts)


async def index_ticket(scope: TenantScope, tenant: CompiledTenant, ticket: Ticket) -> TicketSearch:
    """(Re)write the ticket's search row from what is stored now; call inside the changing transaction.

    Locks the ticket row first (PostgreSQL), so two transactions indexing the
    same ticket (two public comments at once) run one after the other and the
    second sees the first's comment.
    """
    await scope.tickets().filter(id=ticket.id).select_for_update().only("id").first()
    attributes = {
        row.name: unpack_attribute(row.value)
        for row in await scope.query(TicketAttribute).filter(ticket_id=ticket.id)
    }
    comments = await scope.query(Comment).filter(ticket_id=ticket.id, visibility="public").order_by("id").values_list(
        "body", flat=True
    )
    document = ticket_document(tenant, ticket, attributes, [str(c) for c in comments])
    row = await scope.query(TicketSearch).get_or_none(ticket_id=ticket.id)
    if row is None:
        return await scope.create(TicketSearch, ticket_id=ticket.id, document=document)
    if row.document != document:
        row.document = document
        await row.save(update_fields=["document", "updated_at"])
    return row


async def index_new_ticket(
    scope: TenantScope, tenant: CompiledTenant, ticket: Ticket, attributes: dict[str, Any]
) -> TicketSearch:
    """The first search row of a ticket created in this very transaction.

    Nothing to lock or read back: no one else sees the ticket yet, and it has
    no comments. One INSERT instead of five statements on the intake path.
    """
    return await scope.create(TicketSearch, ticket=ticket, document=ticket_document(tenant, ticket, attributes, []))


# -- the query --------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case without diacritics (ł included): what both databases index."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_EXTRA_FOLDS).lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def query_tokens(q: str) -> list[str]:
    """The folded words of a user's query, in order, without repeats (bounded)."""
    tokens = dict.fromkeys(t[:MAX_TOKEN_LENGTH] for t in _WORD.findall(fold(q)))
    return list(tokens)[:MAX_TOKENS]


def ticket_number(q: str) -> str | None:
    """The canonical ticket number `q` names (`zg-2026-123` → `ZG-2026-000123`), or None."""
    match = _NUMBER.match(q)
    if match is None:
        return None
    letters, year, seq = match.groups()
    return f"{letters.upper()}-{year}-{int(seq):06d}"


def postgres_tsquery(tokens: list[str]) -> str:
    """`'tok1':* & 'tok2':*` — each token quoted, so nothing in it is an operator."""
    return " & ".join("'" + t.replace("'", "''").replace("\\", "\\\\") + "':*" for t in tokens)


def fts5_query(tokens: list[str]) -> str:
    """`"tok1"* AND "tok2"*` — each token a quoted string, so nothing in it is FTS5 syntax."""
    return " AND ".join('"' + t.replace('"', '""') + '"*' for t in tokens)


class _MatchingTickets(Term):
    """`SELECT ticket_id FROM ticket_search WHERE …` for `id__in`, with its values as parameters."""

    def __init__(self, dialect: str, tenant_id: int, tokens: list[str]) -> None:
        super().__init__()
        self.dialect = dialect
        self.tenant_id = tenant_id
        self.tokens = tokens

    def get_sql(self, ctx: Any) -> str:
        # only constant names are spliced in; the tenant and the query are parameters
        tenant = ValueWrapper(self.tenant_id).get_sql(ctx)
        if self.dialect == "postgres":
            query = ValueWrapper(postgres_tsquery(self.tokens)).get_sql(ctx)
            # the indexed column; unaccent on the query too, for letters not folded here
            match = f"{PG_DOCUMENT_VECTOR} @@ to_tsquery('simple', {PG_UNACCENT}({query}))"
        else:
            query = ValueWrapper(fts5_query(self.tokens)).get_sql(ctx)
            match = f"id IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH {query})"  # noqa: S608
        sql = f"(SELECT ticket_id FROM {SEARCH_TABLE} WHERE tenant_id={tenant} AND {match})"  # noqa: S608
        return str(format_alias_sql(sql, self.alias, ctx))


def matching(query: QuerySet[Ticket], scope: TenantScope, q: str) -> QuerySet[Ticket]:
    """`query` narrowed to the tickets `q` finds: a number exactly, otherwise every word as a prefix.

    An empty `q` narrows nothing; a `q` without any word (`"*"`) finds nothing. A
    number-shaped `q` is never searched as words (another tenant's number finds nothing).
    """
    if not q.strip():
        return query
    number = ticket_number(q)
    if number is not None:
        return query.filter(number=number)
    tokens = query_tokens(q)
    if not tokens:
        return query.filter(id__in=[])
    dialect = "postgres" if db.connection().capabilities.dialect == "postgres" else "sqlite"
    return query.filter(id__in=_MatchingTickets(dialect, scope.tenant_id, tokens))


# -- keyset pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the sort, its key value in the last row, and that row's id."""

    sort: Sort
    value: datetime | None
    id: int

    def encode(self) -> str:
        """Opaque, URL-safe."""
        raw = json.dumps([self.sort, self.value.isoformat() if self.value else None, self.id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, sort: Sort) -> Cursor:
        """The cursor in `text`; 422 if it is not one of ours or belongs to another sort."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            given, value, row_id = json.loads(raw)
            cursor = cls(given, datetime.fromisoformat(value) if value is not None else None, int(row_id))
        except (ValueError, TypeError, json.JSONDecodeError):
            raise invalid("the cursor is not valid; start again from the first page", "cursor") from None
        if cursor.sort != sort or (cursor.value is None and sort == "created"):
            raise invalid("the cursor belongs to another sort order; start again from the first page", "cursor")
        return cursor


def _after(query: QuerySet[Ticket], cursor: Cursor) -> QuerySet[Ticket]:
    if cursor.sort == "created":  # newest first: created_at DESC, id DESC
        # the redundant `<=` bounds an index range scan; the OR alone would not
        return query.filter(Q(created_at__lte=cursor.value),
                            Q(created_at__lt=cursor.value) | Q(created_at=cursor.value, id__lt=cursor.id))
    if cursor.value is None:  # due soonest first, NULLs last: the cursor is in the NULL tail
        return query.filter(due_at__isnull=True, id__gt=cursor.id)
    return query.filter(Q(due_at__gt=cursor.value) | Q(due_at=cursor.value, id__gt=cursor.id)
                        | Q(due_at__isnull=True))


def _ordered(query: QuerySet[Ticket], sort: Sort) -> QuerySet[Ticket]:
    if sort == "created":
        return query.order_by("-created_at", "-id")
    return order_nulls(query, "due_at", nulls="last").order_by("_null_due_at", "due_at", "id")


@dataclass(frozen=True, slots=True)
class ListedTicket:
    """A ticket as a list shows it: the columns of a list row (and of its cursor), nothing else."""

    id: int
    number: str
    category: str
    state: str
    public_status: str
    responsible_unit: str
    priority: str
    created_at: datetime
    due_at: datetime | None


#: `ListedTicket`'s fields: the only columns a page reads.
LIST_COLUMNS: tuple[str, ...] = tuple(ListedTicket.__dataclass_fields__)


async def page(
    query: QuerySet[Ticket], scope: TenantScope, *, q: str | None, sort: Sort, cursor: str | None, limit: int
) -> tuple[list[ListedTicket], str | None]:
    """One page of `query` (already limited to what the user may see) matching `q`.

    `sort="created"`: newest first; `sort="due"`: due soonest first, tickets
    without a due date last. Returns the rows (the list's columns only: a page
    is read far more often than a ticket, and whole model objects cost more
    than the query at scale) and the cursor of the next page (None on the last one).
    """
    if sort not in SORTS:
        raise invalid(f"sort must be one of {', '.join(SORTS)}", "sort")
    if q:
        query = matching(query, scope, q)
    if cursor:
        query = _after(query, Cursor.decode(cursor, sort))
    rows = [ListedTicket(**row) for row in await _ordered(query, sort).limit(limit + 1).values(*LIST_COLUMNS)]
    more = len(rows) > limit
    rows = rows[:limit]
    if not (more and rows):
        return rows, None
    last = rows[-1]
    return rows, Cursor(sort, last.created_at if sort == "created" else last.due_at, last.id).encode()
