"""Rehearse demo plans without a database: every step through the engine's pure runtime and the service's checks.

`rehearse(tenant, cast, plans, now)` plays each plan on a `RuntimeStage`:
the submission passes `intake.validate_submission` and the photo checks, the
ticket enters its process through `runtime.start`, and every step goes
through `fire` / `fire_task` and the service's pure checks for edits and
comments — the same decisions the service makes when seeding, minus the
writing. On top of what the service checks, it holds each plan to the
planner's own promises: a reclassified report also satisfies its final
category's rules (contact, required attributes, photos, channel), the steps
move forward and end before `now`, and the story ends in the state its
scenario names.

The seeder rehearses before writing anything; the tests rehearse thousands
of (seed, moment) pairs in seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from komunikator.cli.demo.plan import TicketPlan
from komunikator.cli.demo.play import Cast, SeedError, StoryPlayer
from komunikator.cli.demo.stories import BY_NAME
from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.runtime import fire, fire_task, start
from komunikator.engine.runtime.access import sees_ticket
from komunikator.engine.runtime.outcome import Refusal
from komunikator.engine.runtime.views import Membership, TicketView, UserView
from komunikator.engine.service import intake, tickets
from komunikator.engine.service.attachments import check_photo_count
from komunikator.engine.service.errors import ServiceError


@dataclass(frozen=True)
class Problem:
    """Why one plan would not seed (or would seed something the planner did not mean)."""

    index: int
    scenario: str
    category: str
    at: str  # "submit", a step kind, "timeline" or "end"
    message: str

    def __str__(self) -> str:
        return f"ticket {self.index} ({self.scenario}, {self.category}) at {self.at}: {self.message}"


class _Refused(Exception):
    """The engine or a service check refused a step."""


def target_submission(plan: TicketPlan, category: str, tenant: CompiledTenant) -> intake.Submission:
    """The plan's report as if it had been filed under `category` (with the attributes that category has)."""
    known = tenant.categories[category].spec.attributes
    attributes = {k: v for k, v in dict(plan.submission.get("attributes") or {}).items() if k in known}
    return intake.Submission(**{**plan.submission, "category": category, "attributes": attributes})


def check_report(tenant: CompiledTenant, plan: TicketPlan, sub: intake.Submission) -> None:
    """Every rule a category sets for a report: the service's validation, its photo limits, required photos."""
    channel: intake.Channel = "staff" if plan.channel == "staff" else "public"
    intake.validate_submission(tenant, sub, channel, plan.resident is not None)
    check_photo_count(tenant, sub.category, plan.photos)
    if tenant.categories[sub.category].spec.photo == "required" and not plan.photos:
        raise _Refused(f"category {sub.category!r} needs a photo and the plan has none")


class RuntimeStage:
    """A `play.Stage` over the pure runtime: one plan's ticket as a `TicketView`."""

    def __init__(self, tenant: CompiledTenant, duplicates: set[str]) -> None:
        self.tenant = tenant
        self.duplicates = duplicates  # numbers of rehearsed tickets that became duplicates
        self.plan: TicketPlan | None = None
        self.ticket: TicketView | None = None

    def number(self) -> str:
        assert self.plan is not None  # noqa: S101 - set by submit()
        return f"#{self.plan.index}"

    async def view(self) -> TicketView:
        assert self.ticket is not None  # noqa: S101 - set by submit()
        return self.ticket

    def _visible(self, user: UserView) -> TicketView:
        ticket = self.ticket
        assert ticket is not None  # noqa: S101 - set by submit()
        if not sees_ticket(self.tenant, user, ticket):
            raise _Refused(f"{user.name or user.id} does not see the ticket (the service answers 404)")
        return ticket

    def _take(self, result: Any) -> None:
        if isinstance(result, Refusal):
            raise _Refused(f"{result.code}: {result.message}")
        self.ticket = result.ticket

    async def submit(self, plan: TicketPlan, actor: UserView, reporter: UserView | None) -> None:
        self.plan = plan
        sub = intake.Submission(**plan.submission)
        check_report(self.tenant, plan, sub)
        reporter_id = int(reporter.id) if reporter is not None else None
        view = intake.initial_view(self.tenant, sub, self.number(), reporter_id, plan.created)
        self.ticket = start(self.tenant, view, actor, plan.created).ticket

    async def act(self, action: str, user: UserView, inputs: dict[str, Any], now: datetime) -> None:
        ticket = self._visible(user)
        if action == "mark_duplicate" and str(inputs.get("duplicate_of")) in self.duplicates:
            raise _Refused(f"{inputs['duplicate_of']} is itself a duplicate")
        self._take(fire(self.tenant, ticket, action, user, inputs, now))
        if action == "mark_duplicate":
            self.duplicates.add(self.number())
        if action == "reclassify":
            assert self.plan is not None  # noqa: S101 - set by submit()
            check_report(self.tenant, self.plan, target_submission(self.plan, str(inputs["category"]), self.tenant))

    async def act_on_task(self, key: str, action: str, user: UserView, inputs: dict[str, Any], now: datetime,
                          to_user: UserView | None = None) -> None:
        ticket = self._visible(user)
        if to_user is not None:
            inputs = {**inputs, "to_user": to_user}
        self._take(fire_task(self.tenant, ticket, key, action, user, inputs, now))

    async def edit_address(self, address: str, user: UserView, now: datetime) -> None:
        tickets.check_edit(self.tenant, self._visible(user), user, now)
        if not address.strip():
            raise _Refused("the corrected address is empty")

    async def comment(self, user: UserView, body: str, visibility: str, now: datetime,
                      target_unit: str | None) -> None:
        tickets.check_comment(self.tenant, self._visible(user), user, body, visibility, target_unit,
                              now=now)


def _timeline(plan: TicketPlan, now: datetime) -> str | None:
    times = [plan.created, *(s.at for s in plan.steps)]
    if times != sorted(times):
        return "the steps go back in time"
    if times[-1] >= now:
        return f"a step lies at or after the moment of seeding ({times[-1].isoformat()})"
    return None


def _expected_state(tenant: CompiledTenant, plan: TicketPlan, final: TicketView) -> str:
    if plan.scenario == "duplicate":
        return tenant.processes[final.process].duplicate_state or "duplicate"
    return BY_NAME[plan.scenario].ends_in


async def rehearse(tenant: CompiledTenant, cast: Cast, plans: Sequence[TicketPlan], now: datetime) -> list[Problem]:
    """Play every plan without a database; the problems found (none for a valid plan)."""
    problems: list[Problem] = []
    numbers: dict[int, str] = {}
    duplicates: set[str] = set()
    for plan in sorted(plans, key=lambda p: (p.created, p.index)):
        def problem(at: str, message: str, plan: TicketPlan = plan) -> Problem:
            return Problem(plan.index, plan.scenario, str(plan.submission.get("category")), at, message)

        if (wrong := _timeline(plan, now)) is not None:
            problems.append(problem("timeline", wrong))
        stage = RuntimeStage(tenant, duplicates)
        player = StoryPlayer(tenant, cast, stage, numbers)
        try:
            numbers[plan.index] = await player.play(plan)
        except (_Refused, ServiceError, SeedError) as exc:
            problems.append(problem(player.doing, _message(exc)))
            continue
        final = await stage.view()
        expected = _expected_state(tenant, plan, final)
        if final.state != expected:
            problems.append(problem("end", f"the story ends in {final.state!r}, not {expected!r}"))
    return problems


def _message(exc: Exception) -> str:
    if isinstance(exc, ServiceError):
        return f"{exc.code}: {exc.message}"
    return str(exc)


def rehearsal_cast(tenant: CompiledTenant, staff: Sequence[tuple[str, str, Sequence[str]]],
                   residents: int) -> Cast:
    """A cast made up from a staff list (e-mail, name, ["unit:role", …]) without a database."""
    people = [
        UserView(str(n), tuple(Membership(*m.split(":", 1)) for m in memberships), "staff", name)
        for n, (_email, name, memberships) in enumerate(staff, start=1)
    ]
    first = len(people) + 1
    return Cast.of(tenant, people, [UserView(str(first + n), (), "resident") for n in range(residents)])


__all__ = ["Problem", "RuntimeStage", "check_report", "rehearsal_cast", "rehearse", "target_submission"]
