"""The staff's daily digest: who gets one, when, what it says (both databases)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from jobs_helpers import SmtpSink, act, as_view, registry, scope_of, staff, submit, zgierz

from komunikator.engine.delivery.channels import SmtpChannel, SmtpSettings
from komunikator.engine.delivery.digest import send_digests
from komunikator.engine.delivery.jobs import deliver_pending
from komunikator.engine.service import accounts, tickets

pytestmark = pytest.mark.anyio

THURSDAY = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)
#: Tuesday 17 November 2026: Zgierz's digest hour is 7:00 local (6:00 UTC in winter)
SEVEN_AM = datetime(2026, 11, 17, 6, 0, tzinfo=UTC)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink().start()
    yield server
    server.stop()


async def test_each_person_gets_one_digest_a_day_at_the_tenants_hour(db: str, sink: SmtpSink) -> None:
    scope = await scope_of()
    anna = await staff(scope, "anna@zgierz.example.pl", "bom:dispatcher")
    piotr = await staff(scope, "piotr@zgierz.example.pl", "drogi:worker")
    marek = await staff(scope, "marek@zgierz.example.pl", "drogi:unit_head")
    await staff(scope, "ewa@zgierz.example.pl", "zielen:worker")  # nothing waits for her
    gone = await staff(scope, "stary@zgierz.example.pl", "drogi:worker")
    await accounts.deactivate(scope, gone, THURSDAY)

    urgent = await submit(scope, THURSDAY)
    await act(scope, urgent.number, "set_priority", anna, THURSDAY, priority="urgent")
    await act(scope, urgent.number, "verify", anna, THURSDAY)  # due Monday 16th: overdue on the 17th
    taken = await submit(scope, THURSDAY)
    await act(scope, taken.number, "verify", anna, THURSDAY)
    await tickets.act_on_task(scope, zgierz(), taken.number, "T1", "take", await as_view(scope, marek), {}, THURSDAY)
    await submit(scope, THURSDAY)  # not verified yet

    assert await send_digests(registry(), now=SEVEN_AM - timedelta(minutes=1)) == 0
    assert await send_digests(registry(), now=SEVEN_AM) == 3
    rows = {r.payload["recipients"][0]: r for r in await scope.outbox().filter(kind="staff_digest")}
    assert set(rows) == {f"user:{anna.id}", f"user:{piotr.id}", f"user:{marek.id}"}
    assert rows[f"user:{piotr.id}"].dedupe_key == f"digest:{piotr.id}:2026-11-17"

    def listed(user_id: int) -> list[tuple[str, bool]]:
        return [(t["number"], t["overdue"]) for t in rows[f"user:{user_id}"].payload["digest"]["tasks"]]

    # the unit's task nobody took, for both of the unit's people; the taken one only for its taker
    assert listed(piotr.id) == [(urgent.number, True)]
    assert listed(marek.id) == [(urgent.number, True), (taken.number, False)]
    assert listed(anna.id) == []
    assert rows[f"user:{anna.id}"].payload["digest"]["unverified_count"] == 1
    assert rows[f"user:{piotr.id}"].payload["digest"]["unverified_count"] == 0
    assert rows[f"user:{marek.id}"].payload["digest"]["overdue_count"] == 1

    # later the same day, or another worker: nothing more; the next morning: again
    assert await send_digests(registry(), now=SEVEN_AM + timedelta(hours=5)) == 0
    assert await send_digests(registry(), now=SEVEN_AM + timedelta(days=1) - timedelta(minutes=1)) == 0
    assert await send_digests(registry(), now=SEVEN_AM + timedelta(days=1)) == 3

    channel = SmtpChannel(SmtpSettings(host="127.0.0.1", port=sink.port))
    try:
        report = await deliver_pending(registry(), now=SEVEN_AM, channels={"email": channel}, limit=500)
    finally:
        await channel.aclose()
    assert report.failed == 0
    digest = sink.to("piotr@zgierz.example.pl")
    digest = [m for m in digest if "zadania na" in m.subject]
    assert sorted(m.subject for m in digest) == [
        "Urząd Miasta Zgierza: zadania na 17 listopada 2026 (1 po terminie)",
        "Urząd Miasta Zgierza: zadania na 18 listopada 2026 (1 po terminie)",
    ]
    assert f"- {urgent.number} · Dziura w jezdni · Dziura w jezdni · termin 16 listopada 2026" in digest[0].body
    assert "PO TERMINIE" in digest[0].body
    anna_mail = [m for m in sink.to("anna@zgierz.example.pl") if "zadania na" in m.subject]
    assert "Zgłoszenia czekające na weryfikację: 1." in anna_mail[0].body
    assert not [m for m in sink.to("ewa@zgierz.example.pl") if "zadania na" in m.subject]


async def test_a_task_whose_ticket_waits_for_the_resident_is_not_overdue_in_the_digest(db: str) -> None:
    """The digest says overdue as the runtime defines it: a paused clock (waiting for the resident) stands still."""
    scope = await scope_of()
    anna = await staff(scope, "anna@zgierz.example.pl", "bom:dispatcher")
    piotr = await staff(scope, "piotr@zgierz.example.pl", "drogi:worker")
    waiting, running = await submit(scope, THURSDAY), await submit(scope, THURSDAY)
    for ticket in (waiting, running):
        await act(scope, ticket.number, "set_priority", anna, THURSDAY, priority="urgent")
        await act(scope, ticket.number, "verify", anna, THURSDAY)  # due Monday 16th
    await act(scope, waiting.number, "ask_resident", piotr, THURSDAY, public_comment="Prosimy o zdjęcie.")
    assert await send_digests(registry(), now=SEVEN_AM) == 1  # the dispatcher has nothing waiting
    row = await scope.outbox().get(kind="staff_digest", dedupe_key=f"digest:{piotr.id}:2026-11-17")
    digest = row.payload["digest"]
    assert sorted((t["number"], t["overdue"]) for t in digest["tasks"]) == [(waiting.number, False),
                                                                             (running.number, True)]
    assert digest["overdue_count"] == 1
