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

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.service.errors import invalid
from komunikator.engine.service.row_views import unpack_attribute
from komunikator.engine.store.models import Comment, Ticket, TicketAttribute, TicketSearch
from komunikator.engine.store.scope import TenantScope

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
