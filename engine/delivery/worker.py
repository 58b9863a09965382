"""The Celery app: production's job runner (`komunikator worker`, `komunikator beat`).

Celery only rings the bell. Every job of the registry
(`komunikator.engine.jobs`: `deliver`, `timers`, `digests`, `media_gc` and
the plugins' jobs) is a task `komunikator.<job>` the beat rings at the job's
period; the job functions find their work in the database: the outbox rows
and their leases, armed timers, digests not yet written, photo files no row
names. A lost or
duplicated task costs nothing, so Celery's own redelivery is not relied on
(tasks are acknowledged on receipt); the beat rings every few seconds.

Each worker process makes one `StoreRunner` (one event loop with Tortoise
initialised on it) and compiles the tenants once: at `worker_process_init`
in a prefork child, on the first task in a solo worker; it closes the runner
at `worker_process_shutdown` / `worker_shutdown`.

Environment:

| variable | default | meaning |
| --- | --- | --- |
| `KOMUNIKATOR_BROKER_URL` | `redis://127.0.0.1:6379/0` | the broker (`amqp://…` for RabbitMQ works too) |
| `KOMUNIKATOR_QUEUE` | `komunikator` | the queue the tasks go to and workers consume |
| `KOMUNIKATOR_DELIVERY_LEASE` | `300` | seconds a worker holds the outbox rows it claimed |
| `KOMUNIKATOR_DELIVERY_BATCH` | `100` | rows claimed at a time |

plus the database (`KOMUNIKATOR_DATABASE_URL`), the tenants
(`KOMUNIKATOR_TENANTS`, …) and SMTP (`KOMUNIKATOR_SMTP_*`).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown, worker_shutdown

from komunikator.engine.config.registry import JobDef
from komunikator.engine.jobs import JobContext, all_jobs
from komunikator.engine.settings import Settings, env_int, env_number
from komunikator.engine.store.runner import StoreRunner
from komunikator.engine.tenants import TenantRegistry

log = logging.getLogger(__name__)

BROKER_ENV = "KOMUNIKATOR_BROKER_URL"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
QUEUE_ENV = "KOMUNIKATOR_QUEUE"
DEFAULT_QUEUE = "komunikator"
LEASE_ENV = "KOMUNIKATOR_DELIVERY_LEASE"
BATCH_ENV = "KOMUNIKATOR_DELIVERY_BATCH"



def task_name(job: str) -> str:
    """The Celery task that runs a job of the registry (`deliver` → `komunikator.deliver`)."""
    return f"komunikator.{job}"


DELIVER = task_name("deliver")
#: A bell rung after a commit that nobody answered within this many seconds is dropped.
BELL_EXPIRES = 60.0
#: One `deliver` task drains the outbox for at most this long, then leaves the rest to the next bell.
DRAIN_SECONDS = 60.0


def broker_url() -> str:
    """The broker URL (`KOMUNIKATOR_BROKER_URL` or the local Redis)."""
    return os.environ.get(BROKER_ENV) or DEFAULT_BROKER_URL


def redacted_broker_url() -> str:
    """The broker URL without its password, for logs."""
    parts = urlsplit(broker_url())
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return broker_url()


def queue_name() -> str:
    """The queue tasks go to and workers consume."""
    return os.environ.get(QUEUE_ENV) or DEFAULT_QUEUE


def make_app(broker: str | None = None, queue: str | None = None) -> Celery:
    """A Celery app on `broker` (default: `broker_url()`) sending to `queue` (default: `queue_name()`)."""
    app = Celery("komunikator", broker=broker or broker_url(), set_as_current=False)
    app.conf.update(
        task_default_queue=queue or queue_name(),
        task_ignore_result=True,
        task_acks_late=False,  # the outbox's leases make a lost task harmless
        worker_prefetch_multiplier=1,
        worker_proc_alive_timeout=60.0,  # compiling the tenants at process start takes a few seconds
        broker_connection_retry_on_startup=True,
        # a publish to a broker that is down gives up quickly; the beat rings again
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2,
                                   "interval_max": 0.5},
        broker_transport_options={"socket_connect_timeout": 2, "socket_timeout": 5},
        enable_utc=True,
        timezone="UTC",
        beat_schedule={
            job.name: {"task": task_name(job.name), "schedule": job.every, "options": {"expires": job.every}}
            for job in all_jobs().values()
        },
    )
    return app


@lru_cache(maxsize=4)
def _producer(broker: str, queue: str) -> Celery:
    return make_app(broker, queue)


def producer() -> Celery:
    """An app for sending tasks with the current environment's broker and queue (cached)."""
    return _producer(broker_url(), queue_name())


#: The app `komunikator worker` and `komunikator beat` run.
app = make_app()


# -- one store runner per worker process -------------------------------------------------------

_process: dict[str, Any] = {}


def _open() -> tuple[StoreRunner, TenantRegistry]:
    if "runner" not in _process:
        _process["registry"] = TenantRegistry.load(Settings.from_env())
        _process["runner"] = StoreRunner()
        _process["worker"] = f"{socket.gethostname()}:{os.getpid()}"
        log.info("worker process %s: store open, %d tenant(s)", _process["worker"], len(_process["registry"].tenants))
    return _process["runner"], _process["registry"]


def _close() -> None:
    runner: StoreRunner | None = _process.pop("runner", None)
    _process.clear()
    if runner is not None:
        runner.close()


@worker_process_init.connect
def _on_process_init(**_: Any) -> None:
    _open()


@worker_process_shutdown.connect
def _on_process_shutdown(**_: Any) -> None:
    _close()


@worker_shutdown.connect
def _on_worker_shutdown(**_: Any) -> None:
    _close()  # a solo worker ran its tasks in this process


def _now() -> datetime:
    return datetime.now(UTC)


# -- the tasks: one per job of the registry -----------------------------------------------------


def _task_for(job: JobDef) -> Callable[[], int]:
    def run() -> int:
        runner, registry = _open()
        context = JobContext(registry, _now(), worker=_process["worker"], budget=DRAIN_SECONDS,
                             lease=timedelta(seconds=env_number(LEASE_ENV, 300, minimum=1)),
                             batch=env_int(BATCH_ENV, 100, minimum=1))
        return runner.run(job.run(context))

    run.__name__ = run.__qualname__ = job.name.replace(".", "_")
    run.__doc__ = job.doc
    return run


#: Celery task per job (`komunikator.<job>`), what `komunikator jobs list` shows.
TASKS = {job.name: app.task(name=task_name(job.name))(_task_for(job)) for job in all_jobs().values()}
