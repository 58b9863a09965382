"""Delivery test fixtures: the shipped Zgierz tenant on a clean database, a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from delivery_helpers import SmtpSink, registry

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.store.scope import TenantScope, ensure_tenant


@pytest.fixture
async def zgierz(db: str) -> tuple[TenantScope, CompiledTenant]:
    """Zgierz's scope (its row created) and its compiled configuration."""
    row = await ensure_tenant("zgierz", "Urząd Miasta Zgierza")
    return TenantScope(row.id), registry().tenants["zgierz"]


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    """An SMTP server listening on a free port for this test."""
    server = SmtpSink().start()
    try:
        yield server
    finally:
        server.stop()
