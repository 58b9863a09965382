"""The bounded pool photos are decoded in, off the event loop (issue #12, 2).

Decoding a 40-megapixel PNG takes a second or more of CPU and over 100 MB
of memory. `asyncio.to_thread` would hand that to the loop's default
executor (up to 32 threads, shared with every other blocking call), so a
few parallel uploads could take every core and gigabytes at once. Here the
work goes to one small, dedicated pool per process:

- at most `KOMUNIKATOR_MEDIA_WORKERS` images (default 2) are decoded at a
  time; more wait their turn, so memory is bounded by the pool, not by the
  number of requests;
- after each image the C allocator is asked to return freed memory to the
  system (glibc's `malloc_trim`), so the process shrinks back after a burst
  instead of keeping its peak.

    image = await run_in_pool(images.process, data, limits)
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from komunikator.engine.settings import env_int

P = ParamSpec("P")
T = TypeVar("T")
DEFAULT_WORKERS = 2

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def workers_from_env() -> int:
    """`KOMUNIKATOR_MEDIA_WORKERS`: images decoded at once in one process (default 2)."""
    return env_int("KOMUNIKATOR_MEDIA_WORKERS", DEFAULT_WORKERS, minimum=1)


def pool() -> ThreadPoolExecutor:
    """The process's decoding pool (made on first use, sized from the environment)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=workers_from_env(), thread_name_prefix="komunikator-media")
        return _pool


def reset_pool() -> None:
    """Shut the pool down (it is made again, with the environment's size, on next use)."""
    global _pool
    with _lock:
        old, _pool = _pool, None
    if old is not None:
        old.shutdown(wait=True)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim  # glibc only
    except (OSError, AttributeError, TypeError):
        return None
    return trim


def release_memory() -> None:
    """Give freed heap memory back to the system, where the C library can (glibc)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _run_and_release(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    try:
        return fn(*args, **kwargs)
    finally:
        release_memory()


async def run_in_pool(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)` in the decoding pool; waits for a free worker when all are busy."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool(), functools.partial(_run_and_release, fn, *args, **kwargs))
