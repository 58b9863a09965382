"""Shared helpers for the runtime tests (imported by module name; tests/ has no __init__)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.config.compiler import compile_tenant
from komunikator.engine.runtime import Membership, Outcome, Refusal, TicketView, UserView

FIXTURES = Path(__file__).parent / "fixtures" / "runtime"
WARSAW = ZoneInfo("Europe/Warsaw")


def fixture_tenant() -> CompiledTenant:
    """The runtime fixture tenant."""
    return compile_tenant(FIXTURES / "testowo", FIXTURES / "definitions")


def local(*args: int) -> datetime:
    """A Warsaw wall-clock moment."""
    return datetime(*args, tzinfo=WARSAW)  # type: ignore[misc]


def staff(user_id: str, *memberships: str) -> UserView:
    """`staff("ala", "roads:worker", "office:dispatcher")`."""
    return UserView(user_id, tuple(Membership(*m.split(":")) for m in memberships))


def resident(user_id: str) -> UserView:
    return UserView(user_id, (), "resident")


def new_ticket(tenant: CompiledTenant, category: str, **extra: object) -> TicketView:
    cat = tenant.categories[category]
    process = tenant.processes[cat.process]
    return TicketView(
        id=str(extra.pop("id", "1")),
        category=category,
        process=cat.process,
        state=process.entry,
        responsible_unit=cat.unit,
        **extra,  # type: ignore[arg-type]
    )


def ok(result: Outcome | Refusal) -> Outcome:
    """Assert an action was accepted and return its outcome."""
    assert isinstance(result, Outcome), f"refused: {result}"
    return result
