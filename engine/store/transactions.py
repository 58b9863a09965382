"""Transactions without Tortoise outside the store: `async with transaction():` and `savepoint()`.

Inside a transaction every query through a `TenantScope` runs on the
transaction's connection. Nested, `transaction()` is a savepoint: its
failure rolls back only what it wrote. `savepoint()` is one that turns a
unique-key clash into the store's `Duplicate`, for writes that are
idempotent by key (the rest of the outer transaction goes on).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from komunikator.engine.store import db
from komunikator.engine.store.errors import Duplicate


@asynccontextmanager
async def transaction() -> AsyncIterator[None]:
    """One transaction (a savepoint when nested); committed when the block ends, rolled back if it raises."""
    async with in_transaction(db.CONNECTION):
        yield


@asynccontextmanager
async def savepoint() -> AsyncIterator[None]:
    """A nested transaction whose unique-key clash becomes `Duplicate` (and undoes only its own writes)."""
    try:
        async with in_transaction(db.CONNECTION):
            yield
    except IntegrityError as error:
        raise Duplicate(str(error)) from error
