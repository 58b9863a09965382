"""Play a planned ticket's story on a stage: the service layer (seeding) or the bare runtime (rehearsal).

`StoryPlayer` decides, step by step, who does what to which task — the
dispatcher verifies, a unit's handler takes and completes its tasks, a
resident with an account answers — and asks its `Stage` to do it. The
seeder's stage (`seed.ServiceStage`) calls the service layer exactly as the
API does; the rehearsal's stage (`rehearsal.RuntimeStage`) calls the
engine's pure runtime and the service's own pure checks, without a database,
so a plan's validity can be tested over thousands of (seed, moment) pairs in
seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from komunikator.cli.demo.plan import Step, TicketPlan
from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime import allowed_actions
from komunikator.engine.runtime.access import edits_tickets, handles, records_for_external
from komunikator.engine.runtime.capabilities import capabilities
from komunikator.engine.runtime.views import TaskView, TicketView, UserView

#: The anonymous resident of the public form (as in the API).
ANONYMOUS = UserView("anonymous", (), "resident", "anonymous")


class SeedError(RuntimeError):
    """A plan could not be played (a missing handler, a refused step): the seeder's bug or a tenant it cannot seed.

    `slug`, `seed` and `now` (the moment the plan was made for) reproduce it:
    `komunikator seed SLUG --seed SEED --now NOW` plans exactly the same tickets.
    `created` counts the tickets this run had seeded before it stopped.
    """

    def __init__(self, message: str, *, slug: str | None = None, seed: int | str | None = None,
                 now: datetime | None = None, created: int = 0) -> None:
        super().__init__(message)
        self.slug, self.seed, self.now, self.created = slug, seed, now, created

    def reproduce(self, extra: str = "") -> str | None:
        """The command that plans the same tickets again, when the error knows its seed and moment."""
        if self.slug is None or self.seed is None or self.now is None:
            return None
        return reproduce_command(self.slug, self.seed, self.now, extra)


def reproduce_command(slug: str, seed: int | str, now: datetime, extra: str = "") -> str:
    """`komunikator seed …` that plans exactly the tickets planned for `slug` with `seed` at `now`."""
    return f"komunikator seed {slug} --seed {seed} --now {moment_text(now)}{extra}"


def moment_text(now: datetime) -> str:
    """`now` as `--now` takes it, to the microsecond (the plan depends on every digit)."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


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


class Stage(Protocol):
    """Where a story happens. Each call acts on the ticket the last `submit` created."""

    async def submit(self, plan: TicketPlan, actor: UserView, reporter: UserView | None) -> None:
        """File the plan's submission (with its photos, where the stage keeps photos)."""

    async def view(self) -> TicketView:
        """The ticket as the engine sees it now."""

    def number(self) -> str:
        """The ticket's number (what a duplicate names as its master)."""

    async def act(self, action: str, user: UserView, inputs: dict[str, Any], now: datetime) -> None:
        """A process transition or a built-in action."""

    async def act_on_task(self, key: str, action: str, user: UserView, inputs: dict[str, Any], now: datetime,
                          to_user: UserView | None = None) -> None:
        """A task action (`to_user`: the person a task is delegated to)."""

    async def edit_address(self, address: str, user: UserView, now: datetime) -> None:
        """The dispatcher corrects the address."""

    async def comment(self, user: UserView, body: str, visibility: str, now: datetime,
                      target_unit: str | None) -> None:
        """A note, a public update, or a message to the reporter or to a unit."""


class StoryPlayer:
    """Plays plans on a stage; `numbers` maps plan indexes to the numbers of tickets already played."""

    def __init__(self, tenant: CompiledTenant, cast: Cast, stage: Stage, numbers: Mapping[int, str]) -> None:
        self.tenant, self.cast, self.stage, self.numbers = tenant, cast, stage, numbers
        self.doing = "submit"  # what the last play was doing: "submit" or a step kind

    async def play(self, plan: TicketPlan) -> str:
        """Submit the plan's ticket and play every step; the ticket's number."""
        reporter = self.cast.residents[plan.resident] if plan.resident is not None else None
        actor = self.cast.dispatcher if plan.channel == "staff" else reporter or ANONYMOUS
        self.doing = "submit"
        await self.stage.submit(plan, actor, reporter)
        for step in plan.steps:
            self.doing = step.kind
            await getattr(self, f"_{step.kind}")(plan, step)
        return self.stage.number()

    async def _active(self) -> list[TaskView]:
        """The current step's active tasks, in creation order."""
        return [t for t in (await self.stage.view()).current_tasks() if t.active]

    async def _first_active(self) -> TaskView:
        active = await self._active()
        if not active:
            raise SeedError(f"{self.stage.number()}: no active task")
        return active[0]

    async def _who_may(self, action: str, now: datetime) -> UserView:
        view = await self.stage.view()
        candidates = [self.cast.handler(t.unit) for t in view.current_tasks() if t.active] + [self.cast.dispatcher]
        for user in candidates:
            if user is not None and any(a.name == action for a in allowed_actions(self.tenant, view, user, now)):
                return user
        raise SeedError(f"{self.stage.number()}: nobody may {action!r} in state {view.state!r}")

    # the step kinds (plan.Step.kind)

    async def _verify(self, plan: TicketPlan, step: Step) -> None:
        inputs = {"internal_comment": step.text} if step.text else {}
        await self.stage.act("verify", self.cast.dispatcher, inputs, step.at)

    async def _take(self, plan: TicketPlan, step: Step) -> None:
        for task in await self._active():
            user = self.cast.handler(task.unit)
            if task.state == "open" and user is not None:
                await self.stage.act_on_task(task.key, "take", user, {}, step.at)

    async def _complete(self, plan: TicketPlan, step: Step) -> None:
        active = await self._active()
        for task in active[:1] if step.target == "one" else active:
            await self.stage.act_on_task(task.key, "complete", self.cast.worker_for(task), {}, step.at)

    async def _delegate(self, plan: TicketPlan, step: Step) -> None:
        task = await self._first_active()
        user = self.cast.handler(task.unit) or self.cast.dispatcher
        target = self.cast.handler(step.target or "")
        if step.person and target is not None and any(m.unit == step.target for m in target.memberships):
            await self.stage.act_on_task(task.key, "delegate", user, {"reason": step.text}, step.at, to_user=target)
        else:
            await self.stage.act_on_task(task.key, "delegate", user, {"reason": step.text, "to_unit": step.target},
                                         step.at)

    async def _withdraw(self, plan: TicketPlan, step: Step) -> None:
        task = await self._first_active()
        await self.stage.act_on_task(task.key, "withdraw", self.cast.worker_for(task), {"reason": step.text},
                                     step.at)

    async def _ask(self, plan: TicketPlan, step: Step) -> None:
        user = await self._who_may("ask_resident", step.at)
        await self.stage.act("ask_resident", user, {"public_comment": step.text}, step.at)

    async def _answer(self, plan: TicketPlan, step: Step) -> None:
        if plan.resident is None:
            raise SeedError(f"{self.stage.number()}: only a reporter with an account answers")
        resident = self.cast.residents[plan.resident]
        await self.stage.act("resident_answered", resident, {"public_comment": step.text}, step.at)

    async def _resume(self, plan: TicketPlan, step: Step) -> None:
        user = await self._who_may("resume", step.at)
        await self.stage.act("resume", user, {"internal_comment": step.text}, step.at)

    async def _reject(self, plan: TicketPlan, step: Step) -> None:
        await self.stage.act("reject", self.cast.dispatcher, {"public_comment": step.text}, step.at)

    async def _reopen(self, plan: TicketPlan, step: Step) -> None:
        await self.stage.act("reopen", self.cast.dispatcher, {"public_comment": step.text}, step.at)

    async def _duplicate(self, plan: TicketPlan, step: Step) -> None:
        master = self.numbers.get(step.ref) if step.ref is not None else None
        if master is None:
            raise SeedError(f"{self.stage.number()}: its master ticket was not seeded")
        await self.stage.act("mark_duplicate", self.cast.dispatcher,
                             {"duplicate_of": master, "internal_comment": f"Duplikat zgłoszenia {master}."}, step.at)

    async def _reclassify(self, plan: TicketPlan, step: Step) -> None:
        name = self.tenant.categories[step.target or ""].spec.name.get("pl", step.target)
        await self.stage.act("reclassify", self.cast.dispatcher,
                             {"category": step.target, "internal_comment": f"Zmiana kategorii na: {name}."}, step.at)

    async def _priority(self, plan: TicketPlan, step: Step) -> None:
        await self.stage.act("set_priority", self.cast.dispatcher, {"priority": step.target}, step.at)

    async def _edit(self, plan: TicketPlan, step: Step) -> None:
        await self.stage.edit_address(step.text or "", self.cast.dispatcher, step.at)

    async def _comment(self, plan: TicketPlan, step: Step) -> None:
        visibility = step.target or "internal"
        target_unit = None
        user = self.cast.dispatcher
        if visibility == "to_unit":
            target_unit = (await self._first_active()).unit
        elif visibility in ("internal", "public"):
            active = await self._active()
            handler = self.cast.handler(active[0].unit) if active else None
            # the unit's handler speaks where its role may (an external firm adds no public comment)
            if handler is not None and capabilities(self.cast.tenant, await self.stage.view(), handler,
                                                    step.at).refusal(f"comment:{visibility}") is None:
                user = handler
        await self.stage.comment(user, step.text or "", visibility, step.at, target_unit)
