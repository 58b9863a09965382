"""Embedded mode: the web app on SQLite delivers by itself, with no broker anywhere."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from jobs_helpers import SmtpSink, registry

from komunikator.engine.config.registry import JobDef
from komunikator.engine.delivery import embedded, jobs
from komunikator.engine.delivery.embedded import EmbeddedRunner, jobs_mode
from komunikator.engine.jobs import JobContext
from komunikator.engine.store import db
from komunikator.engine.store.runner import StoreRunner
from komunikator.web.app import create_app

pytestmark = pytest.mark.anyio


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite file of this test's own (embedded mode is SQLite, whatever the run's database)."""
    url = f"sqlite://{tmp_path / 'embedded.sqlite3'}"
    with StoreRunner(url, init=False) as runner:
        runner.run(db.upgrade(url))
    return url


@pytest.fixture
def sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    server = SmtpSink().start()
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(jobs, "_default_channels", None)  # made again from the environment above
    yield server
    server.stop()


async def test_the_app_on_sqlite_delivers_a_receipt_with_no_redis(
    sqlite_url: str, sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(embedded.JOBS_ENV, raising=False)
    monkeypatch.setenv("KOMUNIKATOR_BROKER_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    assert jobs_mode(sqlite_url) == "embedded"
    app = create_app(registry(), database_url=sqlite_url)
    async with app.router.lifespan_context(app):
        runner: EmbeddedRunner = app.state.jobs
        assert runner.running
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                     headers={"Host": "zgierz.localhost"}) as client:
            response = await client.post("/api/v1/tickets", json={
                "category": "pothole", "description": "Dziura przy przystanku", "lat": 51.855, "lon": 19.406,
                "attributes": {"size": "medium"}, "reporter": {"name": "Jan", "email": "jan@example.pl"},
            })
            assert response.status_code == 201, response.text
            number = response.json()["number"]
            await sink.wait_for(lambda s: bool(s.to("jan@example.pl")), 15, "the receipt")
        [receipt] = sink.to("jan@example.pl")
        assert number in receipt.subject
    assert not runner.running  # the lifespan stopped it before closing the database


class _Probe(EmbeddedRunner):
    """A runner whose only job, `deliver`, fails once, then counts its calls; no database."""

    def __init__(self) -> None:
        self.calls = 0
        super().__init__(registry(), interval=60.0, jobs={"deliver": JobDef("deliver", "probe", 60.0, self._probe)})

    async def _probe(self, ctx: JobContext) -> int:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("SMTP exploded")
        return 0


async def _until(condition: object, timeout: float) -> float:
    started = time.monotonic()
    while not condition():  # type: ignore[operator]
        if time.monotonic() - started > timeout:
            pytest.fail(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def test_a_failing_job_is_logged_the_loop_goes_on_and_wake_runs_a_round_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runner = _Probe()
    with caplog.at_level(logging.ERROR, logger="komunikator.engine.delivery.embedded"):
        runner.start()
        await _until(lambda: runner.rounds == 1, 5)
    assert "embedded job 'deliver' failed" in caplog.text
    assert runner.running

    # the next tick is a minute away: only waking explains a second round now
    assert embedded.wake() is True
    took = await _until(lambda: runner.rounds == 2, 5)
    assert took < 5 and runner.calls == 2
    await runner.stop()
    assert not runner.running
    assert embedded.wake() is False  # nobody to wake any more


async def test_a_background_job_runs_beside_the_rounds_never_twice_at_once() -> None:
    """A job marked `background` (a big export, minutes long) does not hold delivery back: rounds go on while
    it runs, it is not started again meanwhile, and stopping the runner waits for it."""
    release = asyncio.Event()
    started = []
    delivered = []

    async def long_export(ctx: JobContext) -> int:
        started.append(ctx.now)
        await release.wait()
        return 1

    async def deliver(ctx: JobContext) -> int:
        delivered.append(ctx.now)
        return 0

    runner = EmbeddedRunner(registry(), interval=0.02, jobs={
        "deliver": JobDef("deliver", "probe", 60.0, deliver),
        "exports": JobDef("exports", "probe", 0.0, long_export, background=True),  # due at every round
    })
    runner.start()
    await _until(lambda: runner.rounds >= 5, 5)
    assert len(started) == 1 and len(delivered) >= 5  # rounds went on; the export was not started again
    release.set()
    await _until(lambda: len(started) == 2, 5)  # finished: due again, started again
    await runner.stop()
    assert not runner.running


async def test_a_whole_round_waits_for_its_background_jobs() -> None:
    """`run_once()` (tests, `komunikator jobs run`) returns when everything it started has finished."""
    finished = []

    async def export(ctx: JobContext) -> int:
        await asyncio.sleep(0.05)
        finished.append(True)
        return 1

    runner = EmbeddedRunner(registry(), jobs={"exports": JobDef("exports", "probe", 5.0, export, background=True)})
    await runner.run_once()
    assert finished == [True]
