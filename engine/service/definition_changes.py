"""A changed configuration against the live tickets: what no longer fits, and moving tickets where it says.

Tickets, armed timers and open tasks name states, timers, units, categories
and processes of the configuration they were created under. When the YAML
changes, `drift` lists every name still used by open work that the new
configuration no longer has (with the number of tickets affected and the
YAML place at fault); the server refuses to start while the list is not
empty (`verify`), and `komunikator check --database URL` prints it.

`migrate` (`komunikator db migrate-definitions`) resolves what the YAML says
how to resolve, in one transaction per tenant: tickets in a removed state
go where the process's `state_map:` sends them (through the runtime's
`remap_state`, audited as transition `state_map`), and armed timers whose
name the process no longer has are cancelled (audited `timer_cancelled`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.config.loader import Path_
from komunikator.engine.config.overlay import overlay
from komunikator.engine.config.sources import load_folder
from komunikator.engine.errors import ErrorList, Position
from komunikator.engine.runtime import SYSTEM, Refusal, remap_state
from komunikator.engine.runtime.views import ACTIVE_TASK_STATES
from komunikator.engine.service import row_views as views
from komunikator.engine.service.apply import apply_outcome, audit
from komunikator.engine.store.expressions import Count
from komunikator.engine.store.models import Ticket
from komunikator.engine.store.scope import TenantScope, tenant_by_slug
from komunikator.engine.store.transactions import transaction
from komunikator.engine.tenants import TenantRegistry

Kind = Literal["process", "category", "state", "timer", "unit"]


@dataclass(frozen=True)
class Drift:
    """A name open work uses that the configuration no longer has."""

    tenant: str
    kind: Kind
    name: str
    process: str | None  # the process a state or timer belonged to
    tickets: int  # open tickets affected
    path: Path_  # where in the YAML the name is missing
    #: `state_map` target (a state) or "cancel" (a timer): `migrate` resolves it
    resolution: str | None = None
    where: Position | None = None

    @property
    def resolvable(self) -> bool:
        """Whether `komunikator db migrate-definitions` resolves it."""
        return self.resolution is not None

    def line(self) -> str:
        """One line: `file:line:col: path: what, how many, what to do`."""
        head = f"{self.where}: " if self.where else ""
        path = ".".join(str(p) for p in self.path)
        n = f"{self.tickets} open ticket(s) of {self.tenant}"
        if self.kind == "state":
            what = f"{n} are in state {self.name!r}, which process {self.process!r} no longer has; "
            what += (f"`state_map` sends them to {self.resolution!r}: run `komunikator db migrate-definitions`"
                     if self.resolution else f"add the state back, or say where they go with "
                     f"`state_map: {{{self.name}: STATE}}` and run `komunikator db migrate-definitions`")
        elif self.kind == "timer":
            what = (f"{n} have timer {self.name!r} armed, which process {self.process!r} no longer has; add it "
                    "back, or run `komunikator db migrate-definitions` to cancel the armed timers")
        elif self.kind == "unit":
            what = (f"{n} have open tasks for unit {self.name!r}, which no longer exists; add the unit back "
                    "until its open tasks are done or delegated to another unit")
        elif self.kind == "category":
            what = f"{n} are in category {self.name!r}, which no longer exists; add the category back"
        else:
            what = f"{n} run process {self.name!r}, which no longer exists; add the process back"
        return f"{head}{path}: {what}"


@dataclass
class MigrationReport:
    """What `migrate` did for one tenant."""

    tenant: str
    moved: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (process, from, to) → tickets
    cancelled_timers: int = 0
    named_timers: int = 0  # rows from before timers had names, named now


class DefinitionDrift(Exception):
    """The configuration does not fit the open tickets; `lines` says where and how many."""

    def __init__(self, drifts: list[Drift]) -> None:
        self.drifts = drifts
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """Every problem, then a summary line."""
        tickets = sum(d.tickets for d in self.drifts)
        summary = f"{len(self.drifts)} definition change(s) do not fit {tickets} open ticket(s)"
        return [*(d.line() for d in self.drifts), summary]


async def drift(scope: TenantScope, tenant: CompiledTenant, definitions_dir: Path | None = None) -> list[Drift]:
    """Every name open work uses that `tenant` lacks; positions filled when `definitions_dir` is given."""
    found: list[Drift] = []
    open_tickets = scope.tickets().filter(closed_at__isnull=True)
    rows = await open_tickets.annotate(n=Count("id")).group_by("process", "category", "state").values(
        "process", "category", "state", "n"
    )
    by_state: Counter[tuple[str, str]] = Counter()
    by_process: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    for row in rows:
        by_state[(row["process"], row["state"])] += row["n"]
        by_category[row["category"]] += row["n"]
    for (process_name, state), n in sorted(by_state.items()):
        process = tenant.processes.get(process_name)
        if process is None:
            by_process[process_name] += n
        elif state not in process.states:
            found.append(Drift(tenant.slug, "state", state, process_name, n, ("processes", process_name, "states"),
                               process.state_map.get(state)))
    found += [Drift(tenant.slug, "process", p, None, n, ("processes",)) for p, n in sorted(by_process.items())]
    found += [Drift(tenant.slug, "category", c, None, n, ("categories",))
              for c, n in sorted(by_category.items()) if c not in tenant.categories]
    # grouped in the database: a start-up check over a large city reads a few rows, not every armed timer
    timers = await scope.timers().filter(status="armed").annotate(n=Count("ticket_id", distinct=True)).group_by(
        "ticket__process", "timer_name").values("ticket__process", "timer_name", "n")
    for t in sorted(timers, key=lambda t: (t["ticket__process"], t["timer_name"])):
        process = tenant.processes.get(t["ticket__process"])
        if process is not None and process.timer(t["timer_name"]) is None:
            found.append(Drift(tenant.slug, "timer", t["timer_name"] or "(unnamed, from before migration 0006)",
                               t["ticket__process"], t["n"], ("processes", t["ticket__process"], "timers"), "cancel"))
    tasks = await scope.tasks().filter(state__in=sorted(ACTIVE_TASK_STATES), ticket__closed_at__isnull=True).annotate(
        n=Count("ticket_id", distinct=True)).group_by("unit").values("unit", "n")
    found += [Drift(tenant.slug, "unit", t["unit"], None, t["n"], ("units",))
              for t in sorted(tasks, key=lambda t: t["unit"]) if t["unit"] not in tenant.units]
    if found and definitions_dir is not None and definitions_dir.is_dir():
        found = _placed(found, tenant, definitions_dir)
    return found


def _placed(found: list[Drift], tenant: CompiledTenant, definitions_dir: Path) -> list[Drift]:
    """The drifts with the YAML position of their path (the tenant's merged configuration, read again)."""
    errors = ErrorList()
    tree, _ = overlay(load_folder(definitions_dir, errors), load_folder(Path(tenant.source_dir), errors), errors)
    fallback = Position(str(Path(tenant.source_dir) / "tenant.yaml"), 1, 1)
    placed = []
    for d in found:
        where = None
        for cut in range(len(d.path), 0, -1):  # the deepest part of the path the YAML still has
            where = tree.where(d.path[:cut], key=True)
            if where is not None:
                break
        placed.append(Drift(d.tenant, d.kind, d.name, d.process, d.tickets, d.path, d.resolution, where or fallback))
    return placed


async def verify(registry: TenantRegistry, definitions_dir: Path | None = None) -> None:
    """Raise `DefinitionDrift` unless every tenant's configuration fits its open tickets."""
    found: list[Drift] = []
    for slug, tenant in sorted(registry.tenants.items()):
        row = await tenant_by_slug(slug)
        if row is not None:
            found += await drift(TenantScope(row.id), tenant, definitions_dir)
    if found:
        raise DefinitionDrift(found)


async def name_legacy_timers(scope: TenantScope, tenant: CompiledTenant) -> int:
    """Name the armed timers written before timers had names, from their position in today's process.

    Migration 0006 keeps their `timer_index`; the configuration of that
    moment lists the same timers in the same order (the shipped YAML kept
    it), so the position names them. Run before any reordering.
    """
    rows = await scope.timers().filter(timer_name="", timer_index__isnull=False, status="armed").values(
        "id", "timer_index", "ticket__process"
    )
    named = 0
    for row in rows:
        process = tenant.processes.get(row["ticket__process"])
        if process is not None and 0 <= row["timer_index"] < len(process.timers):
            named += await scope.timers().filter(id=row["id"], timer_name="").update(
                timer_name=process.timers[row["timer_index"]].name
            )
    return named


async def migrate(scope: TenantScope, tenant: CompiledTenant, now: datetime) -> MigrationReport:
    """Apply the `state_map`s and cancel armed timers the configuration lost, in one transaction."""
    report = MigrationReport(tenant.slug)
    async with transaction():
        report.named_timers = await name_legacy_timers(scope, tenant)
        for item in await drift(scope, tenant):
            if item.kind == "state" and item.resolution is not None and item.process is not None:
                tickets = await scope.tickets().filter(closed_at__isnull=True, process=item.process, state=item.name)
                for ticket in tickets:
                    await _remap(scope, tenant, ticket, now)
                    report.moved[(item.process, item.name, item.resolution)] += 1
        report.cancelled_timers = await _cancel_lost_timers(scope, tenant, now)
    return report


async def _remap(scope: TenantScope, tenant: CompiledTenant, ticket: Ticket, now: datetime) -> None:
    view = await views.ticket_view(scope, ticket)
    outcome = remap_state(tenant, view, ticket.public_status, now)
    if isinstance(outcome, Refusal):  # drift() found it mapped: cannot happen unless the YAML changed meanwhile
        raise RuntimeError(f"{ticket.number}: {outcome.message}")
    await apply_outcome(scope, tenant, ticket, view, outcome, SYSTEM, now, ticket.version)


async def _cancel_lost_timers(scope: TenantScope, tenant: CompiledTenant, now: datetime) -> int:
    rows = await scope.timers().filter(status="armed").values("id", "ticket_id", "timer_name", "ticket__process")
    cancelled = 0
    for row in rows:
        process = tenant.processes.get(row["ticket__process"])
        if process is None or process.timer(row["timer_name"]) is not None:
            continue
        cancelled += await scope.timers().filter(id=row["id"], status="armed").update(
            status="cancelled", cancelled_at=now
        )
        ticket = await scope.get(Ticket, id=row["ticket_id"])
        await audit(scope, ticket, SYSTEM, "timer_cancelled", {"timer": row["timer_name"]}, {},
                    now, "the timer was removed from the process's definition")
    return cancelled
