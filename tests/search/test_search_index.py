"""The search index itself: what goes into a document, keyset paging with NULLs, and upgrades."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from search_dataset import ZG, compiled
from typer.testing import CliRunner

from komunikator.cli.app import app
from komunikator.engine.runtime.views import Membership, UserView
from komunikator.engine.service import reading, search
from komunikator.engine.store import db, extras
from komunikator.engine.store.models import Comment, ReporterContact, Ticket, TicketAttribute
from komunikator.engine.store.runner import StoreRunner
from komunikator.engine.store.scope import TenantScope, ensure_tenant

DISPATCHER = UserView("dispatcher", (Membership("bom", "dispatcher"),), "staff", "Dyspozytor")
T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


# -- the document and the query, without a database ------------------------------------------------


def test_the_query_folds_case_diacritics_and_l_with_stroke() -> None:
    assert search.query_tokens("Żółw ŁÓDŹ łąka") == ["zolw", "lodz", "laka"]
    assert search.query_tokens("  ") == []
    assert search.query_tokens('"dziura" OR NEAR(kot, 2) col:x*') == ["dziura", "or", "near", "kot", "2", "col", "x"]
    assert search.query_tokens("a_b") == ["a", "b"]  # both databases split on the underscore


def test_query_syntax_is_always_quoted() -> None:
    assert search.fts5_query(["zolw", 'a"b']) == '"zolw"* AND "a""b"*'
    assert search.postgres_tsquery(["zolw", "a'b"]) == "'zolw':* & 'a''b':*"


def test_ticket_numbers_are_recognised_with_or_without_padding() -> None:
    assert search.ticket_number("zg-2026-123") == "ZG-2026-000123"
    assert search.ticket_number(" ZG - 2026 - 000123 ") == "ZG-2026-000123"
    assert search.ticket_number("ZG-2026") is None
    assert search.ticket_number("dziura ZG-2026-1") is None


def test_the_document_keeps_words_only_and_writes_l_for_l_with_stroke() -> None:
    document = search.document_text(["ul. Łódzka 12/3", None, "jan@example.pl — żółw_1", "ﬁ"])
    assert document == "ul Lódzka 12 3 jan example pl żólw 1 fi"  # ó is left to the databases


# -- the index in the database ----------------------------------------------------------------------


async def _ticket(scope: TenantScope, n: int, **fields: Any) -> Ticket:
    version = await scope.ensure_definition_version("v1", {})
    values: dict[str, Any] = {
        "number": f"ZG-2026-{n:06d}", "category": "pothole", "process": "simple_fix", "state": "new",
        "responsible_unit": "drogi", "channel": "public", "definition_version": version, "state_entered_at": T0,
        "description": "Dziura", "created_at": T0,
    }
    values.update(fields)
    ticket = await scope.create(Ticket, **values)
    await search.index_ticket(scope, compiled(ZG), ticket)
    return ticket


async def test_the_document_holds_what_staff_search_for_and_nothing_personal(db: str) -> None:
    scope = TenantScope((await ensure_tenant(ZG)).id)
    contact = await scope.create(ReporterContact, name="Zdzisław Tajemniczy", email="zdz@poczta.pl")
    ticket = await _ticket(scope, 123, description="Głęboka dziura", address="ul. Łódzka 12",
                           reporter_contact_id=contact.id)
    await scope.create(TicketAttribute, ticket_id=ticket.id, name="size", value={"value": "medium"})
    for visibility, body in [("public", "Naprawa w piątek"), ("internal", "Poufna notatka"),
                             ("to_reporter", "Dziękujemy za zgłoszenie"), ("to_unit", "Proszę o pilną naprawę")]:
        await scope.create(Comment, ticket_id=ticket.id, visibility=visibility, body=body)
    row = await search.index_ticket(scope, compiled(ZG), ticket)
    words = row.document.split()
    for expected in ["ZG", "2026", "000123", "123", "Dziura", "w", "jezdni", "Pothole", "Glęboka", "Lódzka",
                     "medium", "średnia", "30", "100", "cm", "Naprawa", "piątek"]:
        assert expected in words, expected
    for hidden in ["Zdzisław", "Zdzislaw", "Tajemniczy", "zdz", "poczta", "Poufna", "Dziękujemy", "pilną"]:
        assert hidden not in words, hidden
    assert "ł" not in row.document and "Ł" not in row.document
    # indexing again changes nothing and keeps one row
    again = await search.index_ticket(scope, compiled(ZG), ticket)
    assert (again.id, again.document) == (row.id, row.document)


async def _all_pages(scope: TenantScope, sort: search.Sort, limit: int, q: str | None = None) -> list[str]:
    numbers: list[str] = []
    cursor = None
    for _ in range(100):
        rows, cursor = await reading.list_tickets(scope, compiled(ZG), DISPATCHER, reading.ListFilters(), cursor,
                                                  limit, q=q, sort=sort)
        numbers += [t.number for t in rows]
        if cursor is None:
            return numbers
    raise AssertionError("the cursor never ran out")


async def test_cursor_paging_over_nulls_returns_every_row_once_in_order(db: str) -> None:
    scope = TenantScope((await ensure_tenant(ZG)).id)
    # due dates: ties, gaps and NULLs interleaved; creation times with ties too
    dues = [None, T0, T0 + timedelta(days=2), None, T0, T0 + timedelta(days=1), None, T0 + timedelta(days=2),
            None, T0, None, T0 + timedelta(days=3), None]
    tickets = [
        await _ticket(scope, n, due_at=due, created_at=T0 + timedelta(hours=n // 3),
                      description="Głęboka koleina" if n % 2 else "Zapadnięty chodnik")
        for n, due in enumerate(dues, start=1)
    ]
    by_due = sorted(tickets, key=lambda t: (t.due_at is None, t.due_at or T0, t.id))
    by_created = sorted(tickets, key=lambda t: (t.created_at, t.id), reverse=True)
    for limit in (1, 2, 3, 5, 13, 50):
        assert await _all_pages(scope, "due", limit) == [t.number for t in by_due], limit
        assert await _all_pages(scope, "created", limit) == [t.number for t in by_created], limit
    odd = [t.number for t in by_due if int(t.number[-2:]) % 2]
    assert await _all_pages(scope, "due", 2, q="glebok kolei") == odd


def _fts_objects(url: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        connection = db.connection()
        if db.dialect(url) == "sqlite":
            _, tables = await connection.execute_query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'")
            _, triggers = await connection.execute_query(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ticket_search'")
            # raises if the index and ticket_search disagree (rank 1: compare with the content table)
            await connection.execute_query(
                "INSERT INTO ticket_search_fts(ticket_search_fts, rank) VALUES ('integrity-check', 1)")
            return {"fts": sorted(r["name"] for r in tables), "triggers": sorted(r["name"] for r in triggers)}
        _, indexes = await connection.execute_query(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'ticket_search' AND indexdef LIKE '%gin%'")
        _, functions = await connection.execute_query(
            "SELECT p.provolatile::text AS provolatile FROM pg_proc p WHERE p.proname = 'komunikator_unaccent'")
        _, extensions = await connection.execute_query(
            "SELECT extname FROM pg_extension WHERE extname IN ('unaccent', 'btree_gin') ORDER BY extname")
        return {"fts": [r["indexname"] for r in indexes], "functions": [r["provolatile"] for r in functions],
                "extensions": [r["extname"] for r in extensions]}

    with StoreRunner(url) as runner:
        return runner.run(read())


def _find(url: str, q: str) -> list[str]:
    async def run() -> list[str]:
        scope = TenantScope((await ensure_tenant(ZG)).id)
        rows, _ = await reading.list_tickets(scope, compiled(ZG), DISPATCHER, reading.ListFilters(), None, 50, q=q)
        return [t.number for t in rows]

    with StoreRunner(url) as runner:
        return runner.run(run())


def _upgrade_cli(url: str) -> None:
    result = CliRunner().invoke(app, ["db", "upgrade", "--url", url])
    assert result.exit_code == 0, result.output


def test_upgrade_twice_leaves_one_set_of_fts_objects_in_sync(database_url: str) -> None:
    async def fill() -> None:
        scope = TenantScope((await ensure_tenant(ZG)).id)
        await _ticket(scope, 1, description="Martwy żółw na poboczu")
        await _ticket(scope, 2, description="Łabędź na stawie")

    with StoreRunner(database_url) as runner:
        runner.run(fill())
    before = _fts_objects(database_url)
    _upgrade_cli(database_url)
    _upgrade_cli(database_url)
    after = _fts_objects(database_url)
    assert after == before
    if db.dialect(database_url) == "sqlite":
        assert after == {"fts": [extras.FTS_TABLE],
                         "triggers": sorted(n for t, n in extras.expected_triggers("sqlite") if t == "ticket_search")}
    else:
        assert after == {"fts": [extras.PG_FTS_INDEX], "functions": ["i"], "extensions": ["btree_gin", "unaccent"]}
    assert _find(database_url, "zolw") == ["ZG-2026-000001"]
    assert _find(database_url, "labedz") == ["ZG-2026-000002"]


def test_upgrade_repairs_a_lost_trigger_or_index(database_url: str) -> None:
    sqlite = db.dialect(database_url) == "sqlite"

    async def break_it() -> None:
        connection = db.connection()
        if sqlite:  # what a SQLite table rebuild does to the triggers
            await connection.execute_script("DROP TRIGGER ticket_search_fts_ai")
        else:
            await connection.execute_script(f"DROP INDEX {extras.PG_FTS_INDEX}")
        scope = TenantScope((await ensure_tenant(ZG)).id)
        await _ticket(scope, 1, description="Przewrócony znak")

    with StoreRunner(database_url) as runner:
        runner.run(break_it())
    if sqlite:
        assert _find(database_url, "znak") == []  # the row never reached the index
        with pytest.raises(Exception, match="malformed"):
            _fts_objects(database_url)
    _upgrade_cli(database_url)
    assert _find(database_url, "znak") == ["ZG-2026-000001"]
    assert _fts_objects(database_url)["fts"] == [extras.FTS_TABLE if sqlite else extras.PG_FTS_INDEX]
