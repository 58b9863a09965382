"""The client half against a real Open311 server: a Zgierz unit whose endpoint is Nieporęt's `/open311/v2/`.

Nieporęt runs as `komunikator serve` (its own process, the same database);
Zgierz's side — the outbox delivery and the polling job — runs here, as a
worker would. A Zgierz pothole goes to the external unit `zuk_nieporet`; the
task is posted to Nieporęt as a `pavement_damage` report, delivered once even
when the worker dies between the POST and recording it, and completed in
Zgierz when Nieporęt closes its report, with Nieporęt's notes in the timeline.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fault_injection import armed
from open311_server import Served, free_port, loopback_config, serving
from web_helpers import STAFF_PASSWORD, staff_session

from komunikator.engine.compiled import CompiledTenant
from komunikator.engine.delivery.jobs import deliver_pending
from komunikator.engine.open311 import keys, remote
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import accounts, intake, reading, tickets
from komunikator.engine.service.row_views import load_ticket, user_view
from komunikator.engine.settings import Settings
from komunikator.engine.store.models import Comment, Open311Dispatch, Ticket
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry
from komunikator.web.app import create_app

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

KEY_ENV = "KOMUNIKATOR_TEST_NIEPORET_OPEN311_KEY"
LEASE = timedelta(seconds=1)


def _zgierz_yaml(port: int) -> str:
    return f"""\
units:
  zuk_nieporet:
    name: {{pl: Zespół Usług Komunalnych Gminy Nieporęt, en: Nieporęt Municipal Services Team}}
    external: true
    accounts: false
    open311:
      endpoint: http://127.0.0.1:{port}/open311/v2/
      api_key_env: {KEY_ENV}
      jurisdiction_id: nieporet
      services: {{pothole: pavement_damage}}
"""


@dataclass
class Cities:
    """Both cities compiled from the served configuration, their scopes, and a dispatcher each."""

    settings: Settings
    registry: TenantRegistry
    port: int
    zg: TenantScope
    np: TenantScope
    zg_dispatcher: UserView
    np_dispatcher: UserView
    np_worker: UserView

    @property
    def zgierz(self) -> CompiledTenant:
        return self.registry.tenants["zgierz"]

    @property
    def nieporet(self) -> CompiledTenant:
        return self.registry.tenants["nieporet"]


async def _staff(scope: TenantScope, tenant: CompiledTenant, email: str, unit: str, role: str) -> UserView:
    user = await accounts.create_user(scope, email, email.split("@")[0], password=STAFF_PASSWORD)
    await accounts.grant(scope, tenant, user, unit, role)
    return await user_view(scope, user)


@pytest.fixture
async def cities(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cities:
    port = free_port()
    settings = loopback_config(tmp_path / "config", _zgierz_yaml(port))
    categories = settings.tenants_dir / "zgierz" / "categories.yaml"
    text = categories.read_text(encoding="utf-8")
    assert "  pothole: {unit: drogi}" in text
    categories.write_text(text.replace("  pothole: {unit: drogi}", "  pothole: {unit: zuk_nieporet}"), "utf-8")
    registry = TenantRegistry.load(settings)
    zg = TenantScope((await ensure_tenant("zgierz")).id)
    np = TenantScope((await ensure_tenant("nieporet")).id)
    key, _ = await keys.create_key(np, "Urząd Miasta Zgierza", datetime.now(UTC))
    monkeypatch.setenv(KEY_ENV, key)
    return Cities(settings, registry, port, zg, np,
                  await _staff(zg, registry.tenants["zgierz"], "bom@zgierz.pl", "bom", "dispatcher"),
                  await _staff(np, registry.tenants["nieporet"], "urzad@nieporet.pl", "urzad", "dispatcher"),
                  await _staff(np, registry.tenants["nieporet"], "zuk@nieporet.pl", "zuk", "worker"))


@pytest.fixture
def nieporet_server(db: str, cities: Cities, tmp_path: Path) -> Iterator[Served]:
    with serving(db, cities.settings, tmp_path / "server.log", port=cities.port) as served:
        yield served


async def _verified_pothole(c: Cities) -> str:
    """A Zgierz pothole reported by phone (an address, no pin), verified: its task goes to zuk_nieporet."""
    body = intake.Submission(category="pothole", description="Zapadnięta studzienka i dziura",
                             attributes={"size": "large"}, address="ul. Dąbrowskiego 12, Zgierz")
    ticket, _ = await intake.submit(c.zg, c.zgierz, body, channel="public", actor=UserView("anonymous", (), "resident"),
                                    reporter_user_id=None, now=datetime.now(UTC))
    assert ticket is not None
    await tickets.act(c.zg, c.zgierz, ticket.number, "verify", c.zg_dispatcher, {}, datetime.now(UTC))
    return ticket.number


async def _dispatch(c: Cities) -> Open311Dispatch:
    [row] = await c.zg.query(Open311Dispatch).all()
    return row


async def _deliver(c: Cities, now: datetime) -> None:
    await deliver_pending(c.registry, now=now, lease=LEASE, channels={})


class WorkerKilled(BaseException):
    """The worker process dies (not an exception the job would catch)."""


async def test_delivered_once_though_the_worker_dies_after_the_post(cities: Cities, nieporet_server: Served) -> None:
    c = cities
    number = await _verified_pothole(c)
    dispatch = await _dispatch(c)
    assert (dispatch.unit, dispatch.service_code, dispatch.status) == ("zuk_nieporet", "pavement_damage", "pending")
    assert dispatch.endpoint == f"http://127.0.0.1:{c.port}/open311/v2"

    async def die() -> None:
        raise WorkerKilled

    started = datetime.now(UTC)
    with armed("open311.after_post", die), pytest.raises(WorkerKilled):
        await _deliver(c, started)
    assert await c.np.tickets().count() == 1  # Nieporęt has the report …
    assert (await _dispatch(c)).remote_id is None  # … Zgierz did not get to record it
    row = await c.zg.outbox().get(channel="open311")
    assert row.status == "pending" and row.attempts == 1
    await _deliver(c, started + LEASE * 2)  # the lease ran out: claimed again, posted again with the same key
    dispatch = await _dispatch(c)
    [theirs] = await c.np.tickets().all()
    assert (dispatch.remote_id, dispatch.status) == (theirs.number, "sent")
    assert (await c.zg.outbox().get(id=row.id)).status == "sent"
    assert (theirs.category, theirs.channel, theirs.address) == ("pavement_damage", "open311",
                                                                 "ul. Dąbrowskiego 12, Zgierz")
    assert number in theirs.description and "Zapadnięta studzienka" in theirs.description
    await _deliver(c, started + LEASE * 10)
    assert await c.np.tickets().count() == 1
    sent = await c.zg.audit_events().filter(action="open311_sent").values_list("after", flat=True)
    assert [(a["task"], a["remote_id"]) for a in sent] == [("T1", theirs.number)]  # recorded once, in the timeline

    # Nieporęt works on it; Zgierz hears its notes, then the closing
    now = datetime.now(UTC)
    await tickets.act(c.np, c.nieporet, theirs.number, "verify", c.np_dispatcher, {}, now)
    await tickets.add_comment(c.np, c.nieporet, theirs.number, c.np_dispatcher, "Ekipa na miejscu w poniedziałek",
                              "public", now)
    assert await remote.poll(c.registry, datetime.now(UTC)) == 1
    ticket = await c.zg.tickets().get(number=number)
    assert ticket.state == "in_progress"
    notes = [x.body for x in await c.zg.query(Comment).filter(ticket_id=ticket.id).order_by("id")]
    assert notes == [(f"Zespół Usług Komunalnych Gminy Nieporęt (Open311 {theirs.number}): "
                     "W realizacji: Ekipa na miejscu w poniedziałek")]
    assert await remote.poll(c.registry, datetime.now(UTC)) == 0  # nothing new: nothing twice
    await tickets.act_on_task(c.np, c.nieporet, theirs.number, "T1", "complete", c.np_worker,
                              {"comment": "naprawione"}, datetime.now(UTC))
    assert await remote.poll(c.registry, datetime.now(UTC)) == 2  # the closing note, and the task done
    ticket = await c.zg.tickets().get(number=number)
    assert (ticket.state, ticket.public_status) == ("resolved", "closed")
    task = await c.zg.tasks().get(ticket_id=ticket.id)
    assert task.state == "done"
    done = await c.zg.audit_events().filter(ticket_id=ticket.id, action="task_complete").first()
    assert done is not None and done.reason == "Załatwione: Ekipa na miejscu w poniedziałek"
    assert done.actor_kind == "system"
    assert (await _dispatch(c)).status == "closed"


async def test_remote_down_then_retried_then_delivered(cities: Cities, db: str, tmp_path: Path) -> None:
    c = cities
    number = await _verified_pothole(c)
    first = datetime.now(UTC)
    await _deliver(c, first)  # nobody listens on the port yet
    dispatch = await _dispatch(c)
    assert dispatch.status == "pending" and dispatch.attempts == 1
    assert dispatch.last_error is not None and "unreachable" in dispatch.last_error
    shown = await _task_remote(c, number)  # what the dispatcher reads on the task
    assert shown["status"] == "pending"
    assert shown["text"].startswith(f"nie dostarczono, ponawiane (prób: 1), ostatni błąd: {dispatch.endpoint} "
                                    "unreachable: ConnectError")
    page = await _staff_page(c, number)  # and on the staff ticket page
    assert f"Open311: {html.escape(shown['text'], quote=False)}" in page
    row = await c.zg.outbox().get(channel="open311")
    assert row.status == "pending" and row.next_attempt_at is not None and row.next_attempt_at > first
    assert await c.np.tickets().count() == 0
    await _deliver(c, first + timedelta(seconds=5))  # backing off: not tried again yet
    assert (await _dispatch(c)).attempts == 1
    with serving(db, c.settings, tmp_path / "late.log", port=c.port):  # Nieporęt is back
        await _deliver(c, row.next_attempt_at + timedelta(seconds=1))
    dispatch = await _dispatch(c)
    [theirs] = await c.np.tickets().all()
    assert (dispatch.status, dispatch.remote_id, dispatch.last_error) == ("sent", theirs.number, None)
    assert (await c.zg.outbox().get(id=row.id)).status == "sent"
    shown = await _task_remote(c, number, "en")
    assert shown["text"] == f"accepted by the unit's system as {theirs.number}"


async def _staff_page(c: Cities, number: str) -> str:
    """The staff ticket page as Zgierz's dispatcher sees it (signed in through the form)."""
    app = create_app(c.registry, init_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                 headers={"Host": "zgierz.localhost"}) as client:
        await staff_session(client, "bom@zgierz.pl")
        r = await client.get(f"/staff/tickets/{number}")
        assert r.status_code == 200, r.text
        found = re.search(r'<p class="task__remote[^"]*" id="task-T1-remote">(.*?)</p>', r.text, re.S)
        assert found is not None, r.text
        return found.group(1)


async def _task_remote(c: Cities, number: str, locale: str = "pl") -> dict[str, object]:
    """The task's `remote` in the ticket as the dispatcher reads it (the API's and the staff page's model)."""
    ticket = await c.zg.tickets().get(number=number)
    detail = await reading.ticket_detail(c.zg, c.zgierz, await load_ticket(c.zg, ticket), c.zg_dispatcher,
                                         datetime.now(UTC), locale)
    [task] = detail.tasks
    assert task.remote is not None
    return task.remote.model_dump()


async def test_refusals_are_kept_for_the_dispatcher(cities: Cities, nieporet_server: Served,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    c = cities
    monkeypatch.setenv(KEY_ENV, "x" * 43)  # a key Nieporęt never issued
    await _verified_pothole(c)
    await _deliver(c, datetime.now(UTC))
    dispatch = await _dispatch(c)
    assert dispatch.status == "failed"
    assert dispatch.last_error == f"{dispatch.endpoint} refused the request (403): invalid api_key"
    assert (await c.zg.outbox().get(channel="open311")).status == "failed"
    assert await c.np.query(Ticket).count() == 0
