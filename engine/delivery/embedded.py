"""The in-process job runner of embedded mode (one machine, SQLite, the demo).

Production runs the job functions in Celery workers (`worker.py`); embedded
mode runs the same functions on the web app's own event loop, as a task the
app's lifespan starts and stops:

    runner = EmbeddedRunner(registry, clock=clock)
    runner.start()          # inside the running loop
    ...
    await runner.stop()     # before the database is closed

Every `interval` seconds, and at once when woken, the runner delivers the
outbox (batch after batch while there is a backlog, for at most the timers'
period at a time); every other job of the registry (`komunikator.engine.jobs`:
timers and escalations, digests, the photo collector, the plugins' jobs)
runs when its period has passed. A job marked `background` (a big export,
minutes long) is started beside the rounds instead, never twice at once,
so delivery and timers go on meanwhile. Whoever commits outbox rows may call
the module's `wake()` (the web API does, through `bell.ring()`) so delivery
does not wait for the next tick; waking is optional — the tick alone
delivers everything, a little later. A job that raises is logged and the
loop goes on; `stop()` lets the current round finish (or cancels it after
a timeout) and returns.

`jobs_mode(db_url)` says which runner a process uses: `KOMUNIKATOR_JOBS`
(`embedded`, `celery` or `off`) if set, else `embedded` on SQLite and
`celery` on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Literal

from komunikator.engine.config.registry import JobDef
from komunikator.engine.delivery.channels import close_channels
from komunikator.engine.delivery.jobs import default_channels
from komunikator.engine.jobs import JobContext, all_jobs
from komunikator.engine.store import db
from komunikator.engine.tenants import TenantRegistry

log = logging.getLogger(__name__)

JOBS_ENV = "KOMUNIKATOR_JOBS"
JobsMode = Literal["embedded", "celery", "off"]
_MODES: tuple[JobsMode, ...] = ("embedded", "celery", "off")
#: The job every round runs (and `wake()` asks for).
DELIVER = "deliver"

#: The runner started last in this process (what `wake()` wakes).
_current: EmbeddedRunner | None = None


def jobs_mode(db_url: str | None = None) -> JobsMode:
    """Who runs the jobs: `KOMUNIKATOR_JOBS`, else `embedded` on SQLite and `celery` otherwise."""
    mode = os.environ.get(JOBS_ENV, "").strip().lower()
    if mode:
        if mode not in _MODES:
            raise ValueError(f"{JOBS_ENV} must be one of {', '.join(_MODES)}, not {mode!r}")
        return mode
    return "embedded" if db.dialect(db_url or db.database_url()) == "sqlite" else "celery"


def wake() -> bool:
    """Have the running embedded runner deliver now; False when none runs in this process.

    Safe to call from any thread.
    """
    runner = _current
    if runner is None or not runner.running:
        return False
    runner.wake()
    return True


def _utc_now() -> datetime:
    return datetime.now(UTC)


class EmbeddedRunner:
    """Runs the registry's jobs (`komunikator.engine.jobs`) on the current event loop until stopped."""

    def __init__(
        self,
        registry: TenantRegistry,
        *,
        clock: Callable[[], datetime] = _utc_now,
        interval: float = 3.0,
        jobs: Mapping[str, JobDef] | None = None,
    ) -> None:
        self.registry = registry
        self.clock = clock
        self.interval = interval
        self.jobs = dict(jobs if jobs is not None else all_jobs())
        self.rounds = 0  # completed rounds, for tests and diagnostics
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken: asyncio.Event | None = None
        self._stopping = False
        self._last_run: dict[str, float] = {}
        #: the background jobs running beside the rounds, by name
        self._beside: dict[str, asyncio.Task[None]] = {}

    @property
    def running(self) -> bool:
        """Whether the loop task is alive."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the loop as a task of the running event loop; `wake()` reaches it from now on."""
        global _current
        if self.running:
            return
        self._loop = asyncio.get_running_loop()
        self._woken = asyncio.Event()
        self._stopping = False
        self._task = self._loop.create_task(self._run(), name="komunikator-embedded-jobs")
        _current = self

    def wake(self) -> None:
        """Run a delivery round now (from any thread)."""
        loop, woken = self._loop, self._woken
        if loop is None or woken is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            woken.set()
        else:
            loop.call_soon_threadsafe(woken.set)

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the current round (cancel it after `timeout` seconds) and end the loop."""
        global _current
        if _current is self:
            _current = None
        task = self._task
        if task is None:
            return
        self._stopping = True
        self.wake()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            log.warning("the embedded job runner did not stop within %s s: cancelling it", timeout)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None
        await self._stop_beside(timeout)
        await self._close_channels()

    async def _stop_beside(self, timeout: float) -> None:
        """Let the background jobs finish (a job's lease lets another run start what a cancelled one left)."""
        running = [task for task in self._beside.values() if not task.done()]
        if running:
            _, late = await asyncio.wait(running, timeout=timeout)
            for task in late:
                log.warning("the background job %s did not finish within %s s: cancelling it", task.get_name(),
                            timeout)
                task.cancel()
            for task in late:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._beside.clear()

    async def run_once(self, *, everything: bool = True) -> None:
        """One round: `deliver` always (woken rounds exist for it); every other job when `everything`
        or when its period (`JobDef.every`) has passed since it last ran. A background job is started
        beside the round (unless it still runs); a whole round (`everything`: tests, a command) waits for
        it too."""
        beside = []
        for name, job in self.jobs.items():
            last = self._last_run.get(name)
            if name == DELIVER or everything or last is None or time.monotonic() - last >= job.every:
                if job.background:
                    running = self._beside.get(name)
                    if running is not None and not running.done():
                        continue  # never two at once: it is due again once it has finished
                    self._last_run[name] = time.monotonic()
                    self._beside[name] = asyncio.get_running_loop().create_task(
                        self._guarded(name, job), name=f"komunikator-job-{name}")
                    beside.append(self._beside[name])
                    continue
                self._last_run[name] = time.monotonic()
                await self._guarded(name, job)
        if everything and beside:
            await asyncio.gather(*beside)
        self.rounds += 1

    async def _run(self) -> None:
        woken = self._woken
        if woken is None:
            raise RuntimeError("start() the runner first")
        log.info("embedded job runner started (every %s s)", self.interval)
        while True:
            await self.run_once(everything=False)
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), self.interval)
            woken.clear()
        log.info("embedded job runner stopped")

    async def _guarded(self, name: str, job: JobDef) -> None:
        # a backlog is drained for at most the timers' period, so timers still run on time
        budget = self.jobs["timers"].every if "timers" in self.jobs else 30.0
        context = JobContext(self.registry, self.clock(), worker="embedded", budget=budget)
        try:
            await job.run(context)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failing job must never end the loop
            log.exception("embedded job %r failed; it runs again on the next round", name)

    async def _close_channels(self) -> None:
        try:
            await close_channels(default_channels())  # say QUIT: the connection belongs to this loop
        except Exception:
            log.exception("closing the delivery channels failed")
