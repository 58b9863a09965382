"""How fast the outbox delivers e-mail, against a bare aiosmtplib loop sending the same messages.

Run from the repository root:

    .venv/bin/python bench/outbox_bench.py [--count 10000] [--rounds 5] [--batch 100]
                                           [--url sqlite://FILE[?synchronous=NORMAL] | postgres://…] [--json]

It migrates a fresh database (default: a SQLite file in a temporary folder)
and submits one real report to Zgierz through the service. Two SMTP servers
(aiosmtpd, each in a subprocess so neither shares the interpreter's lock
with the client) count what arrives and the distinct Message-IDs. Then, in
`--rounds` rounds of `--count / --rounds` e-mail intents each (the
`ticket_received` template to the reporter, as `engine/service/apply.py`
writes them), interleaved so that load on the machine hits both alike:

  (a) bare    — one aiosmtplib connection, `sendmail` in a loop over the same
                messages already rendered and serialised (sending alone);
  (b) outbox  — `deliver_pending(limit=--batch)` until nothing is left: claim
                with a lease, resolve the recipient, render the template, send
                over one kept connection, mark each row sent before the next.

It reports messages per second, the ratio (b)/(a) over all rounds and per
round (target ≥ 0.7), and exits 1 unless each server received every
message exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import aiosmtplib

from komunikator.engine.delivery.channels import InboxChannel, SmtpChannel, SmtpSettings, build_email, close_channels
from komunikator.engine.delivery.jobs import ClaimedRow, DeliveryReport, _TenantBatch, deliver_pending
from komunikator.engine.runtime.views import UserView
from komunikator.engine.service.intake import ReporterIn, Submission, submit
from komunikator.engine.settings import Settings
from komunikator.engine.store import db
from komunikator.engine.store.models import OutboxMessage
from komunikator.engine.store.scope import TenantScope, ensure_tenant
from komunikator.engine.tenants import TenantRegistry

RATIO_TARGET = 0.7
SENDER = "komunikator@localhost"
NOW = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)


# -- the SMTP server (a subprocess) ---------------------------------------------------------------


def serve(port: int) -> None:
    """Run an SMTP server counting messages and Message-IDs; print the counts as JSON on SIGTERM."""
    from aiosmtpd.controller import Controller

    class Counter:
        def __init__(self) -> None:
            self.messages = 0
            self.ids: set[str] = set()

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            self.messages += 1
            head = envelope.content.split(b"\r\n\r\n", 1)[0]
            self.ids.add(str(message_from_bytes(head, policy=policy.compat32)["Message-ID"]))
            return "250 OK"

    handler = Counter()
    stop = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)  # before the server thread starts: it inherits the mask
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    signal.sigwait(stop)
    controller.stop()
    print(json.dumps({"messages": handler.messages, "distinct_ids": len(handler.ids)}), flush=True)


@dataclass
class Server:
    """The SMTP server subprocess."""

    port: int
    process: subprocess.Popen[str]

    @classmethod
    def start(cls) -> Server:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        process = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], stdout=subprocess.PIPE,
                                   text=True)
        if process.stdout is None or process.stdout.readline().strip() != "ready":
            raise SystemExit("the SMTP server did not start")
        return cls(port, process)

    def stop(self) -> dict[str, int]:
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=30)
        return dict(json.loads(out.strip().splitlines()[-1]))


# -- the two paths ---------------------------------------------------------------------------------


@dataclass
class Setup:
    """The database with one submitted report to write intents for."""

    registry: TenantRegistry
    scope: TenantScope
    ticket_id: int
    number: str


async def prepare(url: str, registry: TenantRegistry) -> Setup:
    """Migrate a fresh database and submit one report in Zgierz through the service."""
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
    await scope.outbox().all().delete()  # the receipt the submission wrote; the bench writes its own
    return Setup(registry, scope, ticket.id, ticket.number)


async def write_intents(setup: Setup, count: int, tag: str) -> list[tuple[str, bytes]]:
    """Write `count` intents; return the same messages rendered and serialised, for the bare loop."""
    payload = {"template": "ticket_received", "event": "ticket_created", "recipients": ["reporter"],
               "ticket": setup.number, "task": None, "locale": "pl"}
    scope = setup.scope
    rows = [
        OutboxMessage(tenant_id=scope.tenant_id, ticket_id=setup.ticket_id, kind="ticket_received",
                      channel="email", dedupe_key=f"bench:{tag}:{n}", payload=payload)
        for n in range(count)
    ]
    # bench data: written in bulk (the service writes rows one by one inside each change's transaction)
    await OutboxMessage.bulk_create(rows, batch_size=1000)
    tenant = setup.registry.tenants["zgierz"]
    batch = _TenantBatch(scope, "zgierz", tenant, setup.registry.base_domain)
    mails = []
    for row in await scope.outbox().filter(status="pending").order_by("id"):
        claimed = ClaimedRow(row.id, scope.tenant_id, setup.ticket_id, row.kind, row.channel, row.dedupe_key,
                             row.payload, 1)
        messages = await batch._messages(claimed, tenant, batch.resolver)  # type: ignore[arg-type]
        if not messages:
            raise SystemExit(f"outbox row {row.id} renders to no message")
        mails += [(m.to, build_email(m, SENDER)) for m in messages]
    return mails


async def bare_loop(port: int, mails: list[tuple[str, bytes]]) -> float:
    """Seconds to send the already built `mails` over one aiosmtplib connection."""
    started = time.perf_counter()
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
    await client.connect()
    for to, mail in mails:
        await client.sendmail(SENDER, [to], mail)
    await client.quit()
    return time.perf_counter() - started


async def outbox_path(port: int, registry: TenantRegistry, batch: int) -> tuple[float, DeliveryReport]:
    """Seconds to drain the outbox through `deliver_pending`."""
    channels = {"email": SmtpChannel(SmtpSettings(port=port)), "inbox": InboxChannel()}
    total = DeliveryReport()
    started = time.perf_counter()
    while True:
        report = await deliver_pending(registry, now=NOW, limit=batch, channels=channels)
        total += report
        if report.claimed == 0:
            break
    await close_channels(channels)
    return time.perf_counter() - started, total


async def run(url: str, count: int, rounds: int, batch: int) -> dict[str, Any]:
    """`rounds` rounds of `count // rounds` intents each; bare and outbox alternate which goes first."""
    registry = TenantRegistry.load(Settings.from_env())
    per_round = count // rounds
    bare_server, outbox_server = Server.start(), Server.start()
    bare_times: list[float] = []
    outbox_times: list[float] = []
    total = DeliveryReport()
    try:
        setup = await prepare(url, registry)
        for n in range(rounds):
            mails = await write_intents(setup, per_round, str(n))
            if n % 2 == 0:
                bare_times.append(await bare_loop(bare_server.port, mails))
            outbox_s, report = await outbox_path(outbox_server.port, registry, batch)
            outbox_times.append(outbox_s)
            total += report
            if n % 2 == 1:
                bare_times.append(await bare_loop(bare_server.port, mails))
    finally:
        await db.close()
        bare_counts, outbox_counts = bare_server.stop(), outbox_server.stop()
    sent = per_round * rounds
    bare_s, outbox_s = sum(bare_times), sum(outbox_times)
    return {
        "count": sent, "rounds": rounds, "batch": batch, "database": url.split("://", 1)[0],
        "url_options": url.split("?", 1)[1] if "?" in url else "",
        "bare_s": round(bare_s, 3), "bare_msgs_per_s": round(sent / bare_s, 1),
        "outbox_s": round(outbox_s, 3), "outbox_msgs_per_s": round(sent / outbox_s, 1),
        "ratio": round(bare_s / outbox_s, 3), "target": RATIO_TARGET,
        "round_ratios": [round(b / o, 3) for b, o in zip(bare_times, outbox_times, strict=True)],
        "report": {"claimed": total.claimed, "sent": total.sent, "failed": total.failed, "retried": total.retried},
        "server_bare": bare_counts, "server_outbox": outbox_counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=10_000, help="e-mail intents (default 10000)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="split the intents into this many rounds, bare and outbox interleaved (default 5)")
    parser.add_argument("--batch", type=int, default=100, help="rows per deliver_pending call (default 100)")
    parser.add_argument("--url", help="database URL (default: a new SQLite file in a temporary folder)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite://{Path(folder) / 'bench.sqlite3'}"
        os.environ.setdefault("KOMUNIKATOR_DATABASE_URL", url)
        figures = asyncio.run(run(url, args.count, args.rounds, args.batch))
    sent = figures["count"]
    ok = all(c == {"messages": sent, "distinct_ids": sent}
             for c in (figures["server_bare"], figures["server_outbox"]))
    figures["delivered_exactly_once"] = ok
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        options = f" ({figures['url_options']})" if figures["url_options"] else ""
        print(f"{figures['count']} e-mails in {figures['rounds']} rounds, batches of {figures['batch']}, "
              f"{figures['database']}{options}")
        print(f"  (a) bare aiosmtplib loop : {figures['bare_s']:8.2f} s  {figures['bare_msgs_per_s']:8.1f} msg/s")
        print(f"  (b) outbox deliver_pending: {figures['outbox_s']:8.2f} s  {figures['outbox_msgs_per_s']:8.1f} msg/s")
        verdict = "meets" if figures["ratio"] >= RATIO_TARGET else "MISSES"
        print(f"  (b)/(a) throughput ratio : {figures['ratio']:.2f}  ({verdict} the target ≥ {RATIO_TARGET}); "
              f"per round {figures['round_ratios']}")
        print(f"  server counted: bare {figures['server_bare']}, outbox {figures['server_outbox']}")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
