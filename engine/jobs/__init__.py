"""The job registry: every scheduled job, the core's and the plugins', in one list both runners read.

A job is a `JobDef` (`config/registry.py`): a name, how often it runs and
an async function of a `JobContext`. The embedded runner (`delivery/embedded.py`,
one machine, SQLite) runs them on the web app's loop; Celery beat rings them
and workers run them (`delivery/worker.py`); `komunikator jobs list|run`
shows and runs them by hand. Jobs find their work in the database, so one
run twice, late or concurrently on several workers does no harm.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from komunikator.engine.config.registry import JobDef, Plugin, Registry, RegistryError
from komunikator.engine.tenants import TenantRegistry

#: Outbox rows claimed at a time by `deliver`.
DELIVERY_BATCH = 100


@dataclass(frozen=True)
class JobContext:
    """What a job runs with: the compiled cities, the moment, who runs it and for how long it may drain a backlog."""

    tenants: TenantRegistry
    now: datetime
    worker: str = "embedded"
    budget: float = 60.0  # seconds a draining job (deliver) may keep going before leaving the rest
    lease: timedelta = timedelta(minutes=5)
    batch: int = DELIVERY_BATCH

    def cities_with(self, plugin: str) -> list[str]:
        """Slugs of the cities that enabled `plugin` (what a plugin's job loops over)."""
        return [slug for slug, t in sorted(self.tenants.tenants.items()) if plugin in t.config.plugins]


async def _deliver(ctx: JobContext) -> int:
    from komunikator.engine.delivery.jobs import deliver_pending

    started, sent = time.monotonic(), 0
    while True:  # drain a backlog batch by batch, within the budget
        report = await deliver_pending(ctx.tenants, now=ctx.now, limit=ctx.batch, lease=ctx.lease, worker=ctx.worker)
        sent += report.sent
        if report.claimed < ctx.batch or time.monotonic() - started > ctx.budget:
            return sent


async def _timers(ctx: JobContext) -> int:
    from komunikator.engine.timers import fire_due_timers

    return await fire_due_timers(ctx.tenants, now=ctx.now)


async def _digests(ctx: JobContext) -> int:
    from komunikator.engine.delivery.digest import send_digests

    return await send_digests(ctx.tenants, now=ctx.now)


async def _media_gc(ctx: JobContext) -> int:
    from komunikator.engine.media.storage import LocalStorage
    from komunikator.engine.service.blob_gc import collect_orphans

    # files' ages are the machine's: the real time, not a test's clock
    return (await collect_orphans(LocalStorage.from_env(), datetime.now(UTC))).deleted


async def _open311_poll(ctx: JobContext) -> int:
    from komunikator.engine.open311.remote import poll

    return await poll(ctx.tenants, ctx.now)


async def _exports(ctx: JobContext) -> int:
    from komunikator.engine.lists.jobs import run_exports

    return await run_exports(ctx.tenants, now=ctx.now, worker=ctx.worker, budget=ctx.budget)


#: The core's jobs, in the order a round runs them.
CORE_JOBS: tuple[JobDef, ...] = (
    JobDef("deliver", "deliver pending notifications (e-mail, push) from the outbox", 10.0, _deliver),
    JobDef("timers", "fire due process timers and escalate overdue tickets and tasks", 30.0, _timers),
    JobDef("digests", "write the staff's daily digests at each city's hour", 300.0, _digests),
    JobDef("open311_poll", "read back the status of tasks handed to units' own Open311 servers", 60.0,
           _open311_poll),
    JobDef("exports", "write the big list exports staff asked for (e-mailing the link), delete expired ones", 5.0,
           _exports, background=True),
    JobDef("media_gc", "delete photo files no attachment names (older than an hour)", 3600.0, _media_gc),
)


def all_jobs(registry: Registry | None = None) -> Mapping[str, JobDef]:
    """The core's jobs, then each installed plugin's (named `<plugin>.<job>`), by name."""
    if registry is None:
        from komunikator.engine.config.builtins import default_registry

        registry = default_registry()
    return jobs_of(registry.plugins.values())


def jobs_of(plugins: Iterable[Plugin]) -> Mapping[str, JobDef]:
    """The core's jobs and `plugins`' jobs; a plugin's job must be named `<plugin>.<name>`, once."""
    table = {job.name: job for job in CORE_JOBS}
    for plugin in plugins:
        for job in plugin.jobs:
            if not job.name.startswith(f"{plugin.name}.") or job.name in table:
                raise RegistryError(f"job {job.name!r} of plugin {plugin.name!r} must be named "
                                    f"'{plugin.name}.<name>', once")
            table[job.name] = job
    return table


__all__ = ["CORE_JOBS", "JobContext", "all_jobs", "jobs_of"]
