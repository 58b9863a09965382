"""Seed a demo city: a few hundred realistic tickets, driven through the service layer.

`seed_tenant` plans the tickets (`seed_plan.py`: deterministic in the seed)
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
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.media.storage import Storage
from komunikator.engine.runtime import allowed_actions
from komunikator.engine.runtime.access import edits_tickets, handles, records_for_external
from komunikator.engine.runtime.views import TaskView, UserView
from komunikator.engine.service import accounts, attachments, intake, tickets, views
from komunikator.engine.service import seed_content as content
from komunikator.engine.service.seed_plan import Step, TicketPlan, plan_tickets
from komunikator.engine.store import db
from komunikator.engine.store.models import Ticket
from komunikator.engine.store.scope import TenantScope

#: (e-mail, display name, ["unit:role", …]): a staff account the seeder acts as.
StaffMember = tuple[str, str, Sequence[str]]
#: Tickets per city when no count is given.
DEFAULT_COUNTS: Mapping[str, int] = {"zgierz": 200, "nieporet": 60}
DEFAULT_COUNT = 100
#: The anonymous resident of the public form (as in the API).
ANONYMOUS = UserView("anonymous", (), "resident", "anonymous")


class SeedError(RuntimeError):
    """A plan could not be played (a missing handler, a refused step): the seeder's bug or a tenant it cannot seed."""


@dataclass
class SeedReport:
    """What one run did for one tenant."""

    slug: str
    planned: int = 0
    created: int = 0
    skipped: int = 0
    photos: int = 0
    seconds: float = 0.0
    #: process → state → tickets (all of the tenant's tickets, seeded or not)
    states: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """The tenant's tickets after the run."""
        return sum(sum(s.values()) for s in self.states.values())


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


@dataclass(frozen=True)
class Cast:
    """Who does what in one tenant: the dispatcher, each unit's handler, the residents."""

    tenant: CompiledTenant
    dispatcher: UserView
    staff: tuple[UserView, ...]
    residents: tuple[UserView, ...]

    @classmethod
    def of(cls, tenant: CompiledTenant, staff: Sequence[UserView], residents: Sequence[UserView]) -> Cast:
        """Pick the dispatcher (the first staff member who edits tickets)."""
        dispatcher = next((u for u in staff if edits_tickets(tenant, u)), None)
        if dispatcher is None:
            raise SeedError(f"{tenant.slug}: no staff member edits tickets (a dispatcher is needed)")
        return cls(tenant, dispatcher, tuple(staff), tuple(residents))

    def handler(self, unit: str) -> UserView | None:
        """Who takes the unit's tasks: a member of the unit itself before one of a unit above it."""
        able = [u for u in self.staff if handles(self.tenant, u, unit)]
        own = [u for u in able if any(m.unit == unit for m in u.memberships)]
        return (own or able)[0] if able else None

    def worker_for(self, task: TaskView) -> UserView:
        """Who completes or withdraws a task: its unit's handler, or the dispatcher for a unit without accounts."""
        user = self.handler(task.unit)
        if user is not None:
            return user
        if records_for_external(self.tenant, self.dispatcher, task):
            return self.dispatcher
        raise SeedError(f"{self.tenant.slug}: nobody handles tasks of unit {task.unit!r}; add a staff member")

    def handled_units(self) -> frozenset[str]:
        """Units whose tasks someone can take."""
        return frozenset(u for u in self.tenant.units if self.handler(u) is not None)


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


class _Story:
    """Plays one plan against the service layer (`ticket` is the row as the last call left it)."""

    def __init__(self, scope: TenantScope, tenant: CompiledTenant, cast: Cast, numbers: dict[int, str],
                 seed: int | str, storage: Storage | None) -> None:
        self.scope, self.tenant, self.cast, self.numbers = scope, tenant, cast, numbers
        self.seed, self.storage = seed, storage
        self.photos = 0
        self.ticket: Ticket | None = None

    async def play(self, plan: TicketPlan) -> str:
        self.ticket = await self._submit(plan)
        for step in plan.steps:
            await getattr(self, f"_{step.kind}")(plan, step)
        return self.number

    @property
    def number(self) -> str:
        assert self.ticket is not None  # noqa: S101 - set by play()
        return str(self.ticket.number)

    async def _active(self) -> list[TaskView]:
        """The current step's active tasks (one query; the ticket row is already known)."""
        assert self.ticket is not None  # noqa: S101 - set by play()
        rows = await self.scope.tasks().filter(ticket_id=self.ticket.id, step=self.ticket.step).order_by("id")
        return [t for t in map(views.task_view, rows) if t.active]

    async def _first_active(self) -> TaskView:
        active = await self._active()
        if not active:
            raise SeedError(f"{self.number}: no active task")
        return active[0]

    async def _submit(self, plan: TicketPlan) -> Ticket:
        sub = intake.Submission(**plan.submission)
        reporter = self.cast.residents[plan.resident] if plan.resident is not None else None
        actor = self.cast.dispatcher if plan.channel == "staff" else reporter or ANONYMOUS
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
        return ticket

    async def _act(self, action: str, user: UserView, inputs: dict[str, Any], now: datetime) -> None:
        self.ticket = await tickets.act(self.scope, self.tenant, self.number, action, user, inputs, now)

    async def _task(self, task: TaskView, action: str, user: UserView, inputs: dict[str, Any],
                    now: datetime) -> None:
        self.ticket = await tickets.act_on_task(self.scope, self.tenant, self.number, task.key, action, user, inputs,
                                                now)

    async def _who_may(self, action: str, now: datetime) -> UserView:
        assert self.ticket is not None  # noqa: S101 - set by play()
        view = await views.ticket_view(self.scope, self.ticket)
        candidates = [self.cast.handler(t.unit) for t in view.current_tasks() if t.active] + [self.cast.dispatcher]
        for user in candidates:
            if user is not None and any(a.name == action for a in allowed_actions(self.tenant, view, user, now)):
                return user
        raise SeedError(f"{self.number}: nobody may {action!r} in state {view.state!r}")

    # the step kinds (seed_plan.Step.kind)

    async def _verify(self, plan: TicketPlan, step: Step) -> None:
        inputs = {"internal_comment": step.text} if step.text else {}
        await self._act("verify", self.cast.dispatcher, inputs, step.at)

    async def _take(self, plan: TicketPlan, step: Step) -> None:
        for task in await self._active():
            user = self.cast.handler(task.unit)
            if task.state == "open" and user is not None:
                await self._task(task, "take", user, {}, step.at)

    async def _complete(self, plan: TicketPlan, step: Step) -> None:
        active = await self._active()
        for task in active[:1] if step.target == "one" else active:
            await self._task(task, "complete", self.cast.worker_for(task), {}, step.at)

    async def _delegate(self, plan: TicketPlan, step: Step) -> None:
        task = await self._first_active()
        user = self.cast.handler(task.unit) or self.cast.dispatcher
        inputs: dict[str, Any] = {"reason": step.text, "to_unit": step.target}
        target = self.cast.handler(step.target or "")
        if step.person and target is not None and any(m.unit == step.target for m in target.memberships):
            inputs = {"reason": step.text, "to_user": target.id}
        await self._task(task, "delegate", user, inputs, step.at)

    async def _withdraw(self, plan: TicketPlan, step: Step) -> None:
        task = await self._first_active()
        await self._task(task, "withdraw", self.cast.worker_for(task), {"reason": step.text}, step.at)

    async def _ask(self, plan: TicketPlan, step: Step) -> None:
        await self._act("ask_resident", await self._who_may("ask_resident", step.at), {"public_comment": step.text},
                        step.at)

    async def _answer(self, plan: TicketPlan, step: Step) -> None:
        if plan.resident is None:
            raise SeedError(f"{self.number}: only a reporter with an account answers")
        resident = self.cast.residents[plan.resident]
        await self._act("resident_answered", resident, {"public_comment": step.text}, step.at)

    async def _resume(self, plan: TicketPlan, step: Step) -> None:
        await self._act("resume", await self._who_may("resume", step.at), {"internal_comment": step.text}, step.at)

    async def _reject(self, plan: TicketPlan, step: Step) -> None:
        await self._act("reject", self.cast.dispatcher, {"public_comment": step.text}, step.at)

    async def _reopen(self, plan: TicketPlan, step: Step) -> None:
        await self._act("reopen", self.cast.dispatcher, {"public_comment": step.text}, step.at)

    async def _duplicate(self, plan: TicketPlan, step: Step) -> None:
        master = self.numbers.get(step.ref) if step.ref is not None else None
        if master is None:
            raise SeedError(f"{self.number}: its master ticket was not seeded")
        await self._act("mark_duplicate", self.cast.dispatcher,
                        {"duplicate_of": master, "internal_comment": f"Duplikat zgłoszenia {master}."}, step.at)

    async def _reclassify(self, plan: TicketPlan, step: Step) -> None:
        name = self.tenant.categories[step.target or ""].spec.name.get("pl", step.target)
        await self._act("reclassify", self.cast.dispatcher,
                        {"category": step.target, "internal_comment": f"Zmiana kategorii na: {name}."}, step.at)

    async def _priority(self, plan: TicketPlan, step: Step) -> None:
        await self._act("set_priority", self.cast.dispatcher, {"priority": step.target}, step.at)

    async def _edit(self, plan: TicketPlan, step: Step) -> None:
        self.ticket = await tickets.edit(self.scope, self.tenant, self.number, tickets.TicketEdit(address=step.text),
                                         self.cast.dispatcher, step.at)

    async def _comment(self, plan: TicketPlan, step: Step) -> None:
        visibility: tickets.Visibility = step.target or "internal"  # type: ignore[assignment]
        target_unit = None
        user = self.cast.dispatcher
        if visibility == "to_unit":
            target_unit = (await self._first_active()).unit
        elif visibility in ("internal", "public"):
            active = await self._active()
            user = (self.cast.handler(active[0].unit) if active else None) or user
        await tickets.add_comment(self.scope, self.tenant, self.number, user, step.text or "",
                                  visibility, step.at, target_unit=target_unit)


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
    numbers = await _seeded_numbers(scope, tenant.slug, seed)
    report = SeedReport(tenant.slug, planned=len(plans))
    story = _Story(scope, tenant, cast, numbers, seed, storage)
    for plan in sorted(plans, key=lambda p: (p.created, p.index)):
        if plan.index in numbers:
            report.skipped += 1
            continue
        try:
            async with in_transaction(db.CONNECTION):
                last = await scope.outbox().order_by("-id").first()
                last_row = last.id if last is not None else None
                numbers[plan.index] = await story.play(plan)
                await _file_as_history(scope, last_row)
        except Exception as exc:
            raise SeedError(f"{tenant.slug}: ticket {plan.index} ({plan.scenario}, {plan.submission['category']}) "
                            f"failed: {exc}") from exc
        report.created += 1
    report.photos = story.photos
    report.states = await count_states(scope)
    report.seconds = time.perf_counter() - started
    return report
