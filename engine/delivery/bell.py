"""Ring the bell after a commit: have new outbox rows delivered soon.

The outbox is the queue; ringing only shortens the wait. Call `ring()` after
the transaction that wrote outbox rows has committed:

- in embedded mode it wakes the in-process runner (`embedded.wake()`);
- with `KOMUNIKATOR_JOBS=celery` it posts a `deliver` task to the broker, on
  a background thread, so a slow or unreachable broker never delays (nor
  fails) the request: the error is logged and the periodic beat delivers the
  rows later;
- otherwise it does nothing.

Rings that arrive while one is still waiting to be posted are merged into it.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from komunikator.engine.delivery import embedded

log = logging.getLogger(__name__)

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="komunikator-bell")
_lock = threading.Lock()
_queued: Future[bool] | None = None


def ring() -> None:
    """Have pending outbox rows delivered soon (never raises, never blocks on the broker)."""
    global _queued
    if embedded.wake():
        return
    if os.environ.get(embedded.JOBS_ENV, "").strip().lower() != "celery":
        return
    with _lock:
        if _queued is not None and not _queued.running() and not _queued.done():
            return  # a post is already waiting: it covers this ring too
        _queued = _executor.submit(_post)


def flush(timeout: float = 10.0) -> bool | None:
    """Wait for the last queued post (tests); its result: True posted, False failed, None if none."""
    with _lock:
        queued = _queued
    return queued.result(timeout) if queued is not None else None


def _post() -> bool:
    from komunikator.engine.delivery import worker  # Celery is imported only where it is used

    try:
        worker.producer().send_task(worker.DELIVER, expires=worker.BELL_EXPIRES)
    except Exception as error:  # noqa: BLE001 - whatever the broker did, the beat delivers later
        log.warning("could not ring the delivery bell on %s (%s: %s); the periodic run delivers the rows",
                    worker.redacted_broker_url(), type(error).__name__, error)
        return False
    return True
