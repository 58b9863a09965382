"""Every shipped report, on both demo cities, computed by the database equals the Python model.

Run once per database (`KOMUNIKATOR_TEST_DB=postgres` for PostgreSQL): the
model is the same, so SQLite's window-function percentiles and PostgreSQL's
`percentile_cont` are held to the same numbers. The readers: the city's
management (sees every ticket), a head of a department with a section below
it (sees their units' work only), and a case worker, whom no shipped report
admits.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from report_model import expected_rows, percentile, read_town

from komunikator.cli.demo.seed import seed_tenant
from komunikator.cli.seed_commands import demo_staff
from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.reports import compute, links
from komunikator.engine.runtime.views import Membership, UserView
from komunikator.engine.settings import Settings
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry

pytestmark = pytest.mark.anyio
END = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)

READERS = {
    "zgierz": {
        "management": UserView("901", (Membership("bom", "management"),), "staff", "x"),
        "head": UserView("902", (Membership("gospodarka_komunalna", "unit_head"),), "staff", "x"),
    },
    "nieporet": {
        "management": UserView("903", (Membership("urzad", "management"),), "staff", "x"),
        "head": UserView("904", (Membership("zuk", "unit_head"),), "staff", "x"),
    },
}
CLERK = UserView("905", (Membership("drogi", "worker"),), "staff", "x")


@cache
def tenants() -> dict[str, CompiledTenant]:
    return dict(TenantRegistry.load(Settings.from_env()).tenants)


def test_percentile_model_is_percentile_cont() -> None:
    # PostgreSQL: SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY x) FROM unnest('{10,20,30,40}'::int[]) x → 37
    assert percentile([40, 10, 30, 20], 0.9) == pytest.approx(37.0)
    assert percentile([40, 10, 30, 20], 0.5) == 25.0
    assert percentile([7], 0.9) == 7.0 and percentile([], 0.5) is None


def test_shipped_reports_are_the_ones_the_issue_asks_for() -> None:
    for tenant in tenants().values():
        reports = tenant.reports
        assert {"tickets_by_unit_and_month", "sla_by_category", "workload_by_person", "delegations_by_unit",
                "top_categories_by_area"} <= set(reports)
        assert ("dumping_by_area" in reports) == (tenant.slug == "zgierz")  # a city's own report is its own
        assert compute.dashboard_tiles(tenant, READERS[tenant.slug]["management"])  # the dashboard has tiles


def test_a_clerk_may_read_no_shipped_report() -> None:
    tenant = tenants()["zgierz"]
    assert compute.readable(tenant, CLERK) == []
    assert compute.readable(tenant, READERS["zgierz"]["head"])  # a head may


@pytest.mark.parametrize("slug", ["zgierz", "nieporet"])
async def test_every_report_equals_the_model(db: str, slug: str) -> None:
    tenant = tenants()[slug]
    scope = TenantScope((await ensure_tenant(slug)).id)
    await seed_tenant(scope, tenant, demo_staff(slug), count=45 if slug == "zgierz" else 30, seed=3, end=END)
    town = await read_town(scope)
    nonempty = 0
    for reader, user in READERS[slug].items():
        for name in compute.readable(tenant, user):
            result = await compute.run(scope, tenant, name, user, END)
            report = tenant.reports[name]
            expected = expected_rows(tenant, report, town, user, END)
            got = {row.keys: row.values for row in result.rows}
            if report.limit is None:
                assert set(got) == set(expected), (reader, name)
            else:
                assert set(got) <= set(expected) and len(got) == min(report.limit, len(expected)), (reader, name)
            for key, values in got.items():
                for measure, value in values.items():
                    want = expected[key][measure]
                    assert value == (pytest.approx(want, rel=1e-12) if want is not None else None), \
                        (reader, name, key, measure)
            if "count" in report.measures:
                assert result.total == sum(e["count"] for e in expected.values()), (reader, name)
            nonempty += bool(got)
    assert nonempty >= 10  # the seeded city fills most reports for both readers


async def test_a_head_counts_only_their_units(db: str) -> None:
    tenant = tenants()["zgierz"]
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    await seed_tenant(scope, tenant, demo_staff("zgierz"), count=45, seed=3, end=END)
    everyone = await compute.run(scope, tenant, "open_by_unit", READERS["zgierz"]["management"], END)
    head = await compute.run(scope, tenant, "open_by_unit", READERS["zgierz"]["head"], END)
    assert {r.keys[0] for r in everyone.rows} > {r.keys[0] for r in head.rows}
    assert sum(r.sums["open"] for r in head.rows) < sum(r.sums["open"] for r in everyone.rows)
    workload = await compute.run(scope, tenant, "delegations_by_unit", READERS["zgierz"]["head"], END)
    everywhere = await compute.run(scope, tenant, "delegations_by_unit", READERS["zgierz"]["management"], END)
    def hops(result: compute.ReportResult) -> int:
        return sum(sum(r.sums[m] for m in ("delegations", "withdrawals", "completions")) for r in result.rows)

    assert 0 < hops(workload) < hops(everywhere)


GOLDEN = Path(__file__).parent / "snapshots" / "zgierz_reports.json"


async def test_both_databases_give_the_same_numbers(db: str) -> None:
    """The same seeded city gives the same table on SQLite and on PostgreSQL, to the last digit.

    The snapshot is written by one database (`UPDATE_SNAPSHOTS=1`) and read by the other's run.
    """
    tenant = tenants()["zgierz"]
    scope = TenantScope((await ensure_tenant("zgierz")).id)
    await seed_tenant(scope, tenant, demo_staff("zgierz"), count=45, seed=3, end=END)
    user = READERS["zgierz"]["management"]
    people = {u.id: u.email for u in await scope.users().all()}  # ids differ between runs; e-mails do not
    got = {}
    for name in compute.readable(tenant, user):
        result = await compute.run(scope, tenant, name, user, END)
        at = result.report.dimensions.index("assignee") if "assignee" in result.report.dimensions else None
        got[name] = [[[people.get(k) if i == at and k is not None else k for i, k in enumerate(row.keys)],
                      dict(row.values)] for row in result.rows]
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(got, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    assert json.loads(json.dumps(got)) == json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.mark.parametrize("slug", ["zgierz", "nieporet"])
async def test_every_linked_number_is_the_total_of_the_list_it_links_to(db: str, slug: str) -> None:
    """A report's cell links to the universal list of exactly the tickets (or tasks) it counts."""
    declared = pytest.importorskip("komunikator.engine.lists.declared")
    filters = pytest.importorskip("komunikator.engine.lists.filters")
    query = pytest.importorskip("komunikator.engine.lists.query")
    tenant = tenants()[slug]
    scope = TenantScope((await ensure_tenant(slug)).id)
    await seed_tenant(scope, tenant, demo_staff(slug), count=40, seed=6, end=END)
    checked = 0
    measures: set[tuple[str, str]] = set()
    for user in READERS[slug].values():
        for name in compute.readable(tenant, user):
            result = await compute.run(scope, tenant, name, user, END)
            spec = declared.list_spec(tenant, result.report.source) if result.report.source != "task_events" else None
            for row in result.rows:
                for measure, value in row.values.items():
                    document = links.filter_document(tenant, result, row, measure)
                    if document is None or spec is None:
                        continue
                    flt = filters.parse(spec, tenant, document)
                    page = await query.page(scope, tenant, user, spec, flt, query.parse_sort(spec, None),
                                            query.parse_columns(spec, None), after=None, limit=1, now=END)
                    assert page.total == value, (slug, name, row.keys, measure, document)
                    checked += 1
                    measures.add((result.report.source, measure))
    assert checked > 50
    # the tasks' overdue count links to the tasks list filtered as overdue (runtime.overdue.task_overdue, both)
    assert {("tasks", "overdue"), ("tasks", "open"), ("tasks", "done"), ("tickets", "overdue")} <= measures
