"""How fast the outbox fans Web Push out, against a bare pywebpush loop sending the same pushes.

Run from the repository root:

    .venv/bin/python bench/push_bench.py [--count 10000] [--followers 100] [--rounds 5] [--batch 100]
                                         [--url sqlite://FILE | postgres://…] [--json]

It migrates a fresh database (default: a SQLite file in a temporary folder),
makes a VAPID key pair, submits one real report to Zgierz and gives it
`--followers` resident followers, each with one push subscription. Two local
push services (tests/delivery/push_endpoint.py, each in a subprocess) hold the
subscriptions' private keys, decrypt every push (RFC 8291, aes128gcm) and
verify its VAPID signature. Then, in `--rounds` rounds, interleaved so that
load on the machine hits both alike, `--count` pushes in all go out as
`count / followers` status-change rows (`ticket_status_changed` to
`followers` over `push`, as the default notification rule writes them):

  (a) bare    — `pywebpush.webpush()` in a loop (one kept requests session)
                over the same payloads already rendered: encrypt, sign, POST;
  (b) outbox  — `deliver_pending(limit=--batch)` until nothing is left: claim
                with a lease, resolve the followers and their subscriptions,
                render, encrypt, sign (a signature reused per push service),
                POST over one kept aiohttp session, mark each row.

It reports pushes per second, the ratio (b)/(a) over all rounds and per round
(target ≥ 0.7), and exits 1 unless each service received and decrypted every
push with a valid VAPID signature.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from py_vapid import Vapid02  # type: ignore[import-untyped]
from pywebpush import webpush  # type: ignore[import-untyped]

from komunikator.engine.delivery.channels import close_channels
from komunikator.engine.delivery.jobs import ClaimedRow, DeliveryReport, _TenantBatch, deliver_pending
from komunikator.engine.delivery.push import VapidKeys, WebPushChannel, payload, topic, urgency
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service import accounts
from komunikator.engine.service.intake import ReporterIn, Submission, submit
from komunikator.engine.settings import Settings
from komunikator.engine.store import db
from komunikator.engine.store.models import Follower, OutboxMessage, PushSubscription
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry

RATIO_TARGET = 0.7
NOW = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)
ENDPOINT = Path(__file__).resolve().parents[1] / "tests" / "delivery" / "push_endpoint.py"
SUBJECT = "mailto:bench@zgierz.example.pl"


@dataclass
class Service:
    """A push service subprocess."""

    port: int
    process: subprocess.Popen[str]

    @classmethod
    def start(cls) -> Service:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        process = subprocess.Popen([sys.executable, str(ENDPOINT), str(port)], stdout=subprocess.PIPE, text=True)
        if process.stdout is None or process.stdout.readline().strip() != "ready":
            raise SystemExit("the push service did not start")
        return cls(port, process)

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as answer:
            return json.loads(answer.read())

    def stop(self) -> dict[str, int]:
        stats = dict(self.get("/stats"))
        self.process.terminate()
        self.process.wait(timeout=30)
        return stats


@dataclass
class Setup:
    registry: TenantRegistry
    scope: TenantScope
    ticket_id: int
    number: str
    #: follower name → the bare service's subscription for the same device
    bare: dict[str, dict[str, Any]]


async def prepare(url: str, registry: TenantRegistry, followers: int, outbox: Service, bare: Service) -> Setup:
    """Migrate, submit one report, give it followers with one subscription each (on both services)."""
    await db.upgrade(url)
    await db.close()
    await db.init(url)
    tenant = registry.tenants["zgierz"]
    scope = TenantScope((await ensure_tenant("zgierz", "Urząd Miasta Zgierza")).id)
    sub = Submission(category="pothole", description="Duża dziura przy przystanku", lat=51.855, lon=19.406,
                     attributes={"size": "medium"}, address="ul. Długa 5",
                     reporter=ReporterIn(name="Jan Kowalski", email="jan@example.pl"))
    ticket, _ = await submit(scope, tenant, sub, channel="public", actor=UserView("anonymous", (), "resident"),
                             reporter_user_id=None, now=NOW)
    if ticket is None:
        raise SystemExit("the report was not created")
    await scope.outbox().all().delete()
    bare_subs = {}
    for n in range(followers):
        name = f"f{n}"
        user = await accounts.create_user(scope, f"{name}@example.pl", f"Mieszkaniec {n}", kind="resident")
        await scope.create(Follower, ticket_id=ticket.id, user_id=user.id)
        info = outbox.get(f"/subscribe/{name}")
        await scope.create(PushSubscription, user_id=user.id, endpoint=info["endpoint"], endpoint_hash=f"{n:064}",
                           p256dh=info["keys"]["p256dh"], auth=info["keys"]["auth"], label=name)
        bare_subs[name] = bare.get(f"/subscribe/{name}")
    return Setup(registry, scope, ticket.id, ticket.number, bare_subs)


async def write_rows(setup: Setup, rows: int, tag: str) -> list[tuple[dict[str, Any], bytes, dict[str, str]]]:
    """Write `rows` status-change rows; return the pushes they make, for the bare loop (to its own service)."""
    data = {"template": "ticket_status_changed", "event": "ticket_public_status_changed",
            "recipients": ["followers"], "ticket": setup.number, "task": None, "locale": "pl"}
    scope = setup.scope
    await OutboxMessage.bulk_create(
        [OutboxMessage(tenant_id=scope.tenant_id, ticket_id=setup.ticket_id, kind="ticket_status_changed",
                       channel="push", dedupe_key=f"bench:{tag}:{n}", payload=data) for n in range(rows)],
        batch_size=1000)
    tenant = setup.registry.tenants["zgierz"]
    batch = _TenantBatch(scope, "zgierz", tenant, setup.registry.base_domain)
    labels = {s.id: s.label for s in await scope.query(PushSubscription).all()}
    pushes = []
    for row in await scope.outbox().filter(status="pending").order_by("id"):
        claimed = ClaimedRow(row.id, scope.tenant_id, setup.ticket_id, row.kind, row.channel, row.dedupe_key,
                             row.payload, 1)
        for message in await batch._messages(claimed, tenant, batch.resolver) or []:  # type: ignore[arg-type]
            if message.push is None:
                raise SystemExit(f"outbox row {row.id} made a push without a subscription")
            info = setup.bare[labels[message.push.subscription_id]]
            pushes.append((info, payload(message), {"Urgency": urgency(message), "Topic": topic(message)}))
    return pushes


def bare_loop(keys: VapidKeys, pushes: list[tuple[dict[str, Any], bytes, dict[str, str]]]) -> float:
    """Seconds for pywebpush's own `webpush()` to send `pushes`."""
    vapid = Vapid02(private_key=keys.private_key)
    session = requests.Session()
    started = time.perf_counter()
    for info, data, headers in pushes:
        webpush(info, data.decode("utf-8"), vapid_private_key=vapid, vapid_claims={"sub": SUBJECT}, ttl=86400,
                headers=dict(headers), requests_session=session, timeout=30)
    session.close()
    return time.perf_counter() - started


async def outbox_path(keys: VapidKeys, registry: TenantRegistry, batch: int) -> tuple[float, DeliveryReport]:
    """Seconds to drain the outbox through `deliver_pending` with the real push channel."""
    channels: dict[str, Any] = {"push": WebPushChannel(keys)}
    total = DeliveryReport()
    started = time.perf_counter()
    while True:
        report = await deliver_pending(registry, now=NOW, limit=batch, channels=channels)
        total += report
        if report.claimed == 0:
            break
    await close_channels(channels)
    return time.perf_counter() - started, total


async def run(url: str, count: int, followers: int, rounds: int, batch: int) -> dict[str, Any]:
    """Interleaved rounds of bare and outbox; the figures."""
    os.environ["KOMUNIKATOR_PUSH_ALLOW_LOCAL"] = "1"
    registry = TenantRegistry.load(Settings.from_env())
    keys = VapidKeys.generate(SUBJECT)
    rows_per_round = max(1, count // followers // rounds)
    bare_service, outbox_service = Service.start(), Service.start()
    bare_times: list[float] = []
    outbox_times: list[float] = []
    total = DeliveryReport()
    sent = 0
    try:
        setup = await prepare(url, registry, followers, outbox_service, bare_service)
        for n in range(rounds):
            pushes = await write_rows(setup, rows_per_round, str(n))
            sent += len(pushes)
            if n % 2 == 0:
                bare_times.append(await asyncio.to_thread(bare_loop, keys, pushes))
            outbox_s, report = await outbox_path(keys, registry, batch)
            outbox_times.append(outbox_s)
            total += report
            if n % 2 == 1:
                bare_times.append(await asyncio.to_thread(bare_loop, keys, pushes))
    finally:
        await db.close()
        bare_counts, outbox_counts = bare_service.stop(), outbox_service.stop()
    bare_s, outbox_s = sum(bare_times), sum(outbox_times)
    return {
        "count": sent, "followers": followers, "rows": rows_per_round * rounds, "rounds": rounds, "batch": batch,
        "database": url.split("://", 1)[0],
        "bare_s": round(bare_s, 3), "bare_pushes_per_s": round(sent / bare_s, 1),
        "outbox_s": round(outbox_s, 3), "outbox_pushes_per_s": round(sent / outbox_s, 1),
        "ratio": round(bare_s / outbox_s, 3), "target": RATIO_TARGET,
        "round_ratios": [round(b / o, 3) for b, o in zip(bare_times, outbox_times, strict=True)],
        "report": {"claimed": total.claimed, "sent": total.sent, "failed": total.failed, "retried": total.retried,
                   "messages": total.messages},
        "service_bare": bare_counts, "service_outbox": outbox_counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=10_000, help="pushes in all (default 10000)")
    parser.add_argument("--followers", type=int, default=100, help="followers (one device each) per row (100)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, bare and outbox interleaved (default 5)")
    parser.add_argument("--batch", type=int, default=100, help="rows per deliver_pending call (default 100)")
    parser.add_argument("--url", help="database URL (default: a new SQLite file in a temporary folder)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="push-bench-")
    url = args.url or f"sqlite://{folder}/bench.sqlite3"
    figures = asyncio.run(run(url, args.count, args.followers, args.rounds, args.batch))
    ok = all(
        figures[side]["received"] == figures["count"] == figures[side]["decrypted"] == figures[side]["vapid_ok"]
        for side in ("service_bare", "service_outbox")
    ) and figures["report"]["failed"] == 0
    figures["delivered_and_decrypted"] = ok
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"{figures['count']} pushes ({figures['rows']} rows × {figures['followers']} followers), "
              f"{figures['rounds']} rounds, {figures['database']}")
        print(f"(a) bare pywebpush loop: {figures['bare_pushes_per_s']:>8} pushes/s  ({figures['bare_s']} s)")
        print(f"(b) through the outbox:  {figures['outbox_pushes_per_s']:>8} pushes/s  ({figures['outbox_s']} s)")
        print(f"ratio (b)/(a): {figures['ratio']} (target ≥ {RATIO_TARGET}); per round {figures['round_ratios']}")
        print(f"every push received, decrypted and VAPID-verified on both services: {ok}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
