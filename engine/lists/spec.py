"""What a list is: a declaration of its source, columns, filterable fields and readers (netbox's tables).

A `ListSpec` is data: the engine (`query.py`) turns it, a filter document
(`filters.py`), a sort and a cursor into one SQL statement for either
database; the API, the staff page and the exports all read lists through it.

SQL held here is constant text written by the declarations (`declared.py`),
never anything a request sends: values always travel as parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from komunikator.engine.service.ticket_list import Statement

if TYPE_CHECKING:
    from komunikator.engine.compiled import CompiledTenant
    from komunikator.engine.runtime.views import UserView

#: The types of filterable fields; each has its own operators (`OPERATORS`).
FieldType = Literal["choice", "reference", "text", "date", "number", "bool"]
#: How a column's value is shown (and exported).
Render = Literal["text", "choice", "datetime", "number", "bool", "ticket_link"]

#: Operators per field type; `is_empty` / `is_not_empty` apply to every type.
OPERATORS: Mapping[FieldType, tuple[str, ...]] = {
    "choice": ("eq", "ne", "in", "not_in", "is_empty", "is_not_empty"),
    "reference": ("eq", "ne", "in", "not_in", "is_empty", "is_not_empty"),
    "text": ("contains", "starts_with", "eq", "is_empty", "is_not_empty"),
    "date": ("before", "after", "between", "last_n_days", "is_empty", "is_not_empty"),
    "number": ("eq", "gt", "lt", "between", "is_empty", "is_not_empty"),
    "bool": ("eq", "is_empty", "is_not_empty"),
}

Text = Mapping[str, str]


@dataclass
class Sql:
    """A statement being written for one request: parameters, the moment, the city."""

    s: Statement
    now: datetime
    tenant: CompiledTenant

    @property
    def postgres(self) -> bool:
        """Whether the statement is for PostgreSQL (else SQLite)."""
        return self.s.postgres


#: SQL text of an expression, given the statement being written (for the few that need parameters).
Expression = Callable[[Sql], str]
#: The options of a choice or reference: code → label per language.
Choices = Callable[["CompiledTenant"], Mapping[str, Text]]


def const(sql: str) -> Expression:
    """An expression that is constant SQL text."""
    return lambda _s: sql


@dataclass(frozen=True)
class ListField:
    """A filterable field: its name in filter documents, label, type and SQL expression.

    `multi`: the expression is a JSON array of codes (a multichoice attribute);
    `eq`/`in` then mean "holds one of", `ne`/`not_in` "holds none of".
    """

    name: str
    label: Text
    type: FieldType
    sql: Expression
    choices: Choices | None = None
    multi: bool = False
    #: for `multi`: the condition that the array holds one of the values
    holds: Callable[[Sql, list[str]], str] | None = None


@dataclass(frozen=True)
class Column:
    """A column: label, how it is shown, whether it sorts and shows by default.

    `sort_sql`, when given, is what the column sorts by (a rank for priorities);
    otherwise its own expression.
    """

    key: str
    label: Text
    render: Render
    sql: Expression
    sortable: bool = True
    default: bool = True
    choices: Choices | None = None
    sort_sql: Expression | None = None
    multi: bool = False
    #: False: the expression is never NULL (a NOT NULL column): the sort then needs no NULL ordering,
    #: and the database may walk an index for it
    nullable: bool = True


#: Who may open a list at all (visibility of rows is the engine's job).
Readers = Callable[["CompiledTenant", "UserView"], bool]


@dataclass(frozen=True)
class ListSpec:
    """One declared list.

    `source` is the FROM clause (its main table aliased `row_alias`, tickets
    as `t` where joined); `visible` writes the visibility condition for a
    user (always applied after the filter); `search` writes the full-text
    condition for `q`.
    """

    name: str
    label: Text
    source: str
    row_alias: str
    columns: tuple[Column, ...]
    fields: tuple[ListField, ...]
    readers: Readers
    default_sort: tuple[tuple[str, bool], ...]  # (column, descending)
    visible: Callable[[Sql, UserView], str]
    search: Callable[[Sql, str], str] | None = None
    #: a fixed condition of the list (users: staff accounts only)
    where: str | None = None
    _columns: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)
    _fields: dict[str, ListField] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._columns.update({c.key: c for c in self.columns})
        self._fields.update({f.name: f for f in self.fields})

    def column(self, key: str) -> Column | None:
        """The column `key`, if declared."""
        return self._columns.get(key)

    def field(self, name: str) -> ListField | None:
        """The filterable field `name`, if declared."""
        return self._fields.get(name)

    def default_columns(self) -> tuple[str, ...]:
        """The columns shown when none are chosen."""
        return tuple(c.key for c in self.columns if c.default)

    @property
    def id_sql(self) -> str:
        """The unique tie-breaker of every sort: the row's id."""
        return f"{self.row_alias}.id"


__all__ = ["OPERATORS", "Column", "FieldType", "ListField", "ListSpec", "Render", "Sql", "const"]
