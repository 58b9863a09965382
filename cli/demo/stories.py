"""The stories of demo tickets: what happens to a report after it is submitted.

A scenario is a list of (gap in hours, kind, options) steps that `plan`
dates and `seed.py` plays through the service layer. Each scenario belongs to
a process family — `simple` (one unit, a waiting state) or `multi` (parallel
tasks, then acceptance) — and says how likely it is for young, recent and old
tickets, and where a forced (coverage) instance is placed in time.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from komunikator.cli.demo import content
from komunikator.engine.compiled import CompiledCategory, CompiledTenant
from komunikator.engine.schema.categories import Attribute


@dataclass(frozen=True)
class Scenario:
    """A story shape and when it is likely: weights for tickets younger than 3 days, 3–14 days, older."""

    name: str
    family: str  # simple (with a waiting state) | multi (parallel work, then acceptance)
    weights: tuple[float, float, float]
    needs: frozenset[str]  # the process transitions it fires
    age: tuple[float, float]  # days: where a forced (coverage) instance is placed
    build: Callable[[StoryBuilder], None]
    ends_in: str  # the state the story ends in (documentation and the coverage pass)


@dataclass
class StoryBuilder:
    """What a scenario builder writes into."""

    rng: random.Random
    slug: str
    category: CompiledCategory
    units: frozenset[str]  # units whose tasks someone can handle
    reachable: bool  # the reporter can be asked
    resident: bool  # the reporter has an account and can answer
    steps: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)

    def add(self, gap: float, kind: str, **options: Any) -> None:
        self.steps.append((gap, kind, options))

    def pick(self, options: Sequence[str]) -> str:
        return self.rng.choice(list(options))

    def hours(self, low: float, high: float) -> float:
        return self.rng.uniform(low, high)

    def verify(self) -> None:
        note = self.pick(content.INTERNAL_NOTES) if self.rng.random() < 0.3 else None
        if self.rng.random() < 0.12:
            self.add(self.hours(0.2, 3), "edit", office=True)
        if self.rng.random() < 0.1:
            self.add(self.hours(0.1, 1), "priority", office=True, target=self.pick(("high", "urgent")))
        self.add(self.hours(0.3, 20), "verify", office=True, text=note)
        unit = self.category.unit
        if unit not in self.units and self.rng.random() < 0.7:  # an external unit without accounts
            self.add(self.hours(0.1, 1), "comment", office=True, target="to_unit",
                     text=self.pick(content.MESSAGES_TO_UNIT))

    def maybe_update(self) -> None:
        roll = self.rng.random()
        if roll < 0.3:
            self.add(self.hours(2, 60), "comment", office=True, target="public", text=self.pick(content.PUBLIC_UPDATES))
        elif roll < 0.55:
            self.add(self.hours(1, 40), "comment", office=True, target="internal",
                     text=self.pick(content.INTERNAL_NOTES))
        elif roll < 0.62 and self.reachable:
            self.add(self.hours(1, 30), "comment", office=True, target="to_reporter",
                     text=self.pick(content.MESSAGES_TO_REPORTER))

    def work(self, until_done: bool = True) -> None:
        """Take the step's tasks, maybe post an update, then finish them."""
        self.add(self.hours(0.5, 30), "take", office=True)
        self.maybe_update()
        if until_done:
            self.add(self.hours(8, 160), "complete", office=True)

    def delegate(self) -> None:
        unit = self.category.unit
        preferred = [u for u in content.DELEGATE_TO.get(unit, ()) if u in self.units and u != unit]
        others = sorted(self.units - {unit})
        targets = preferred or others
        if targets:
            self.add(self.hours(1, 30), "delegate", office=True, target=self.pick(targets),
                     person=self.rng.random() < 0.3, text=self.pick(content.DELEGATE_REASONS))

    def reject(self) -> None:
        texts = content.REJECTIONS.get(self.slug) or content.REJECTIONS["zgierz"][2:3]
        self.add(self.hours(0.5, 30), "reject", office=True, text=self.pick(texts))


def _new(c: StoryBuilder) -> None:
    if c.rng.random() < 0.25:
        c.add(c.hours(0.2, 6), "comment", office=True, target="internal", text=c.pick(content.INTERNAL_NOTES))


def _progress(c: StoryBuilder) -> None:
    c.verify()
    if c.rng.random() < 0.7:
        c.add(c.hours(0.5, 30), "take", office=True)
    c.maybe_update()


def _overdue(c: StoryBuilder) -> None:
    c.verify()
    c.add(c.hours(1, 40), "take", office=True)
    c.add(c.hours(24, 200), "comment", office=True, target="internal",
          text="Termin przekroczony – czekamy na wykonawcę.")


def _waiting(c: StoryBuilder) -> None:
    c.verify()
    c.add(c.hours(0.5, 20), "take", office=True)
    c.add(c.hours(1, 24), "ask", office=True, text=c.pick(content.QUESTIONS))


def _resolved(c: StoryBuilder) -> None:
    c.verify()
    c.work()


def _delegated(c: StoryBuilder) -> None:
    c.verify()
    c.delegate()
    c.work()


def _answered(c: StoryBuilder) -> None:
    c.verify()
    c.add(c.hours(0.5, 20), "take", office=True)
    c.add(c.hours(1, 24), "ask", office=True, text=c.pick(content.QUESTIONS))
    if c.resident:
        c.add(c.hours(2, 60), "answer", text=c.pick(content.ANSWERS))
    else:
        c.add(c.hours(24, 120), "resume", office=True, text=c.pick(content.RESUME_NOTES))
    c.add(c.hours(8, 100), "complete", office=True)


def _reclassified(c: StoryBuilder) -> None:
    c.add(c.hours(0.3, 10), "reclassify", office=True)
    c.verify()
    c.work()


def _withdrawn_new(c: StoryBuilder) -> None:
    c.verify()
    c.add(c.hours(1, 40), "withdraw", office=True, text=c.pick(content.WITHDRAW_REASONS))


def _withdrawn_reverified(c: StoryBuilder) -> None:
    _withdrawn_new(c)
    c.add(c.hours(0.5, 20), "comment", office=True, target="internal",
          text="Po wyjaśnieniu: sprawa zostaje w jednostce, ponowna weryfikacja.")
    c.verify()
    c.work()


def _rejected(c: StoryBuilder) -> None:
    c.reject()


def _rejected_late(c: StoryBuilder) -> None:
    c.verify()
    c.add(c.hours(1, 40), "withdraw", office=True, text=c.pick(content.WITHDRAW_REASONS))
    c.reject()


def _reopened(c: StoryBuilder) -> None:
    _resolved(c)
    c.add(c.hours(24, 400), "reopen", office=True, text=c.pick(content.REOPEN_REASONS))


def _reopened_resolved(c: StoryBuilder) -> None:
    _reopened(c)
    c.work()


def _m_progress(c: StoryBuilder) -> None:
    c.verify()
    c.add(c.hours(0.5, 20), "take", office=True)
    if c.rng.random() < 0.6:
        c.add(c.hours(4, 60), "complete", office=True, target="one")
    c.maybe_update()


def _m_acceptance(c: StoryBuilder) -> None:
    c.verify()
    c.work()  # the parallel tasks are done: the acceptance task appears


def _m_resolved(c: StoryBuilder) -> None:
    _m_acceptance(c)
    c.add(c.hours(2, 50), "complete", office=True)  # the responsible unit accepts


def _m_refused(c: StoryBuilder) -> None:
    _m_acceptance(c)
    c.add(c.hours(2, 50), "withdraw", office=True, text=c.pick(content.REFUSED_ACCEPTANCE))


def _m_delegated(c: StoryBuilder) -> None:
    c.verify()
    c.delegate()
    c.work()
    c.add(c.hours(2, 50), "complete", office=True)


def _m_reopened(c: StoryBuilder) -> None:
    _m_resolved(c)
    c.add(c.hours(24, 400), "reopen", office=True, text=c.pick(content.REOPEN_REASONS))


_S = frozenset
SCENARIOS: tuple[Scenario, ...] = (
    Scenario("new", "simple", (40, 4, 0.5), _S(), (0.1, 2), _new, "new"),
    Scenario("withdrawn_to_new", "simple", (3, 4, 1), _S({"verify"}), (3, 20), _withdrawn_new, "new"),
    Scenario("in_progress", "simple", (30, 25, 2), _S({"verify"}), (1, 10), _progress, "in_progress"),
    Scenario("overdue", "simple", (0, 0, 4), _S({"verify"}), (45, 90), _overdue, "in_progress"),
    Scenario("waiting", "simple", (5, 8, 0), _S({"verify", "ask_resident"}), (2, 9), _waiting,
             "waiting_for_resident"),
    Scenario("resolved", "simple", (6, 25, 45), _S({"verify"}), (10, 90), _resolved, "resolved"),
    Scenario("delegated", "simple", (0, 6, 10), _S({"verify"}), (10, 90), _delegated, "resolved"),
    Scenario("answered", "simple", (0, 4, 6), _S({"verify", "ask_resident", "resume"}), (15, 90), _answered,
             "resolved"),
    Scenario("reclassified", "simple", (2, 3, 4), _S({"verify"}), (10, 90), _reclassified, "resolved"),
    Scenario("withdrawn_reverified", "simple", (0, 3, 4), _S({"verify"}), (15, 90), _withdrawn_reverified,
             "resolved"),
    Scenario("rejected", "simple", (5, 5, 5), _S({"reject"}), (3, 60), _rejected, "rejected"),
    Scenario("rejected_late", "simple", (0, 1, 2), _S({"verify", "reject"}), (10, 60), _rejected_late, "rejected"),
    Scenario("reopened", "simple", (0, 3, 3), _S({"verify", "reopen"}), (25, 40), _reopened, "in_progress"),
    Scenario("reopened_resolved", "simple", (0, 1, 3), _S({"verify", "reopen"}), (40, 90), _reopened_resolved,
             "resolved"),
    Scenario("m_new", "multi", (30, 3, 0.5), _S(), (0.1, 2), _new, "new"),
    Scenario("m_in_progress", "multi", (35, 30, 3), _S({"verify"}), (1, 8), _m_progress, "in_progress"),
    Scenario("m_acceptance", "multi", (5, 15, 3), _S({"verify"}), (8, 20), _m_acceptance, "acceptance"),
    Scenario("m_resolved", "multi", (0, 30, 60), _S({"verify"}), (15, 90), _m_resolved, "resolved"),
    Scenario("m_refused", "multi", (0, 4, 4), _S({"verify"}), (15, 60), _m_refused, "new"),
    Scenario("m_delegated", "multi", (0, 4, 6), _S({"verify"}), (15, 90), _m_delegated, "resolved"),
    Scenario("m_rejected", "multi", (5, 5, 5), _S({"reject"}), (3, 60), _rejected, "rejected"),
    Scenario("m_reopened", "multi", (0, 3, 4), _S({"verify", "reopen"}), (30, 45), _m_reopened, "in_progress"),
)
BY_NAME = {s.name: s for s in SCENARIOS}


def family(tenant: CompiledTenant, process: str) -> str:
    """`multi` for processes with an acceptance step, `simple` otherwise."""
    return "multi" if "acceptance" in tenant.processes[process].states else "simple"


def scenarios_for(tenant: CompiledTenant, process: str) -> list[Scenario]:
    """The scenarios a process can play (it has every transition they fire)."""
    transitions = tenant.processes[process].transitions
    kind = family(tenant, process)
    out = [s for s in SCENARIOS if s.family == kind and s.needs <= transitions.keys()]
    if not _reclassifiable(tenant, process):
        out = [s for s in out if s.name != "reclassified"]
    return out


def has_sibling(tenant: CompiledTenant, category: CompiledCategory) -> bool:
    return any(siblings(tenant, category))


def siblings(tenant: CompiledTenant, category: CompiledCategory) -> list[str]:
    """Categories a resident might pick by mistake for `category`: same group and process, and a report
    that fits one fits the other (see `interchangeable`), so reclassifying it leaves a valid ticket."""
    return sorted(
        c.name for c in tenant.categories.values()
        if c.name != category.name and c.spec.group == category.spec.group and c.process == category.process
        and interchangeable(c, category)
    )


def interchangeable(a: CompiledCategory, b: CompiledCategory) -> bool:
    """Whether one report can satisfy both categories' rules.

    They share a channel; neither takes photos where the other requires them;
    every attribute both ask about takes the same answers, and every required
    attribute of either is asked by both. (Contact: the planner asks for it
    when either category needs it.)
    """
    if not set(a.spec.intake) & set(b.spec.intake):
        return False
    if {a.spec.photo, b.spec.photo} == {"none", "required"}:
        return False
    ours, theirs = a.spec.attributes, b.spec.attributes
    if any(not _same_answers(ours[n], theirs[n]) for n in ours.keys() & theirs.keys()):
        return False
    required = {n for n, s in ours.items() if s.required} | {n for n, s in theirs.items() if s.required}
    return required <= (ours.keys() & theirs.keys())


def _same_answers(a: Attribute, b: Attribute) -> bool:
    """Two attributes accept the same values (labels may differ)."""
    return (a.type, sorted(a.values or {}), a.min, a.max, a.max_length, a.staff_only) == (
        b.type, sorted(b.values or {}), b.min, b.max, b.max_length, b.staff_only)


def _reclassifiable(tenant: CompiledTenant, process: str) -> bool:
    return any(has_sibling(tenant, c) for c in tenant.categories.values() if c.process == process)
