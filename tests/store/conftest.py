"""Helpers for the store tests: tenants and tickets with the fewest fields that make sense."""

from __future__ import annotations

import pytest
from store_helpers import NOW, MakeTicket

from komunikator.engine.store.models import Ticket
from komunikator.engine.store.scope import TenantScope, create_tenant


@pytest.fixture
async def two_tenants(db: str) -> tuple[TenantScope, TenantScope]:
    """Zgierz and Nieporęt, empty."""
    zgierz = await create_tenant("zgierz", "Zgierz")
    nieporet = await create_tenant("nieporet", "Nieporęt")
    return TenantScope(zgierz.id), TenantScope(nieporet.id)


@pytest.fixture
def make_ticket() -> MakeTicket:
    """`await make_ticket(scope, number, **fields)`: a ticket in state `new`."""

    async def make(scope: TenantScope, number: str, **fields: object) -> Ticket:
        version = await scope.ensure_definition_version("v1", {"processes": ["simple_fix"]})
        values: dict[str, object] = {
            "number": number,
            "category": "pothole",
            "process": "simple_fix",
            "state": "new",
            "responsible_unit": "roads",
            "channel": "public",
            "definition_version": version,
            "state_entered_at": NOW,
        }
        values.update(fields)
        return await scope.create(Ticket, **values)

    return make
