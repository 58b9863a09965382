"""How fast the outbox delivers e-mail, against a bare aiosmtplib loop sending the same messages.

Run from the repository root:

    .venv/bin/python bench/outbox_bench.py [--count 10000] [--batch 100] [--url sqlite://…|postgres://…] [--json]

It migrates a fresh database (default: a SQLite file in a temporary folder),
submits one real report to Zgierz through the service, and writes `--count`
e-mail intents for it (the `ticket_received` template to the reporter, as
`engine/service/apply.py` writes them). An SMTP server (aiosmtpd, in a
subprocess so it does not share the interpreter's lock with the client)
counts what arrives and the distinct Message-IDs. Then, in one run, over
the same messages:

  (a) bare    — one aiosmtplib connection, `sendmail` in a loop over the
                already rendered and serialised messages (what sending alone costs);
  (b) outbox  — `deliver_pending(limit=--batch)` until nothing is left: claim
                with a lease, resolve the recipient, render the template, send
                over one kept connection, mark each row sent.

It reports messages per second and the ratio (b)/(a) (target ≥ 0.7), and
stops with exit code 1 if the server did not receive every message exactly
once per path.
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
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise SystemExit("the SMTP server did not start")
        return cls(port, process)

    def stop(self) -> dict[str, int]:
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=30)
        return dict(json.loads(out.strip().splitlines()[-1]))


# -- the two paths ---------------------------------------------------------------------------------


async def prepare(url: str, count: int, registry: TenantRegistry) -> list[tuple[str, bytes]]:
    """Migrate, submit one report, write `count` intents; return the rendered e-mails for the bare loop."""
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
    assert ticket is not None
    await scope.outbox().all().delete()  # the receipt the submission wrote; the bench writes its own
    payload = {"template": "ticket_received", "event": "ticket_created", "recipients": ["reporter"],
               "ticket": ticket.number, "task": None, "locale": "pl"}
    rows = [
        OutboxMessage(tenant_id=scope.tenant_id, ticket_id=ticket.id, kind="ticket_received", channel="email",
                      dedupe_key=f"bench:{n}", payload=payload)
        for n in range(count)
    ]
    # bench data: written in bulk (the service writes rows one by one inside each change's transaction)
    await OutboxMessage.bulk_create(rows, batch_size=1000)
    # the same messages, rendered by the same code, for the bare loop (not timed)
    batch = _TenantBatch(scope, "zgierz", tenant, registry.base_domain)
    mails = []
    for row in await scope.outbox().order_by("id"):
        claimed = ClaimedRow(row.id, scope.tenant_id, ticket.id, row.kind, row.channel, row.dedupe_key,
                             row.payload, 1)
        messages = await batch._messages(claimed, tenant, batch.resolver)  # type: ignore[arg-type]
        assert messages
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


async def run(url: str, count: int, batch: int) -> dict[str, Any]:
    registry = TenantRegistry.load(Settings.from_env())
    try:
        mails = await prepare(url, count, registry)
        server = Server.start()
        try:
            bare_s = await bare_loop(server.port, mails)
        finally:
            bare_counts = server.stop()
        server = Server.start()
        try:
            outbox_s, report = await outbox_path(server.port, registry, batch)
        finally:
            outbox_counts = server.stop()
    finally:
        await db.close()
    return {
        "count": count, "batch": batch, "database": db.dialect(url),
        "bare_s": round(bare_s, 3), "bare_msgs_per_s": round(count / bare_s, 1),
        "outbox_s": round(outbox_s, 3), "outbox_msgs_per_s": round(count / outbox_s, 1),
        "ratio": round(bare_s / outbox_s, 3), "target": RATIO_TARGET,
        "report": {"claimed": report.claimed, "sent": report.sent, "failed": report.failed,
                   "retried": report.retried},
        "server_bare": bare_counts, "server_outbox": outbox_counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=10_000, help="e-mail intents (default 10000)")
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
        figures = asyncio.run(run(url, args.count, args.batch))
    ok = all(c == {"messages": args.count, "distinct_ids": args.count}
             for c in (figures["server_bare"], figures["server_outbox"]))
    figures["delivered_exactly_once"] = ok
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"{figures['count']} e-mails, batches of {figures['batch']}, {figures['database']}")
        print(f"  (a) bare aiosmtplib loop : {figures['bare_s']:8.2f} s  {figures['bare_msgs_per_s']:8.1f} msg/s")
        print(f"  (b) outbox deliver_pending: {figures['outbox_s']:8.2f} s  {figures['outbox_msgs_per_s']:8.1f} msg/s")
        verdict = "meets" if figures["ratio"] >= RATIO_TARGET else "MISSES"
        print(f"  (b)/(a) throughput ratio : {figures['ratio']:.2f}  ({verdict} the target ≥ {RATIO_TARGET})")
        print(f"  server counted: bare {figures['server_bare']}, outbox {figures['server_outbox']}")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
