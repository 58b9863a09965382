"""Seed a demo city: a few hundred realistic tickets, driven through the service layer.

`seed_tenant` plans the tickets (`plan.py`: deterministic in the seed)
and plays each plan's story with the same calls the API makes —
`intake.submit` (or `attachments.submit_with_photos`), `tickets.act`,
`tickets.act_on_task`, `tickets.edit`, `tickets.add_comment`,
`attachments.add` — at the story's own dates (`now` moves forward step by
step). Nothing writes a table directly, so the tickets, tasks, delegation
history, audit trail, outbox and search rows are exactly what real use would
leave.

Idempotent: each ticket is submitted with the Idempotency-Key
`seed:<slug>:<seed>:<index>` and its whole story runs in one transaction
(the service's own transactions nest inside it as savepoints), so a ticket
is either fully seeded or not at all, and a second run skips every key it
finds. Staff come from a `StaffMember` list (the demo's accounts) and are
created when missing; residents with accounts are created too.
"""

from __future__ import annotations

import io
import random
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from komunikator.cli.demo import content
from komunikator.cli.demo.plan import TicketPlan, plan_tickets
from komunikator.cli.demo.play import Cast, SeedError, StoryPlayer, reproduce_command
from komunikator.cli.demo.rehearsal import Problem, rehearse
from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.media.storage import Storage
from komunikator.engine.runtime.views import TicketView, UserView
from komunikator.engine.service import accounts, addresses, attachments, intake, tickets
from komunikator.engine.service import row_views as views
from komunikator.engine.store.expressions import F
from komunikator.engine.store.models import Ticket
from komunikator.engine.store.scope import TenantScope
from komunikator.engine.store.transactions import transaction

#: (e-mail, display name, ["unit:role", …]): a staff account the seeder acts as.
StaffMember = tuple[str, str, Sequence[str]]
#: Tickets per city when no count is given.
DEFAULT_COUNTS: Mapping[str, int] = {"zgierz": 200, "nieporet": 60}
DEFAULT_COUNT = 100
@dataclass
class SeedReport:
    """What one run did for one tenant."""

    slug: str
    planned: int = 0
    created: int = 0
    skipped: int = 0
    photos: int = 0
    seconds: float = 0.0
    seed: int | str = 1
    now: datetime | None = None  # the moment the plans were made for
    #: plans the rehearsal refused, left out (a bug of the planner: never expected)
    problems: list[Problem] = field(default_factory=list)
    #: process → state → tickets (all of the tenant's tickets, seeded or not)
    states: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """The tenant's tickets after the run."""
        return sum(sum(s.values()) for s in self.states.values())

    def reproduce(self, extra: str = "") -> str:
        """The command that plans this run's tickets again."""
        return reproduce_command(self.slug, self.seed, self.now or datetime.now(UTC), extra)


def key_for(slug: str, seed: int | str, index: int) -> str:
    """The Idempotency-Key of seeded ticket `index`."""
    return f"seed:{slug}:{seed}:{index}"


#: `last_error` of the notifications a seeded story wrote: they belong to its past.
HISTORY_NOTE = "seeded history: not delivered"


async def _file_as_history(scope: TenantScope, after_id: int | None) -> None:
    """Record the notifications a story wrote (outbox rows after `after_id`) as done, without sending them.

    The story happened months ago: a demo pointed at a real SMTP server must not
    mail its residents (example addresses) hundreds of old updates. The rows
    stay, as real use would leave them, `sent` with a note, like a row that
    reaches nobody.
    """
    rows = scope.outbox().filter(status="pending")
    if after_id is not None:
        rows = rows.filter(id__gt=after_id)
    await rows.update(status="sent", sent_at=F("created_at"), claimed_until=None, last_error=HISTORY_NOTE)


# -- people ---------------------------------------------------------------------------------------


async def ensure_staff(
    scope: TenantScope, tenant: CompiledTenant, staff: Sequence[StaffMember], password: str | None
) -> list[UserView]:
    """The staff accounts (created with `password` and memberships when missing), as the engine sees them."""
    out = []
    for email, name, memberships in staff:
        user = await accounts.find_user(scope, email)
        if user is None:
            user = await accounts.create_user(scope, email, name, password=password)
        have = {(m.unit, m.role) for m in await accounts.memberships_of(scope, user)}
        for membership in memberships:
            unit, role = membership.split(":", 1)
            if (unit, role) not in have:
                await accounts.grant(scope, tenant, user, unit, role)
        out.append(await views.user_view(scope, user))
    return out


async def ensure_residents(scope: TenantScope) -> list[UserView]:
    """The demo's residents with portal accounts (no password: they cannot log in until given one)."""
    out = []
    for email, name in content.RESIDENTS:
        user = await accounts.find_user(scope, email)
        if user is None:
            user = await accounts.create_user(scope, email, name, kind="resident")
        out.append(await views.user_view(scope, user))
    return out


# -- photos ---------------------------------------------------------------------------------------


_PALETTES = {
    "roads": ((92, 92, 96), (60, 60, 62)), "greenery": ((70, 120, 60), (40, 80, 35)),
    "dumping": ((120, 100, 70), (80, 70, 50)), "cleanliness": ((140, 130, 110), (90, 85, 80)),
    "lighting": ((30, 35, 60), (240, 210, 120)), "winter": ((225, 230, 240), (160, 170, 190)),
}


def photo_bytes(rng: random.Random, group: str | None, width: int = 480, height: int = 360) -> bytes:
    """A generated JPEG "photo": a textured background and a few shapes, deterministic in `rng`."""
    from PIL import Image, ImageDraw, ImageFilter

    base, accent = _PALETTES.get(group or "", ((120, 120, 115), (70, 70, 70)))
    noise = Image.frombytes("L", (width // 8, height // 8), rng.randbytes((width // 8) * (height // 8)))
    texture = noise.resize((width, height), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(2))
    image = Image.composite(Image.new("RGB", (width, height), base), Image.new("RGB", (width, height), accent),
                            texture.point(lambda v: 80 + v // 2))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(2, 6)):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randint(20, width // 3), rng.randint(15, height // 3)
        colour = tuple(rng.randint(20, 235) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse((x, y, x + w, y + h), fill=colour)
        else:
            draw.polygon([(x, y), (x + w, y + rng.randint(-h, h)), (x + rng.randint(0, w), y + h)], fill=colour)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


# -- playing a plan -------------------------------------------------------------------------------


class ServiceStage:
    """The seeder's stage (`play.Stage`): every step is the service call the API would make."""

    def __init__(self, scope: TenantScope, tenant: CompiledTenant, seed: int | str, storage: Storage | None) -> None:
        self.scope, self.tenant, self.seed, self.storage = scope, tenant, seed, storage
        self.photos = 0
        self.ticket: Ticket | None = None

    def number(self) -> str:
        assert self.ticket is not None  # noqa: S101 - set by submit()
        return str(self.ticket.number)

    async def view(self) -> TicketView:
        assert self.ticket is not None  # noqa: S101 - set by submit()
        return await views.ticket_view(self.scope, self.ticket)

    async def submit(self, plan: TicketPlan, actor: UserView, reporter: UserView | None) -> None:
        sub = intake.Submission(**plan.submission)
        reporter_id = int(reporter.id) if reporter is not None else None

        async def render(ticket: Ticket) -> dict[str, Any]:
            return {"number": ticket.number}

        key = key_for(self.tenant.slug, self.seed, plan.index)
        common: dict[str, Any] = {"channel": plan.channel, "actor": actor, "reporter_user_id": reporter_id,
                                  "now": plan.created, "idempotency_key": key, "render": render}
        if plan.photos and self.storage is not None:
            rng = random.Random(f"{key}:photos")  # noqa: S311 - made-up pictures
            group = self.tenant.categories[sub.category].spec.group
            uploads = [attachments.Upload(photo_bytes(rng, group), f"IMG_{rng.randint(1000, 9999)}.jpg")
                       for _ in range(plan.photos)]
            photo_sub = attachments.PhotoSubmission(**plan.submission)
            ticket, _ = await attachments.submit_with_photos(self.scope, self.tenant, photo_sub, uploads,
                                                             storage=self.storage, **common)
            self.photos += len(uploads)
        else:
            ticket, _ = await intake.submit(self.scope, self.tenant, sub, **common)
        if ticket is None:
            raise SeedError(f"ticket {key} was submitted meanwhile")
        self.ticket = ticket

    async def act(self, action: str, user: UserView, inputs: dict[str, Any], now: datetime) -> None:
        self.ticket = await tickets.act(self.scope, self.tenant, self.number(), action, user, inputs, now)

    async def act_on_task(self, key: str, action: str, user: UserView, inputs: dict[str, Any], now: datetime,
                          to_user: UserView | None = None) -> None:
        if to_user is not None:
            inputs = {**inputs, "to_user": to_user.id}
        self.ticket = await tickets.act_on_task(self.scope, self.tenant, self.number(), key, action, user, inputs,
                                                now)

    async def edit_address(self, address: str, user: UserView, now: datetime) -> None:
        self.ticket = await tickets.edit(self.scope, self.tenant, self.number(), tickets.TicketEdit(address=address),
                                         user, now)

    async def comment(self, user: UserView, body: str, visibility: str, now: datetime,
                      target_unit: str | None) -> None:
        await tickets.add_comment(self.scope, self.tenant, self.number(), user, body,
                                  visibility, now, target_unit=target_unit)  # type: ignore[arg-type]


async def _seeded_numbers(scope: TenantScope, slug: str, seed: int | str) -> dict[int, str]:
    """Plan index → ticket number of the tickets an earlier run seeded."""
    prefix = key_for(slug, seed, 0)[:-1]
    rows = await scope.idempotency_keys().filter(key__startswith=prefix).values_list("key", "response")
    out = {}
    for key, response in rows:
        tail = str(key)[len(prefix):]
        if tail.isdigit() and isinstance(response, dict) and response.get("number"):
            out[int(tail)] = str(response["number"])
    return out


async def count_states(scope: TenantScope) -> dict[str, dict[str, int]]:
    """Tickets per process and state."""
    rows = await scope.tickets().values_list("process", "state")
    counts: Counter[tuple[str, str]] = Counter((str(p), str(s)) for p, s in rows)
    out: dict[str, dict[str, int]] = {}
    for (process, state), n in sorted(counts.items()):
        out.setdefault(process, {})[state] = n
    return out


#: A demo city's generated address points (scripts/demo_geography), imported by the seeder into an empty register.
DEMO_ADDRESSES = "adresy.csv"


async def demo_addresses(scope: TenantScope, tenant: CompiledTenant) -> int:
    """Import the city's `adresy.csv` when it has one and holds no addresses yet; how many were imported."""
    path = Path(tenant.source_dir) / DEMO_ADDRESSES
    if not path.is_file() or await addresses.count(scope):
        return 0
    return (await addresses.import_addresses(scope, tenant, path.read_text(encoding="utf-8"))).imported


async def seed_tenant(
    scope: TenantScope,
    tenant: CompiledTenant,
    staff: Sequence[StaffMember],
    *,
    count: int | None = None,
    seed: int | str = 1,
    months: float = 6,
    end: datetime | None = None,
    password: str | None = None,
    storage: Storage | None = None,
) -> SeedReport:
    """Seed `count` tickets (default per city) over the `months` before `end` (default now).

    Photos are generated and stored through `storage` when one is given.
    Safe to run again: tickets seeded before (same slug and seed) are skipped.
    """
    started = time.perf_counter()
    count = DEFAULT_COUNTS.get(tenant.slug, DEFAULT_COUNT) if count is None else count
    end = (end or datetime.now(UTC)).astimezone(UTC)
    cast = Cast.of(tenant, await ensure_staff(scope, tenant, staff, password), await ensure_residents(scope))
    plans = plan_tickets(tenant, count, seed, end, months, cast.handled_units(), len(cast.residents))
    # The rehearsal plays every plan without a database; a plan it refuses (the planner's bug) is left out
    # and reported, so the city still gets every ticket that can be seeded.
    problems = await rehearse(tenant, cast, plans, end)
    left_out = {p.index for p in problems}
    numbers = await _seeded_numbers(scope, tenant.slug, seed)
    report = SeedReport(tenant.slug, planned=len(plans), seed=seed, now=end, problems=problems)
    await demo_addresses(scope, tenant)
    stage = ServiceStage(scope, tenant, seed, storage)
    player = StoryPlayer(tenant, cast, stage, numbers)
    for plan in sorted(plans, key=lambda p: (p.created, p.index)):
        if plan.index in numbers:
            report.skipped += 1
            continue
        if plan.index in left_out:
            continue
        try:
            async with transaction():
                last = await scope.outbox().order_by("-id").first()
                last_row = last.id if last is not None else None
                numbers[plan.index] = await player.play(plan)
                await _file_as_history(scope, last_row)
        except Exception as exc:
            raise SeedError(f"{tenant.slug}: ticket {plan.index} ({plan.scenario}, {plan.submission['category']}) "
                            f"failed: {exc}", slug=tenant.slug, seed=seed, now=end, created=report.created) from exc
        report.created += 1
    report.photos = stage.photos
    report.states = await count_states(scope)
    report.seconds = time.perf_counter() - started
    return report
