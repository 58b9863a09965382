"""Ticket numbers: one gap-free sequence per tenant and year, safe under concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from store_helpers import NOW, MakeTicket  # tests/store/conftest.py
from tortoise.transactions import in_transaction

from komunikator.engine.store.numbering import format_ticket_number, next_ticket_number, ticket_year
from komunikator.engine.store.scope import TenantScope

ZONE = "Europe/Warsaw"


def test_format_and_year_in_the_tenants_zone() -> None:
    assert format_ticket_number("ZG", 2026, 123) == "ZG-2026-000123"
    assert format_ticket_number("ZG", 2026, 1234567) == "ZG-2026-1234567"
    new_year_in_warsaw = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January there
    assert ticket_year(new_year_in_warsaw, ZONE) == 2026
    assert ticket_year(new_year_in_warsaw, "UTC") == 2025
    with pytest.raises(ValueError, match="timezone-aware"):
        ticket_year(datetime(2026, 1, 1), ZONE)


async def test_numbers_run_per_tenant_and_year(two_tenants: tuple[TenantScope, TenantScope]) -> None:
    zgierz, nieporet = two_tenants
    taken = [await next_ticket_number(zgierz, "ZG", ZONE, NOW) for _ in range(3)]
    assert taken == ["ZG-2026-000001", "ZG-2026-000002", "ZG-2026-000003"]
    assert await next_ticket_number(nieporet, "NP", ZONE, NOW) == "NP-2026-000001"
    next_year = NOW.replace(year=2027)
    assert await next_ticket_number(zgierz, "ZG", ZONE, next_year) == "ZG-2027-000001"
    assert await next_ticket_number(zgierz, "ZG", ZONE, NOW) == "ZG-2026-000004"


async def test_a_rolled_back_transaction_leaves_no_gap(two_tenants: tuple[TenantScope, TenantScope]) -> None:
    zgierz, _ = two_tenants
    assert await next_ticket_number(zgierz, "ZG", ZONE, NOW) == "ZG-2026-000001"
    taken = []
    with pytest.raises(RuntimeError, match="submission failed"):  # noqa: PT012 - the failing transaction is under test
        async with in_transaction():
            taken.append(await next_ticket_number(zgierz, "ZG", ZONE, NOW))
            raise RuntimeError("submission failed")
    assert taken == ["ZG-2026-000002"]
    assert await next_ticket_number(zgierz, "ZG", ZONE, NOW) == "ZG-2026-000002"


async def test_the_first_number_of_a_year_rolls_back_too(two_tenants: tuple[TenantScope, TenantScope]) -> None:
    zgierz, _ = two_tenants
    with pytest.raises(RuntimeError):  # noqa: PT012 - the failing transaction is under test
        async with in_transaction():
            await next_ticket_number(zgierz, "ZG", ZONE, NOW)
            raise RuntimeError("submission failed")
    assert await next_ticket_number(zgierz, "ZG", ZONE, NOW) == "ZG-2026-000001"


async def test_50_concurrent_submissions_get_1_to_50(
    two_tenants: tuple[TenantScope, TenantScope], make_ticket: MakeTicket
) -> None:
    zgierz, _ = two_tenants
    await zgierz.ensure_definition_version("v1", {})  # one row, not 50 racing inserts

    async def submit(i: int) -> str:
        async with in_transaction():
            await asyncio.sleep(0.001 * (i % 7))  # interleave the transactions
            number = await next_ticket_number(zgierz, "ZG", ZONE, NOW)
            await asyncio.sleep(0)
            await make_ticket(zgierz, number)
            if i % 10 == 9:  # some submissions fail after taking a number
                raise RuntimeError("rolled back")
            return number

    results = await asyncio.gather(*(submit(i) for i in range(55)), return_exceptions=True)
    numbers = [r for r in results if isinstance(r, str)]
    assert sum(isinstance(r, RuntimeError) for r in results) == 5
    expected = [format_ticket_number("ZG", 2026, n) for n in range(1, 51)]
    assert sorted(numbers) == expected
    stored = await zgierz.tickets().order_by("number").values_list("number", flat=True)
    assert stored == expected
