"""A big list export written by a real Celery worker (production's runner), e-mailed through the outbox.

As in test_celery_delivery.py: `komunikator worker` as a subprocess on a queue
of its own on the machine's Redis, the test's PostgreSQL database, an aiosmtpd
server in this process; the test plays the beat (rings `exports`, then
`deliver`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from jobs_helpers import SmtpSink, Workers, as_view, purge_queue, require_redis, scope_of, staff, submit, unique_queue
from jobs_helpers import zgierz as tenant_zgierz

from komunikator.engine.delivery.worker import DELIVER, make_app, task_name
from komunikator.engine.lists import jobs
from komunikator.engine.lists.view import open_view
from komunikator.engine.store.models import ListExport

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
NOW = datetime(2026, 11, 6, 13, 0, tzinfo=UTC)


@pytest.fixture
def queue() -> Iterator[str]:
    broker = require_redis()
    name = unique_queue()
    yield name
    purge_queue(broker, name)


async def test_a_celery_worker_writes_the_export_and_the_requester_gets_the_link(
    db: str, db_backend: str, queue: str, tmp_path: Path,
) -> None:
    if db_backend != "postgres":
        pytest.skip("a worker process on the test's database: runs on PostgreSQL (KOMUNIKATOR_TEST_DB=postgres)")
    broker = require_redis()
    scope = await scope_of()
    for n in range(3):
        await submit(scope, NOW, email=f"mieszkaniec{n}@example.pl")
    user = await staff(scope, "eksport@zgierz.example.pl", "bom:dispatcher")
    view = open_view(tenant_zgierz(), await as_view(scope, user), "tickets", filter_text=None, sort=None, columns=None)
    row = await jobs.request_export(scope, tenant_zgierz(), await as_view(scope, user), view, "xlsx", "en", NOW, 3)
    folder = tmp_path / "exports"
    sink = SmtpSink().start()
    workers = Workers(tmp_path, {"KOMUNIKATOR_DATABASE_URL": db, "KOMUNIKATOR_BROKER_URL": broker,
                                 "KOMUNIKATOR_QUEUE": queue, "KOMUNIKATOR_JOBS": "celery",
                                 jobs.DIR_ENV: str(folder), **sink.env()})
    beat = make_app(broker, queue)
    try:
        workers.start("--pool", "solo")
        deadline = time.monotonic() + 60
        while (await scope.get(ListExport, id=row.id)).status != "done":
            assert time.monotonic() < deadline, workers.log(0)[-3000:]
            beat.send_task(task_name("exports"))
            await asyncio.sleep(1)
        beat.send_task(DELIVER)
        await sink.wait_for(lambda s: bool(s.to("eksport@zgierz.example.pl")), 60, "the export's e-mail")
    finally:
        workers.stop_all()
        sink.stop()
    done = await scope.get(ListExport, id=row.id)
    assert done.rows == 3 and done.file_name is not None
    sheet = openpyxl.load_workbook(folder / done.file_name).worksheets[0]
    assert sheet.max_row == 4  # the heading and the three tickets
    mail = sink.to("eksport@zgierz.example.pl")[0]
    assert "is ready" in mail.subject and f"/staff/exports/{row.id}" in mail.body and "3 rows" in mail.body
