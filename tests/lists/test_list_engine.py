"""The list engine against a Python model of the same lists, on a seeded town (both databases).

- every staff role in every unit walks the tickets, tasks and comments lists
  page by page (keyset, two-column sorts) and gets exactly the rows the
  runtime lets it read, in the documented order, each once;
- random filter documents (hypothesis: nested AND/OR, every operator,
  category attributes) return what the model of the filter keeps;
- the chips read as the issue writes them.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from lists_model import END, EVERYONE, NOW, ModelRow, expected, seeded_town, spec, zgierz

from komunikator.engine.lists import filters, query
from komunikator.engine.lists.spec import OPERATORS
from komunikator.engine.runtime.views import Membership, UserView
from komunikator.engine.service.errors import ServiceError
from komunikator.engine.store.scope import TenantScope

pytestmark = pytest.mark.anyio
PAGE = 7


async def walk(scope: TenantScope, user: UserView, name: str, doc: dict[str, Any], sort: str,
               limit: int = PAGE) -> tuple[list[int], int | None]:
    """Every row id of the view, page by page; and the total the first page reported."""
    s = spec(name)
    flt = filters.parse(s, zgierz(), json.dumps(doc))
    keys = query.parse_sort(s, sort)
    columns = query.parse_columns(s, None)
    found: list[int] = []
    after = None
    total = None
    while True:
        result = await query.page(scope, zgierz(), user, s, flt, keys, columns, after=after, limit=limit, now=NOW,
                                  count=after is None)
        if after is None:
            total = result.total
        assert len(result.rows) <= limit
        found += [r.id for r in result.rows]
        after = result.next_cursor
        if after is None:
            return found, total


@pytest.fixture
async def town(db: str) -> dict[str, Any]:
    return await seeded_town()


SORTS = {
    "tickets": [("-priority,due_at", [("priority", True), ("due_at", False)]),
                ("unit,-created_at", [("unit", False), ("created_at", True)])],
    "tasks": [("unit,-due_at", [("unit", False), ("due_at", True)]), ("", [("due_at", False)])],
    "comments": [("visibility,-created_at", [("visibility", False), ("created_at", True)]),
                 ("", [("created_at", True)])],
}
DOCS = {
    "tickets": {"match": "all", "conditions": [{"field": "public_status", "op": "eq", "value": "open"}]},
    "tasks": {"match": "any", "conditions": [{"field": "state", "op": "in", "value": ["open", "in_progress"]},
                                             {"field": "overdue", "op": "eq", "value": True}]},
    "comments": {"conditions": [{"field": "visibility", "op": "ne", "value": "public"}]},
}


async def test_every_role_in_every_unit_reads_each_list_as_the_runtime_decides(
    town: dict[str, Any],
) -> None:
    tenant = zgierz()
    scope = town["scope"]
    units = sorted(tenant.units)
    users = [UserView("9", (Membership(unit, role),), "staff", "x") for unit in units for role in sorted(tenant.roles)]
    users.append(UserView("9", (Membership("drogi", "worker"), Membership("pgk", "external")), "staff", "x"))
    for name in ("tickets", "tasks", "comments"):
        rows = town[name]
        assert rows, name
        seen_some = seen_none = 0
        for n, user in enumerate(users):
            text, sort = SORTS[name][n % 2]
            doc = DOCS[name] if n % 3 == 0 else {}
            want = expected(name, rows, user, doc, sort or [(k, d) for k, d in spec(name).default_sort])
            got, total = await walk(scope, user, name, doc, text)
            assert got == want, (name, user.memberships, doc, text)
            assert total == len(want)
            seen_some += bool(want)
            seen_none += not want
        assert seen_some and seen_none, name  # the roles make both cases happen


async def test_the_audit_and_outbox_lists_follow_the_full_history_right(town: dict[str, Any]) -> None:
    scope = town["scope"]
    head = UserView("9", (Membership("drogi", "unit_head"),), "staff", "x")
    worker = UserView("9", (Membership("drogi", "worker"),), "staff", "x")
    tenant = zgierz()
    assert spec("audit").readers(tenant, EVERYONE)
    assert not spec("audit").readers(tenant, worker) or any(
        tenant.roles[m.role].sees_full_history for m in worker.memberships)
    assert not spec("users").readers(tenant, worker)
    everything, _ = await walk(scope, EVERYONE, "audit", {}, "")
    about_tickets = await scope.audit_events().filter(ticket_id__isnull=False).count()
    assert len(everything) >= about_tickets > 0
    mine, _ = await walk(scope, head, "audit", {}, "")
    tickets = {r.id: r for r in town["tickets"]}
    from komunikator.engine.runtime.capabilities import capabilities

    full = {t for t, r in tickets.items() if capabilities(tenant, r.ticket, head, NOW).full_history}  # type: ignore[arg-type]
    want = [e.id for e in await scope.audit_events().filter(ticket_id__in=sorted(full)).order_by("-at", "-id")]
    assert sorted(mine) == sorted(want) and mine  # the head reads their unit's tickets' history, nothing else
    email = {"conditions": [{"field": "channel", "op": "eq", "value": "email"}]}
    sent, _ = await walk(scope, EVERYONE, "outbox", email, "-created_at")
    assert sent == [m.id for m in await scope.outbox().filter(channel="email").order_by("-created_at", "-id")]


# -- random filter documents --------------------------------------------------------------------


def _values(rows: list[ModelRow], field: str) -> list[Any]:
    return sorted({json.dumps(r.values.get(field), default=str) for r in rows if r.values.get(field) is not None})


def _condition(name: str, rows: list[ModelRow]) -> st.SearchStrategy[dict[str, Any]]:
    s = spec(name)
    tenant = zgierz()

    def for_field(field_name: str) -> st.SearchStrategy[dict[str, Any]]:
        field = s.field(field_name)
        assert field is not None
        seen = [json.loads(v) for v in _values(rows, field_name)]
        ops = st.sampled_from(OPERATORS[field.type])

        def value(op: str) -> st.SearchStrategy[Any]:
            if op in ("is_empty", "is_not_empty"):
                return st.none()
            if field.type in ("choice", "reference"):
                if field.choices is not None:
                    codes = sorted(field.choices(tenant))
                else:
                    codes = sorted({int(v) for v in seen}) or [1]
                one = st.sampled_from(codes)
                return st.lists(one, min_size=1, max_size=3) if op in ("in", "not_in") else one
            if field.type == "text":
                texts = [str(v) for v in seen] or ["a"]
                def part(t: str) -> st.SearchStrategy[str]:
                    if op == "eq":
                        return st.just(t)
                    cut = st.integers(0, max(0, len(t) - 1))
                    return cut.map(lambda i: t[i:i + 3] if op == "contains" else t[:i + 2])

                return st.sampled_from(texts).flatmap(part).filter(bool)
            if field.type == "bool":
                return st.booleans()
            if field.type == "number":
                one = st.sampled_from([float(v) for v in seen] or [0.0]) | st.integers(-2, 50)
                if op == "between":
                    return st.tuples(one, one).map(lambda p: sorted(p))
                return one
            day = st.dates(min_value=(END - timedelta(days=200)).date(), max_value=(NOW + timedelta(days=30)).date())
            if op == "last_n_days":
                return st.integers(1, 120)
            if op == "between":
                return st.tuples(day, day).map(lambda p: [d.isoformat() for d in sorted(p)])
            return day.map(lambda d: d.isoformat())

        return ops.flatmap(lambda op: value(op).map(lambda v: {"field": field_name, "op": op, "value": v}))

    return st.sampled_from([f.name for f in s.fields]).flatmap(for_field)


def _document(name: str, rows: list[ModelRow]) -> st.SearchStrategy[dict[str, Any]]:
    leaf = _condition(name, rows)

    def group(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        return st.fixed_dictionaries({"match": st.sampled_from(["all", "any"]),
                                      "conditions": st.lists(children, min_size=1, max_size=3)})

    return group(st.recursive(leaf, group, max_leaves=6))


def _examples(town: dict[str, Any], count: int) -> list[tuple[str, dict[str, Any], list[tuple[str, bool]]]]:
    """`count` random (list, filter document, two-column sort), drawn by hypothesis.

    Drawn first and checked afterwards, since the database work is async: the
    examples vary across the whole space (no shrinking of a failing one).
    """
    drawn: list[tuple[str, dict[str, Any], list[tuple[str, bool]]]] = []

    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def draw(data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(["tickets", "tickets", "tasks", "comments"]))
        doc = data.draw(_document(name, town[name]))
        sortable = [c.key for c in spec(name).columns if c.sortable]
        first, second = data.draw(st.lists(st.sampled_from(sortable), min_size=2, max_size=2, unique=True))
        directions = data.draw(st.tuples(st.booleans(), st.booleans()))
        drawn.append((name, doc, [(first, directions[0]), (second, directions[1])]))

    draw()
    return drawn


async def test_random_filter_documents_return_what_the_model_keeps(town: dict[str, Any]) -> None:
    checked = kept_some = 0
    for name, doc, sort in _examples(town, 80):
        text = ",".join(("-" if d else "") + k for k, d in sort)
        got, total = await walk(town["scope"], EVERYONE, name, doc, text, limit=9)
        want = expected(name, town[name], EVERYONE, doc, sort)
        assert got == want, (name, doc, text)
        assert total == len(want)
        checked += 1
        kept_some += 0 < len(want) < len(town[name])
    assert checked == 80 and kept_some > 10  # the filters cut: neither all nor nothing, mostly


# -- chips --------------------------------------------------------------------------------------


def test_chips_read_as_sentences() -> None:
    doc = {"match": "all", "conditions": [
        {"field": "unit", "op": "eq", "value": "drogi"},
        {"match": "any", "conditions": [{"field": "priority", "op": "eq", "value": "high"},
                                        {"field": "overdue", "op": "eq", "value": True}]}]}
    flt = filters.parse(spec("tickets"), zgierz(), json.dumps(doc))
    assert filters.description(flt, zgierz(), "pl") == \
        "Jednostka = Zarząd Dróg Miejskich ORAZ (Priorytet = wysoki LUB Po terminie)"
    assert filters.chips(flt, zgierz(), "en") == ["Unit = Municipal Roads Authority", "(Priority = high OR Overdue)"]
    dated = filters.parse(spec("tickets"), zgierz(), {"q": "dziura", "conditions": [
        {"field": "created_at", "op": "between", "value": ["2026-05-01", "2026-05-31"]},
        {"field": "attr.size", "op": "in", "value": ["small", "large"]}]})
    assert filters.description(dated, zgierz(), "pl") == (
        "Szukaj: „dziura” ORAZ Przyjęto od 1.05.2026 do 31.05.2026 ORAZ "
        "Wielkość ubytku jest jednym z (mała (do 30 cm), duża (ponad 1 m))")


# -- bad documents ------------------------------------------------------------------------------

_DEEP = {"conditions": [{"conditions": [{"conditions": [{"conditions": [{"conditions": []}]}]}]}]}
BAD = [
    ("{", "filter", "not valid JSON"),
    ("[1]", "filter", "JSON object"),
    ('{"conditions": [{"field": "nope", "op": "eq", "value": "x"}]}', "filter.conditions[0].field", "no field"),
    ('{"conditions": [{"field": "priority", "op": "contains", "value": "x"}]}', "filter.conditions[0].op",
     "does not apply"),
    ('{"conditions": [{"match": "any", "conditions": [{"field": "created_at", "op": "before", "value": 5}]}]}',
     "filter.conditions[0].conditions[0].value", "YYYY-MM-DD"),
    ('{"conditions": [{"field": "priority", "op": "in", "value": "high"}]}', "filter.conditions[0].value", "list"),
    ('{"conditions": [{"field": "priority", "op": "eq", "value": "huge"}]}', "filter.conditions[0].value",
     "not one of"),
    ('{"conditions": [{"field": "attr.area_m2", "op": "gt", "value": "7"}]}', "filter.conditions[0].value", "number"),
    ('{"conditions": [{"field": "overdue", "op": "eq", "value": 1}]}', "filter.conditions[0].value", "true or false"),
    ('{"conditions": [{"field": "due_at", "op": "between", "value": ["2026-05-02", "2026-05-01"]}]}',
     "filter.conditions[0].value", "lower bound"),
    ('{"conditions": [{"field": "address", "op": "contains", "value": "a\\u0000b"}]}', "filter", "NUL"),
    ('{"conditions": [], "extra": 1}', "filter.extra", "Extra inputs"),
    ('{"match": "both", "conditions": []}', "filter.match", "'all' or 'any'"),
    ('{"conditions": [{"field": "state", "op": "is_empty", "value": "x"}]}', "filter.conditions[0].value", "no value"),
    (json.dumps(_DEEP), "filter", "levels deep"),
    ("[" * 3000 + "]" * 3000, "filter", "longer than"),
    ("[" * 1900 + "]" * 1900, "filter", "JSON"),
    (json.dumps({"conditions": [{"field": "number", "op": "eq", "value": "x"}] * 41}), "filter.conditions",
     "at most 40"),
]


@pytest.mark.parametrize(("text", "path", "words"), BAD)
def test_bad_documents_are_a_422_naming_the_mistake(text: str, path: str, words: str) -> None:
    with pytest.raises(ServiceError) as caught:
        filters.parse(spec("tickets"), zgierz(), text)
    error = caught.value
    assert (error.status, error.code, error.field) == (422, "invalid_filter", path)
    assert words in error.message
